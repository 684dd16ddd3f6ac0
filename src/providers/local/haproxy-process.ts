import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runtimeCommands } from './haproxy-runtime.js';
import { isSameProcess, processStartTime } from './processes.js';

/**
 * One HAProxy process serving one local environment's address: its files, how it is started and
 * stopped, and the record by which the next agent finds it.
 *
 * It runs in the foreground (`-db`), not in master-worker mode (`-W`): the agent is its supervisor, so the
 * child the agent holds is HAProxy itself, whose exit is the agent's cue to start another, and signals
 * reach it directly. A master process would only add a process for what the agent does not use: reloads
 * (every change goes through the runtime API instead, and a start after a death is a full start anyway).
 * It gets its own process group, like an instance: an agent that dies (SIGKILL) leaves it serving, and
 * the agent that replaces it takes it over from the record instead of starting another.
 */

export interface HaproxyFiles {
  /** Owner-only (0700): the runtime socket's folder, so only the agent's user can drive HAProxy. */
  dir: string;
  config: string;
  socket: string;
  /** HAProxy's own output: its start-up notices and alerts. */
  log: string;
  /** Which process serves, for the next agent (and `down` without an agent). */
  record: string;
}

/** The longest path a unix socket can have on Linux (sun_path less its terminating zero). */
const maxSocketPath = 107;

export function haproxyFiles(dir: string): HaproxyFiles {
  return {
    dir,
    config: join(dir, 'haproxy.cfg'),
    socket: join(dir, 'api.sock'),
    log: join(dir, 'haproxy.log'),
    record: join(dir, 'haproxy.json'),
  };
}

export function prepareFolder(files: HaproxyFiles): void {
  if (Buffer.byteLength(files.socket) > maxSocketPath) {
    throw new Error(
      `HAProxy's runtime socket ${files.socket} would be longer than the ${maxSocketPath} bytes a unix socket path may have; use a shorter --state-dir`,
    );
  }
  for (const dir of [dirname(files.dir), files.dir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
}

export interface HaproxyRecord {
  pid: number;
  processStart: number | undefined;
  /** The static part of the config it was started with (configHash). */
  configHash: string;
}

export function readRecord(files: HaproxyFiles): HaproxyRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(files.record, 'utf8')) as Partial<HaproxyRecord>;
    if (!Number.isSafeInteger(record.pid) || typeof record.configHash !== 'string') return undefined;
    return { pid: record.pid as number, processStart: record.processStart, configHash: record.configHash };
  } catch {
    return undefined;
  }
}

export function writeRecord(files: HaproxyFiles, record: HaproxyRecord): void {
  writeFileSync(files.record, `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

export function forgetRecord(files: HaproxyFiles): void {
  rmSync(files.record, { force: true });
}

/** The recorded HAProxy, if that process still runs (a pid now held by another process does not count). */
export function recordedProcess(files: HaproxyFiles): HaproxyRecord | undefined {
  const record = readRecord(files);
  return record && isSameProcess(record.pid, record.processStart) ? record : undefined;
}

export class HaproxyStartError extends Error {
  constructor(
    message: string,
    /** EADDRINUSE when the address is taken: the agent then retries as it does for its own router. */
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export interface Started {
  child: ChildProcess;
  pid: number;
  processStart: number | undefined;
}

/**
 * Starts HAProxy on `configText` and resolves once its runtime API answers, which it does only after it
 * bound every listener; rejects with what HAProxy said when it exits first. `onExit` hears a later exit.
 */
export async function startHaproxy(
  binary: string,
  files: HaproxyFiles,
  configText: string,
  onExit: (why: string) => void,
  readyWithinMs = 10_000,
): Promise<Started> {
  writeFileSync(files.config, configText, { mode: 0o600 });
  // Truncated at each start: HAProxy notes every runtime change there, so it grows with the process's life.
  const logFd = openSync(files.log, 'w', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(binary, ['-db', '-f', files.config], {
      cwd: files.dir,
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
  } finally {
    closeSync(logFd);
  }
  child.unref();
  let exited: string | undefined;
  let starting = true;
  child.once('error', (error) => {
    exited = `could not start: ${error.message}`;
    if (!starting) onExit(exited);
  });
  child.once('exit', (code, signal) => {
    exited = signal ? `killed by ${signal}` : `exit code ${code}`;
    if (!starting) onExit(exited);
  });
  const deadline = Date.now() + readyWithinMs;
  try {
    for (;;) {
      if (exited !== undefined) {
        const said = logTail(files.log);
        throw new HaproxyStartError(
          `HAProxy ${exited}${said ? `: ${said}` : ''} (see ${files.log})`,
          /Address already in use/.test(said) ? 'EADDRINUSE' : undefined,
        );
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new HaproxyStartError(
          `HAProxy did not answer on ${files.socket} within ${readyWithinMs} ms`,
          undefined,
        );
      }
      if (await answers(files, 1000)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    starting = false;
  }
  const pid = child.pid as number;
  return { child, pid, processStart: processStartTime(pid) };
}

/** Whether a HAProxy answers on the runtime socket: it does once every listener is bound. */
export async function answers(files: HaproxyFiles, timeoutMs: number): Promise<boolean> {
  try {
    return (await runtimeCommands(files.socket, ['show info'], timeoutMs)).startsWith('Name: HAProxy');
  } catch {
    return false;
  }
}

/** The alerts of HAProxy's last start, for a message: its notices say only which version ran. */
function logTail(log: string): string {
  try {
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-6);
    return lines
      .filter((line) => line.includes('[ALERT]'))
      .map((line) => line.replace(/^\[ALERT\]\s*\(\d+\)\s*:\s*/, ''))
      .join('; ');
  } catch {
    return '';
  }
}

/**
 * Stops a HAProxy: SIGUSR1 first (it stops listening at once, lets requests in flight finish and exits;
 * `hard-stop-after` bounds that), SIGKILL when it has not exited after `graceMs`. Only the process
 * recorded: a pid that names another process by now is left alone.
 */
export async function stopHaproxy(
  pid: number,
  processStart: number | undefined,
  graceMs = 6000,
): Promise<void> {
  if (!isSameProcess(pid, processStart)) return;
  try {
    process.kill(pid, 'SIGUSR1');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isSameProcess(pid, processStart)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone meanwhile.
  }
}

/** `down` without an agent: the HAProxy a service's record names is stopped with its instances. */
export async function stopRecordedHaproxy(dir: string): Promise<void> {
  const files = haproxyFiles(dir);
  const record = readRecord(files);
  if (record) await stopHaproxy(record.pid, record.processStart);
  forgetRecord(files);
}
