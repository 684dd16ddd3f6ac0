import { formatDuration } from '../duration.js';
import { DeploymentFailed } from '../errors.js';
import { shiftChecksFrom } from '../../healthchecks/shift-checks.js';
import type { CheckReading, ShiftPhase } from '../../healthchecks/shift-types.js';
import { startShiftWatch, type ShiftWatch } from '../../healthchecks/shift-watch.js';
import type { FleetInfo } from '../providers/types.js';
import type { ControllerContext } from './context.js';

/**
 * The environment's `checks:` around one deploy's shift: started when green first takes traffic, told
 * each step, stopped when the bake ends. A failing reading aborts the deploy's waits (its `signal`),
 * and the deploy goes back to blue through its one way back, saying what was measured against what.
 */
export interface ShiftChecks {
  /** The deploy's waits run on this signal: the deploy's own, or a check's failure. */
  signal: AbortSignal;
  /** Green takes `weight`% now (at `step`; `bake` once it takes all and bakes). */
  at(phase: Omit<ShiftPhase, 'since' | 'greenSince'>): void;
  /** Checks that cannot tell pass from fail yet: a wait does not end on them. */
  inconclusive(): string[];
  /** The latest reading of each check, for the journal. */
  latest(): CheckReading[];
  stop(): Promise<void>;
}

/** Refuses, before anything changes, checks the target cannot serve (exit 2, naming the key). */
export async function validateShiftChecks(
  ctx: ControllerContext,
  version: string,
  deployment: string,
): Promise<void> {
  if (!ctx.checks) return;
  await shiftChecksFrom(ctx.checks.config, {
    target: ctx.target,
    green: deployment,
    body: { artifact: ctx.checks.artifact, environment: ctx.checks.environment, version, deployment },
    clock: ctx.clock,
  });
}

export async function shiftChecks(
  ctx: ControllerContext,
  green: FleetInfo,
  blue: FleetInfo | undefined,
  deployment: string,
  onReading: (reading: CheckReading, all: CheckReading[]) => void,
): Promise<ShiftChecks> {
  const failure = new AbortController();
  const signal = AbortSignal.any([ctx.signal, failure.signal]);
  // A first deploy shifts nothing: no one takes traffic yet, so an error rate could only read as
  // inconclusive and fail it. Its health checks still watch it through the bake.
  const configured = blue ? ctx.checks : undefined;
  const checks = configured
    ? await shiftChecksFrom(configured.config, {
        target: ctx.target,
        green: green.id,
        blue: blue?.id,
        body: {
          artifact: configured.artifact,
          environment: configured.environment,
          version: green.version,
          deployment,
        },
        clock: ctx.clock,
      })
    : [];
  let watch: ShiftWatch | undefined;
  let greenSince = 0;
  let weight = 0;
  return {
    signal,
    at(phase) {
      weight = phase.weight;
      if (checks.length === 0 || phase.weight === 0) return;
      const now = ctx.clock.now();
      const full: ShiftPhase = { ...phase, since: now, greenSince: greenSince || now };
      if (watch) return watch.setPhase(full);
      greenSince = now;
      watch = startShiftWatch(checks, {
        clock: ctx.clock,
        signal: ctx.signal,
        inconclusiveLimit: configured?.config.inconclusiveLimit ?? 3,
        phase: full,
        onReading: (reading) => onReading(reading, watch?.latest() ?? [reading]),
      });
      void watch.failed.then((reading) => {
        ctx.events.error(
          'check.failed',
          `${reading.check} failed with green at ${weight}%: ${reading.detail}`,
          {
            check: reading.check,
            weight,
            detail: reading.detail,
            ...(reading.value !== undefined ? { value: reading.value } : {}),
            ...(reading.threshold !== undefined ? { threshold: reading.threshold } : {}),
          },
        );
        failure.abort(
          new DeploymentFailed(
            'CHECK_FAILED',
            `check \`${reading.check}\` failed with \`${green.version}\` at ${weight}% of traffic: ${reading.detail}`,
            `traffic is back on the previous version; the check's configuration is \`checks.${reading.check}\`, read every ${formatDuration(configured?.config.interval ?? 0)}`,
          ),
        );
      });
    },
    inconclusive: () => watch?.inconclusive() ?? [],
    latest: () => watch?.latest() ?? [],
    stop: async () => {
      await watch?.stop();
    },
  };
}
