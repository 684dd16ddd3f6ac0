import { viewOf } from './fleets.js';
import { findParked, isExpired } from './parked.js';
import { whyNotServing } from './serving.js';
import { isStale, lockPath, readLock } from '../state/lock.js';
import type { ServiceRuntime } from './runtime.js';
import { previousVersion } from './previous-version.js';

/** The environment as `status` shows it, as a document and as lines for people. Reads only. */
export async function statusReport(runtime: ServiceRuntime) {
  const { service, stateDir, journal, ctx } = runtime;
  const fleets = await ctx.target.fleet.list();
  const weights = await ctx.target.router.readWeights();
  const view = viewOf(fleets, weights);
  const { standby } = view;
  // A green holding traffic has not gone live (it bakes, or its controller died): the fleet recorded
  // live is still the one a failure or an abort goes back to, so that is what `live` names.
  // A green taking any share (a canary at 10% too), not only one that took the larger share.
  const deploying = fleets.find((f) => f.role === 'green' && (weights[f.id] ?? 0) > 0);
  const live = view.live === deploying ? fleets.find((f) => f.role === 'live') : view.live;
  const failed = fleets.filter((f) => f.role === 'failed');
  const last = journal.latest();
  const lockFile = readLock(lockPath(stateDir, service.environment, service.artifact));
  const holder = lockFile.state === 'held' ? lockFile.holder : undefined;
  const stale = holder !== undefined && isStale(holder);
  // The lock every runner sees (hosts: on the load balancer host), when this runner's own is free.
  const shared = holder ? undefined : await ctx.target.lockHolder?.();
  const about = await ctx.target.describe();
  const parked = await findParked(ctx);
  // The step a deploy is at: its journal on this runner, else the green group's notes (aws).
  const deployingRecord = deploying
    ? journal.deployments().find((d) => d.deployment === deploying.deployment)
    : undefined;
  const notes =
    deploying && !deployingRecord
      ? await ctx.target.notes?.read(deploying.deployment).catch(() => undefined)
      : undefined;
  const step = deployingRecord?.step ?? (notes?.step !== undefined ? Number(notes.step) : undefined);
  const notServing = whyNotServing(fleets, weights, about.down);
  const status = {
    artifact: service.artifact,
    environment: service.environment,
    target: service.env.target,
    endpoint: await endpointOf(runtime),
    live: live ? { version: live.version, fleet: live.id, weight: weights[live.id] ?? 0 } : null,
    deploying: deploying
      ? {
          version: deploying.version,
          fleet: deploying.id,
          deployment: deploying.deployment,
          weight: weights[deploying.id] ?? 0,
          step: step ?? null,
          checks: deployingRecord?.checks ?? null,
        }
      : null,
    awaitingApproval: parked
      ? {
          deployment: parked.deployment,
          version: parked.version,
          until: new Date(parked.until).toISOString(),
          expired: isExpired(ctx, parked),
        }
      : null,
    standby: standby
      ? {
          version: standby.version,
          fleet: standby.id,
          until: standby.standbyUntil ? new Date(standby.standbyUntil).toISOString() : null,
        }
      : null,
    previousVersion: previousVersion(journal, live?.version) ?? live?.previousVersion ?? null,
    weights,
    fleets: fleets.map((f) => ({
      fleet: f.id,
      version: f.version,
      role: f.role,
      weight: weights[f.id] ?? 0,
      instances: f.instances,
    })),
    lastDeployment: last
      ? {
          id: last.deployment,
          kind: last.kind,
          version: last.version ?? null,
          phase: last.phase,
          startedAt: new Date(last.startedAt).toISOString(),
          reason: last.reason ?? null,
        }
      : null,
    lock: holder
      ? { ...holder, stale }
      : lockFile.state === 'unreadable'
        ? { unreadable: lockFile.path }
        : shared
          ? shared.holder
            ? { ...shared.holder, stale: shared.stale, where: shared.where }
            : { unreadable: shared.where }
          : null,
    targetDetails: about.details,
    warning: about.warning ?? null,
    serving: notServing === undefined,
    notServing: notServing ?? null,
  };
  const lines = [
    `${service.artifact} in ${service.environment} (${service.env.target}${status.endpoint ? `, ${status.endpoint}` : ''})`,
    `  live:     ${live ? `${live.version} (${weights[live.id] ?? 0}%, ${instanceCount(live.instances)})` : 'nothing takes traffic'}`,
  ];
  if (deploying) {
    lines.push(
      `  green:    ${deploying.version} takes ${weights[deploying.id]}%${step !== undefined ? ` at step ${step}` : ''} but is not live yet (deployment ${deploying.deployment}${holder && !stale ? ', running' : ctx.target.notes ? '; running on another runner, or its controller is gone: `cutover abort` asks it to stop, and undoes it if nothing answers' : '; its controller is gone: the next deploy, rollback or abort undoes it'})`,
    );
    for (const [name, reading] of Object.entries(deployingRecord?.checks ?? {}))
      lines.push(`  check:    ${name} ${reading.outcome}: ${reading.detail}`);
  }
  if (parked) {
    lines.push(
      isExpired(ctx, parked)
        ? `  approval: ${parked.version} (deployment ${parked.deployment}) waited for approval until ${status.awaitingApproval?.until}: expired; the next deploy, rollback, promote or abort undoes it`
        : `  approval: ${parked.version} (deployment ${parked.deployment}) is checked and waits for approval until ${status.awaitingApproval?.until}, with no traffic: cutover promote goes on, cutover abort undoes it`,
    );
  }
  lines.push(
    `  standby:  ${standby ? `${standby.version}${status.standby?.until ? ` until ${status.standby.until}` : ''}` : 'none'}`,
  );
  for (const f of failed)
    lines.push(`  failed:   ${f.version} (kept with --keep-failed; never takes traffic)`);
  // Being stopped now, or left when its stop failed (a host was unreachable): it takes no traffic, and
  // the next deploy stops it again.
  for (const f of fleets.filter((x) => x.role === 'retiring'))
    lines.push(
      `  retiring: ${f.version} (takes no traffic; being stopped, or its stop failed and the next deploy stops it)`,
    );
  lines.push(
    `  last:     ${last ? `${last.kind} ${last.version ?? ''} ${last.phase}${last.reason ? `: ${last.reason}` : ''} (${last.deployment})` : 'never deployed'}`,
  );
  if (holder) {
    lines.push(
      `  locked:   by ${holder.command} ${holder.deployment} (pid ${holder.pid} on ${holder.host}${stale ? ', gone: the next command breaks this lock' : ''})`,
    );
  } else if (lockFile.state === 'unreadable') {
    lines.push(`  locked:   by ${lockFile.path}, which names no holder (cutover unlock removes it)`);
  } else if (shared?.holder) {
    const h = shared.holder;
    lines.push(
      `  locked:   by ${h.command} ${h.deployment} (pid ${h.pid} on ${h.host}${shared.stale ? ', gone: the next command breaks this lock' : ''}), at ${shared.where}`,
    );
  } else if (shared) {
    lines.push(`  locked:   by ${shared.where}, which names no holder (cutover unlock removes it)`);
  }
  // The local data plane's processes: what on-call looks at first when the router does not answer.
  const agent = about.details.agent;
  if (typeof agent === 'string' && agent.startsWith('running,')) lines.push(`  agent:    ${agent}`);
  if (about.warning) lines.push(`  warning:  ${about.warning}`);
  if (notServing) lines.push(`  serving:  no: ${notServing}`);
  return { status, text: lines.join('\n'), notServing };
}

const endpoints = new WeakMap<ServiceRuntime, Promise<string | undefined>>();

/** Where users reach the environment, when the target can say: read once, `status --watch` asks often. */
function endpointOf(runtime: ServiceRuntime): Promise<string | undefined> {
  let known = endpoints.get(runtime);
  if (!known) {
    known = (runtime.ctx.target.publicUrl?.() ?? Promise.resolve(undefined))
      .then((url) => (url === undefined || url.endsWith('/') ? url : `${url}/`))
      .catch(() => undefined);
    endpoints.set(runtime, known);
  }
  return known;
}

/** What `status --json` prints as its body, and the library's status result carries. */
export type StatusDocument = Awaited<ReturnType<typeof statusReport>>['status'];
/** "2 instances", or "2 instances, 1 up" when the target says some are not: a restarting one is not serving. */
function instanceCount(instances: { up?: boolean }[]): string {
  const up = instances.filter((i) => i.up !== false).length;
  const count = `${instances.length} instance${instances.length === 1 ? '' : 's'}`;
  return up === instances.length ? count : `${count}, ${up} up`;
}
