import { formatDuration } from '../duration.js';
import { DeploymentFailed } from '../errors.js';
import { measureRound, monitor } from '../../healthchecks/monitor.js';
import type { CheckTarget, Measurement } from '../../healthchecks/types.js';
import type { FleetInfo } from '../providers/types.js';
import type { ControllerContext } from './context.js';

const progressEveryMs = 2000;

function checkTargets(fleet: FleetInfo): CheckTarget[] {
  return (fleet.checkEndpoints ?? fleet.instances).flatMap((i) => (i.url ? [{ id: i.id, url: i.url }] : []));
}

/** Waits until every instance passes its checks; fails on the first unhealthy one or at the deadline. */
export async function waitHealthy(ctx: ControllerContext, fleet: FleetInfo, deadline: number): Promise<void> {
  const targets = checkTargets(fleet);
  const hc = ctx.healthCheck;
  const started = ctx.clock.now();
  let lastProgress = started;
  ctx.events.info(
    'health.waiting',
    `checking ${targets.length} instances of ${fleet.version}: GET ${hc.path}`,
    {
      fleet: fleet.id,
    },
  );
  const result = await monitor(targets, 'until-healthy', deadline, {
    ...hc,
    clock: ctx.clock,
    signal: ctx.signal,
    probe: ctx.probe,
    onRound: (verdicts) => {
      const now = ctx.clock.now();
      if (now - lastProgress < progressEveryMs) return;
      lastProgress = now;
      const healthy = [...verdicts.values()].filter((v) => v === 'healthy').length;
      ctx.events.info(
        'health.waiting',
        `${healthy}/${targets.length} healthy after ${formatDuration(now - started)} (gives up after ${formatDuration(deadline - started)})`,
        { fleet: fleet.id, healthy, total: targets.length },
      );
    },
  });
  if (result.kind === 'healthy') {
    ctx.events.info('health.passed', `all ${targets.length} instances of ${fleet.version} are healthy`, {
      fleet: fleet.id,
    });
    return;
  }
  if (result.kind === 'unhealthy') {
    ctx.events.error(
      'health.failed',
      `instance ${result.instance} of ${fleet.version} is unhealthy: ${result.measurement.detail}`,
      {
        fleet: fleet.id,
      },
    );
    throw new DeploymentFailed(
      'GREEN_UNHEALTHY',
      `version \`${fleet.version}\` failed its health check: instance ${result.instance}: ${result.measurement.detail}`,
      'fix the version, then deploy again; the instance logs say why it answers so',
    );
  }
  const detail =
    result.kind === 'timed-out' ? result.pending.map((m) => `${m.instance}: ${m.detail}`).join('; ') : '';
  ctx.events.error('health.failed', `version ${fleet.version} was not healthy in time: ${detail}`, {
    fleet: fleet.id,
  });
  throw new DeploymentFailed(
    'GREEN_NOT_READY',
    `version \`${fleet.version}\` was not healthy within ${formatDuration(hc.readyTimeout)}: ${detail}`,
    'raise healthCheck.readyTimeout if it starts slowly, or check the instance logs',
  );
}

/** Keeps checking a fleet that takes traffic for `duration`; fails as soon as an instance turns unhealthy. */
export async function watchHealthy(
  ctx: ControllerContext,
  fleet: FleetInfo,
  duration: number,
  /** The same map across a deploy's steps and bake: one continuous watch, cut into pieces. */
  history?: Map<string, Measurement[]>,
): Promise<void> {
  const result = await monitor(checkTargets(fleet), 'watch', ctx.clock.now() + duration, {
    ...ctx.healthCheck,
    ...(history ? { history } : {}),
    clock: ctx.clock,
    signal: ctx.signal,
    probe: ctx.probe,
    native: () => ctx.target.fleet.health(fleet.id),
  });
  if (result.kind === 'unhealthy') {
    ctx.events.error(
      'health.failed',
      `instance ${result.instance} of ${fleet.version} turned unhealthy: ${result.measurement.detail}`,
      {
        fleet: fleet.id,
      },
    );
    throw new DeploymentFailed(
      'GREEN_UNHEALTHY',
      `version \`${fleet.version}\` turned unhealthy while taking traffic: instance ${result.instance}: ${result.measurement.detail}`,
      'traffic is back on the previous version; check the instance logs',
    );
  }
}

/**
 * One round of probes, for a rollback that must be quick: every instance that may serve must pass now.
 * Instances the target itself holds out of serving (a host HAProxy's own checks hold down; an instance
 * not InService) take no traffic whatever the weights say, so they are reported but not waited for.
 */
export async function checkOnce(ctx: ControllerContext, fleet: FleetInfo): Promise<void> {
  const serving = fleet.instances.filter((i) => i.up !== false);
  if (serving.length === 0) {
    throw new DeploymentFailed(
      fleet.instances.length === 0 ? 'NO_INSTANCES' : 'STANDBY_UNHEALTHY',
      fleet.instances.length === 0
        ? `fleet of \`${fleet.version}\` has no instance to send traffic to`
        : `standby \`${fleet.version}\` has no instance up: ${fleet.instances.map((i) => i.id).join(', ')} are all down`,
      'traffic stays where it is; deploy a known-good version instead',
    );
  }
  const held = fleet.instances.filter((i) => i.up === false).map((i) => i.id);
  if (held.length > 0) {
    ctx.events.warn(
      'health.skipped',
      `${held.join(', ')} of ${fleet.version} ${held.length === 1 ? 'is' : 'are'} down and will take no traffic; checking the ${serving.length} up`,
      { fleet: fleet.id, down: held },
    );
  }
  // Instances the runner cannot reach (aws) are judged by the target's own view of their health.
  const round = await measureRound(checkTargets({ ...fleet, instances: serving }), ctx.probe, () =>
    ctx.target.fleet.health(fleet.id),
  );
  const failed = round.filter((m) => m.outcome !== 'pass' && !held.includes(m.instance));
  if (failed.length > 0) {
    throw new DeploymentFailed(
      'STANDBY_UNHEALTHY',
      `standby \`${fleet.version}\` is not healthy: ${failed.map((m) => `${m.instance}: ${m.detail}`).join('; ')}`,
      'traffic stays where it is; deploy a known-good version instead',
    );
  }
}
