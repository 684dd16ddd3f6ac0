import { viewOf } from '../../controller/fleets.js';
import { findParked, isExpired } from '../../controller/parked.js';
import { whyNotServing } from '../../controller/serving.js';
import { isStale, lockPath, readLock } from '../../state/lock.js';
import { ExitCode } from '../exit-codes.js';
import type { Command } from '../command.js';
import { serviceRuntime } from '../runtime.js';
import { previousVersion } from './history.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'show which version takes traffic, the standby, and the last deployment (reads only)',
  spec: { words: ['artifact', 'environment'], required: ['artifact', 'environment'], flags: [], options: [] },
  help: `Usage: cutover status artifact=NAME environment=NAME [--json]

Shows the live version and its weight, the standby and when its rollback window closes, every fleet
with its instances, the last deployment and its result, and who holds the lock. It changes nothing and
starts nothing. With --json it prints one JSON object on stdout.

Exits 0 when the environment is served: a fleet takes traffic and at least one of its instances runs.
Exits 1, saying why (\`serving: false\` and \`notServing\` in --json), when nothing serves it: nothing
deployed, no fleet with traffic, no running instance in the live fleet, or the local agent not running.`,

  async run(args, io) {
    const { service, stateDir, journal, ctx } = await serviceRuntime(args, io.events, io.signal);
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
    const about = await ctx.target.describe();
    const parked = await findParked(ctx);
    const notServing = whyNotServing(fleets, weights, about.down);
    const status = {
      artifact: service.artifact,
      environment: service.environment,
      target: service.env.target,
      endpoint: service.env.target === 'local' ? `http://${service.env.listen}/` : undefined,
      live: live ? { version: live.version, fleet: live.id, weight: weights[live.id] ?? 0 } : null,
      deploying: deploying
        ? {
            version: deploying.version,
            fleet: deploying.id,
            deployment: deploying.deployment,
            weight: weights[deploying.id] ?? 0,
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
          : null,
      targetDetails: about.details,
      warning: about.warning ?? null,
      serving: notServing === undefined,
      notServing: notServing ?? null,
    };
    // A pipeline can gate on `cutover status` as a smoke check: 1 means nothing answers this environment.
    const exitCode = notServing === undefined ? ExitCode.ok : ExitCode.failed;
    if (notServing) {
      io.events.warn('status.not_serving', `nothing serves ${service.environment}: ${notServing}`, {
        reason: notServing,
      });
    }
    if (io.json) {
      io.out(JSON.stringify(status, null, 2));
      return exitCode;
    }
    const lines = [
      `${service.artifact} in ${service.environment} (${service.env.target}${status.endpoint ? `, ${status.endpoint}` : ''})`,
      `  live:     ${live ? `${live.version} (${weights[live.id] ?? 0}%, ${instanceCount(live.instances)})` : 'nothing takes traffic'}`,
    ];
    if (deploying) {
      lines.push(
        `  green:    ${deploying.version} takes ${weights[deploying.id]}% but is not live yet (deployment ${deploying.deployment}${holder && !stale ? ', running' : '; its controller is gone: the next deploy, rollback or abort undoes it'})`,
      );
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
    lines.push(
      `  last:     ${last ? `${last.kind} ${last.version ?? ''} ${last.phase}${last.reason ? `: ${last.reason}` : ''} (${last.deployment})` : 'never deployed'}`,
    );
    if (holder) {
      lines.push(
        `  locked:   by ${holder.command} ${holder.deployment} (pid ${holder.pid} on ${holder.host}${stale ? ', gone: the next command breaks this lock' : ''})`,
      );
    } else if (lockFile.state === 'unreadable') {
      lines.push(`  locked:   by ${lockFile.path}, which names no holder (cutover unlock removes it)`);
    }
    // The local data plane's processes: what on-call looks at first when the router does not answer.
    const agent = about.details.agent;
    if (typeof agent === 'string' && agent.startsWith('running,')) lines.push(`  agent:    ${agent}`);
    if (about.warning) lines.push(`  warning:  ${about.warning}`);
    if (notServing) lines.push(`  serving:  no: ${notServing}`);
    io.out(lines.join('\n'));
    return exitCode;
  },
};

/** "2 instances", or "2 instances, 1 up" when the target says some are not: a restarting one is not serving. */
function instanceCount(instances: { up?: boolean }[]): string {
  const up = instances.filter((i) => i.up !== false).length;
  const count = `${instances.length} instance${instances.length === 1 ? '' : 's'}`;
  return up === instances.length ? count : `${count}, ${up} up`;
}
