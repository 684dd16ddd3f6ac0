import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { claimLockFile, isStale, readLock } from '../../state/lock.js';
import { AgentExit } from './agent-exit.js';
import { compiledEntry, stateDirArgument } from './entry.js';
import { agentPaths } from './paths.js';
import { defaultRestartPolicy, restartDelayMs, streakAfterExit } from './restart-policy.js';

/**
 * The watchdog the CLI starts: it runs the agent and starts it again when it dies, and does nothing else,
 * so there is little in it to fail. Killing the watchdog leaves the agent (and its traffic) running. It
 * stops when the agent stops on purpose, when another agent already runs, or when its state folder is gone.
 */

const stateDir = stateDirArgument(process.argv);
const paths = agentPaths(stateDir);
const log = (line: string) => console.error(`${new Date().toISOString()} watchdog ${process.pid}: ${line}`);
// The routers stop with the agent, so the first restarts are immediate, and even a crash loop waits at
// most a second: an agent start costs about half a second of one core, a stopped router costs traffic.
const policy = { ...defaultRestartPolicy, baseMs: 100, ceilingMs: 1000, stableAfterMs: 10_000 };
const immediateRestarts = 2;

mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
const claim = claimLockFile(paths.watchdogLock, {
  deployment: 'watchdog',
  command: 'watchdog',
  startedAt: Date.now(),
});
if (!('taken' in claim)) {
  log('another watchdog runs for this state folder; this one stops');
  process.exit(0);
}
const lock = claim.taken;

let streak = 0;
/** `restart`: this agent replaces one that died, so with nothing left to serve it stops at once. */
function runAgent(restart: boolean): void {
  const startedAt = Date.now();
  const args = [compiledEntry(import.meta.url, 'agent-main.js'), '--state-dir', stateDir];
  const child = spawn(process.execPath, restart ? [...args, '--restart'] : args, {
    env: process.env,
    // Its own output goes where the watchdog's goes: the agent log.
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.once('exit', (code, signal) => {
    if (code === AgentExit.stopped || code === AgentExit.refused || code === AgentExit.anotherRuns) {
      lock.release();
      process.exit(0);
    }
    if (!existsSync(paths.dir)) {
      log(`the agent ended (${signal ?? `code ${code}`}) and ${paths.dir} is gone; stopping`);
      lock.release();
      process.exit(0);
    }
    streak = streakAfterExit(streak, Date.now() - startedAt, policy);
    const delay = streak <= immediateRestarts ? 0 : restartDelayMs(streak - immediateRestarts, policy);
    log(`the agent ended (${signal ?? `code ${code}`}); starting it again in ${delay} ms`);
    setTimeout(() => runAgent(true), delay);
  });
}

/**
 * An agent already running (its watchdog was killed, and a command started this one to replace it) is
 * not this process's child: it is watched by polling its pid, and started again when it dies.
 */
function watchAdopted(): void {
  const running = readLock(paths.agentLock);
  if (running.state !== 'held' || isStale(running.holder)) {
    runAgent(false);
    return;
  }
  log(`watching agent ${running.holder.pid}, which was already running`);
  const timer = setInterval(() => {
    if (!isStale(running.holder)) return;
    clearInterval(timer);
    log(`the agent ${running.holder.pid} ended; starting it again`);
    runAgent(true);
  }, 100);
}

// Its own SIGTERM (a person stopping it) leaves the agent running, as SIGKILL would.
process.on('SIGTERM', () => {
  lock.release();
  process.exit(0);
});
process.on('SIGHUP', () => {});
// Written to a log on a full disk, stderr fails: that must not end the watchdog.
process.stderr.on('error', () => {});
watchAdopted();
