import { availableParallelism } from 'node:os';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from './agent.js';
import { AgentExit } from './agent-exit.js';
import { AgentClient } from './agent-client.js';
import { createControlServer, listenOwnerOnly } from './control.js';
import { CutoverError } from '../../errors.js';
import { claimLockFile, isStale, readLock } from '../../state/lock.js';
import { agentPaths } from './paths.js';
import { refuseSharedStateFolders } from './private-folders.js';
import { RouterPool } from './router-pool.js';
import { openInProcess } from './service-router.js';

/**
 * The local agent's process: the control socket, the supervisor and the router workers. Started either
 * detached under the CLI's watchdog (agent-main.js) or in the foreground by `cutover agent` for a service
 * manager. It exits 0 when the last environment is brought down or on SIGTERM, leaving fleets running for
 * the next agent to re-adopt.
 */

export interface AgentProcessOptions {
  stateDir: string;
  /** Run by a service manager: marks the folder so the CLI waits for this agent instead of starting one. */
  managed: boolean;
  /**
   * Started by the watchdog in place of an agent that died: with no environment recorded (a `down` that
   * ran meanwhile) it has nothing to serve and stops, rather than run idle.
   */
  restart?: boolean;
}

/**
 * One agent a state folder. A lock that cannot even be written (a full disk) does not keep the routers
 * down: the agent runs without it, since the CLI asks the control socket before it starts another.
 */
function claimAgentLock(
  path: string,
  log: (line: string) => void,
): ReturnType<typeof claimLockFile> | undefined {
  try {
    return claimLockFile(path, { deployment: 'agent', command: 'agent', startedAt: Date.now() });
  } catch (error) {
    log(`could not write ${path} (${(error as Error).message}); running without it, and trying again`);
    return undefined;
  }
}

export function routerWorkerCount(env: NodeJS.ProcessEnv = process.env): number {
  const configured = env.CUTOVER_ROUTER_WORKERS;
  if (configured !== undefined && /^\d+$/.test(configured)) return Number(configured);
  // One core: routing in the agent itself saves a process that would only compete with it.
  const cores = availableParallelism();
  return cores > 1 ? cores : 0;
}

export async function runAgent(options: AgentProcessOptions): Promise<number> {
  const paths = agentPaths(options.stateDir);
  const log = (line: string) => console.error(`${new Date().toISOString()} agent ${process.pid}: ${line}`);
  try {
    refuseSharedStateFolders(options.stateDir);
  } catch (error) {
    if (!(error instanceof CutoverError)) throw error;
    log(`refused to start: ${error.message}; ${error.hint ?? ''}`);
    return AgentExit.refused;
  }
  // Written to a log on a full disk, stdout and stderr fail: the agent goes on routing without its log.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  // The socket first: an agent that could not write its lock (a full disk) still answers there.
  if (await new AgentClient(options.stateDir).isRunning()) {
    log(`another agent already answers on ${paths.socket}; this one stops`);
    return AgentExit.anotherRuns;
  }
  let claim = claimAgentLock(paths.agentLock, log);
  if (claim && !('taken' in claim)) {
    const holder = claim.held.state === 'held' ? `pid ${claim.held.holder.pid}` : `\`${paths.agentLock}\``;
    log(`another agent (${holder}) already runs for ${options.stateDir}; this one stops`);
    return AgentExit.anotherRuns;
  }
  // Without its lock the agent keeps trying to take it: otherwise a later starter would find the dead
  // agent's lock, take it as stale, and start beside this one.
  const lockRetry = setInterval(() => {
    if (claim) return clearInterval(lockRetry);
    claim = claimAgentLock(paths.agentLock, () => {});
    if (claim && 'taken' in claim) log(`holds ${paths.agentLock} again`);
  }, 1000);
  lockRetry.unref();
  const releaseLock = () => {
    clearInterval(lockRetry);
    if (claim && 'taken' in claim) claim.taken.release();
  };
  if (options.managed) {
    try {
      writeFileSync(paths.managed, `${process.pid}\n`, { mode: 0o600 });
    } catch (error) {
      log(
        `could not mark ${paths.managed} (${(error as Error).message}): a CLI may start its own agent while this one restarts`,
      );
    }
  }

  // The agent keeps routing through its own faults: a stray rejection is logged, not fatal.
  process.on('unhandledRejection', (reason) =>
    log(
      `unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
    ),
  );

  const workers = routerWorkerCount();
  const pool = workers > 0 ? new RouterPool(workers, log) : undefined;
  const workersStarted = pool?.start();
  let shuttingDown = false;
  let done: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (done = resolve));
  const agent = new Agent({
    stateFile: paths.state,
    logDir: paths.logs,
    openRouter: pool?.open ?? openInProcess,
    log,
  });
  const shutdown = async (why: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`stopping: ${why}`);
    server.close();
    await agent.stop();
    await pool?.stop();
    releaseLock();
    // Stopped on purpose: until a service manager starts it again, the CLI may start its own.
    if (options.managed) rmSync(paths.managed, { force: true });
    done(AgentExit.stopped);
  };
  const server = createControlServer(
    agent,
    () => {
      if (agent.serviceCount() === 0) setImmediate(() => void shutdown('no environment left'));
    },
    () => {
      const watchdog = readLock(paths.watchdogLock);
      return {
        watchdog: watchdog.state === 'held' && !isStale(watchdog.holder) ? watchdog.holder.pid : undefined,
        managed: options.managed,
        workers: pool?.pids() ?? [],
      };
    },
  );
  await agent.start();
  await workersStarted;
  if (options.restart && agent.serviceCount() === 0) {
    log('restarted with no environment to serve; stopping');
    await pool?.stop();
    releaseLock();
    return AgentExit.stopped;
  }
  if (agent.stateProblem) log(`state: ${agent.stateProblem}`);
  await listenOwnerOnly(server, paths.dir, paths.socket);
  log(`listening on ${paths.socket} with ${workers || 'no'} router worker${workers === 1 ? '' : 's'}`);
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => {});
  return finished;
}
