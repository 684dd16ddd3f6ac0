import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CutoverError, LockHeld } from '../errors.js';
import { isSameProcess, processStartTime, recordedHere, thisMachine } from '../providers/local/processes.js';

/**
 * One deploy or rollback of an artifact and environment at a time on this machine. The lock is a file that
 * names its holder. It is written whole under a temporary name and then link(2)ed into place: link fails
 * if the name exists, so creation is atomic, and a reader never sees it empty or half written (which it
 * would otherwise take for stale and break). A lock whose holder process is gone is stale and is broken,
 * under a short guard so that two processes never both break it and both win.
 */

export interface LockHolder {
  deployment: string;
  command: string;
  pid: number;
  /**
   * When the holder process started (clock ticks since boot, see processStartTime), so a pid reused by
   * another process is not taken for the holder. Absent without /proc, and in locks written before it
   * was kept.
   */
  processStart?: number;
  /** The machine it runs on (thisMachine): its pid is judged only there; absent in older lock files. */
  machine?: string;
  host: string;
  startedAt: number;
  /**
   * False when the holder runs inside a program through cutover's library: a SIGTERM would kill that
   * program mid-shift rather than stop the deploy, so `cutover abort` asks it through a request instead.
   * Absent in locks of the CLI (and of versions before the library), which stops on SIGTERM.
   */
  stopsOnSignal?: boolean;
}

export interface Lock {
  holder: LockHolder;
  /** The holder of a stale lock this acquisition broke: its deployment may need recovering. */
  broke: LockHolder | undefined;
  release(): void;
}

/** What is at a lock's path: nothing, a holder, or bytes that are not one (a damaged file). */
export type LockFile =
  | { state: 'free' }
  | { state: 'held'; holder: LockHolder; text: string }
  | { state: 'unreadable'; path: string; text: string | undefined };

export function lockPath(stateDir: string, environment: string, artifact: string): string {
  return join(stateDir, 'locks', `${environment}--${artifact}.lock`);
}

export function readLock(path: string): LockFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'free' };
    return { state: 'unreadable', path, text: undefined };
  }
  try {
    const holder = JSON.parse(text) as LockHolder;
    if (typeof holder.pid === 'number' && typeof holder.deployment === 'string') {
      return { state: 'held', holder, text };
    }
  } catch {
    // Falls through: not a holder.
  }
  return { state: 'unreadable', path, text };
}

export function readHolder(path: string): LockHolder | undefined {
  const file = readLock(path);
  return file.state === 'held' ? file.holder : undefined;
}

/** This process, as a lock records its holder. */
export function currentProcess(): Pick<LockHolder, 'pid' | 'processStart' | 'host' | 'machine'> {
  const processStart = processStartTime(process.pid);
  return {
    pid: process.pid,
    ...(processStart !== undefined ? { processStart } : {}),
    host: hostname(),
    machine: thisMachine(),
  };
}

export function acquireLock(
  stateDir: string,
  environment: string,
  artifact: string,
  holder: Omit<LockHolder, 'pid' | 'host' | 'processStart'>,
): Lock {
  const path = lockPath(stateDir, environment, artifact);
  let claim: ReturnType<typeof claimLockFile>;
  try {
    mkdirSync(join(stateDir, 'locks'), { recursive: true, mode: 0o700 });
    claim = claimLockFile(path, holder);
  } catch (error) {
    throw new CutoverError(
      'STATE_UNWRITABLE',
      `cannot write the lock \`${path}\`: ${(error as Error).message}; nothing was changed`,
      'free space on that disk (or fix its permissions), then run the command again',
      { cause: error },
    );
  }
  if ('taken' in claim) return claim.taken;
  throw heldError(claim.held, environment, artifact);
}

/**
 * Takes the lock file at `path` for this process, breaking it when its holder is gone; otherwise returns
 * what holds it. Any process-wide "only one of us" (a deploy, the local agent) is claimed this way.
 */
export function claimLockFile(
  path: string,
  holder: Omit<LockHolder, 'pid' | 'host' | 'processStart'>,
): { taken: Lock } | { held: LockFile } {
  const me: LockHolder = { ...holder, ...currentProcess() };
  let broke: LockHolder | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createAtomically(path, me)) {
      return { taken: { holder: me, broke, release: () => releaseIfMine(path, me) } };
    }
    const current = readLock(path);
    // Released between our attempt and the read: try again.
    if (current.state === 'free') continue;
    if (current.state === 'unreadable' || !isStale(current.holder)) return { held: current };
    broke = breakStale(path, current) ?? broke;
  }
  return { held: readLock(path) };
}

/** Only a holder on this host can be judged: a pid means nothing on another machine. */
export function isStale(holder: LockHolder): boolean {
  return recordedHere(holder) && !isSameProcess(holder.pid, holder.processStart);
}

/** Creates `path` holding `holder`, complete, or returns false when it already exists. */
function createAtomically(path: string, holder: LockHolder): boolean {
  const temp = uniqueName(path, 'tmp');
  try {
    writeFileSync(temp, JSON.stringify(holder), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // A full disk leaves an empty file behind.
    unlinkQuiet(temp);
    throw error;
  }
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkQuiet(temp);
  }
}

/**
 * Removes a stale lock only if it is still the one judged stale; returns its holder when it did. Safe
 * because nothing else removes that file meanwhile: its holder is dead, so it does not release it, and
 * other breakers wait for the guard. The file's text is compared, not a parsed copy, so a new lock that
 * happened to reuse the dead holder's fields would still differ in its start time.
 */
function breakStale(path: string, judged: { holder: LockHolder; text: string }): LockHolder | undefined {
  const guard = `${path}.break`;
  const me: LockHolder = {
    deployment: 'break',
    command: 'break',
    ...currentProcess(),
    startedAt: Date.now(),
  };
  if (!createAtomically(guard, me)) {
    const other = readLock(guard);
    if (other.state === 'held' && isStale(other.holder)) breakStaleGuard(guard, other.text);
    return undefined;
  }
  try {
    const now = readLock(path);
    if (now.state === 'held' && now.text === judged.text) {
      unlinkQuiet(path);
      return judged.holder;
    }
    return undefined;
  } finally {
    unlinkQuiet(guard);
  }
}

/**
 * A guard left by a process that died while breaking a lock. Unlinking it by name could remove a guard
 * another process took in the meantime, so it is first moved aside and checked; a live guard moved by
 * mistake is put back. Only a second race inside that microsecond window, right after a crash inside the
 * guard's own microsecond window, could still let two breakers in.
 */
function breakStaleGuard(guard: string, judgedText: string): void {
  const aside = uniqueName(guard, 'aside');
  try {
    renameSync(guard, aside);
  } catch {
    return; // Gone already: another process broke it.
  }
  try {
    if (readFileSync(aside, 'utf8') !== judgedText) linkSync(aside, guard);
  } catch {
    // A new guard is already in place: leave it.
  } finally {
    unlinkQuiet(aside);
  }
}

function releaseIfMine(path: string, me: LockHolder): void {
  const current = readHolder(path);
  if (
    current &&
    current.pid === me.pid &&
    current.deployment === me.deployment &&
    current.processStart === me.processStart
  ) {
    unlinkQuiet(path);
  }
}

/**
 * Removes the lock at `path` if it still holds `text` (what the caller read and checked); returns whether
 * it did. Moved aside first and compared, since a lock released and taken again in between must stay.
 */
export function removeLockIfUnchanged(path: string, text: string): boolean {
  const aside = uniqueName(path, 'aside');
  try {
    renameSync(path, aside);
  } catch {
    return false; // Released meanwhile.
  }
  try {
    if (readFileSync(aside, 'utf8') === text) return true;
    linkSync(aside, path);
    return false;
  } catch {
    return false; // A new lock took the name meanwhile: it stays.
  } finally {
    unlinkQuiet(aside);
  }
}

function uniqueName(path: string, suffix: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.${suffix}`;
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

function heldError(file: LockFile, environment: string, artifact: string): LockHeld {
  const where = `artifact \`${artifact}\` in environment \`${environment}\``;
  if (file.state === 'unreadable') {
    return new LockHeld(
      'LOCKED',
      `${where} is locked by \`${file.path}\`, which does not name a holder`,
      `if no deploy or rollback of it runs, remove it with \`cutover unlock artifact=${artifact} environment=${environment} deployment=unknown\``,
    );
  }
  if (file.state === 'free') return new LockHeld('LOCKED', `${where} is locked`, 'try again in a moment');
  const { holder } = file;
  const who = `\`${holder.command}\` ${holder.deployment} (pid ${holder.pid} on ${holder.host}, started ${new Date(holder.startedAt).toISOString()})`;
  if (holder.host !== hostname()) {
    return new LockHeld(
      'LOCKED',
      `${where} is locked from another host, \`${holder.host}\`, by ${who}`,
      `wait for it to finish; if that run is gone, remove its lock with \`cutover unlock artifact=${artifact} environment=${environment} deployment=${holder.deployment}\``,
    );
  }
  return new LockHeld(
    'LOCKED',
    `${where} is locked by ${who}`,
    `wait for it to finish, or stop it with \`cutover abort artifact=${artifact} environment=${environment}\``,
  );
}
