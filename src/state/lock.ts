import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LockHeld } from '../errors.js';
import { isAlive } from '../providers/local/processes.js';

/**
 * One deploy or rollback of an artifact and environment at a time on this machine. The lock is a file
 * created with O_EXCL that names its holder; a lock whose holder process is gone is stale and is broken,
 * under a short guard so that two processes never both break it and both win.
 */

export interface LockHolder {
  deployment: string;
  command: string;
  pid: number;
  host: string;
  startedAt: number;
}

export interface Lock {
  holder: LockHolder;
  /** The holder of a stale lock this acquisition broke: its deployment may need recovering. */
  broke: LockHolder | undefined;
  release(): void;
}

export function lockPath(stateDir: string, environment: string, artifact: string): string {
  return join(stateDir, 'locks', `${environment}--${artifact}.lock`);
}

export function readHolder(path: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

export function acquireLock(
  stateDir: string,
  environment: string,
  artifact: string,
  holder: Omit<LockHolder, 'pid' | 'host'>,
): Lock {
  const path = lockPath(stateDir, environment, artifact);
  mkdirSync(join(stateDir, 'locks'), { recursive: true, mode: 0o700 });
  const me: LockHolder = { ...holder, pid: process.pid, host: hostname() };
  let broke: LockHolder | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusive(path, me)) {
      return { holder: me, broke, release: () => releaseIfMine(path, me) };
    }
    const current = readHolder(path);
    if (current && !isStale(current)) throw heldError(current, environment, artifact);
    broke = breakStale(path, current) ?? broke;
  }
  const current = readHolder(path);
  throw heldError(current, environment, artifact);
}

function isStale(holder: LockHolder): boolean {
  return holder.host === hostname() && !isAlive(holder.pid);
}

function createExclusive(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(holder));
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Removes a stale lock only if it is still the one judged stale; returns its holder when it did. */
function breakStale(path: string, judged: LockHolder | undefined): LockHolder | undefined {
  const guard = `${path}.break`;
  const guardHolder: LockHolder = {
    deployment: 'break',
    command: 'break',
    pid: process.pid,
    host: hostname(),
    startedAt: Date.now(),
  };
  if (!createExclusive(guard, guardHolder)) {
    const other = readHolder(guard);
    if (other && isStale(other)) unlinkQuiet(guard);
    return undefined;
  }
  try {
    const now = readHolder(path);
    const same = JSON.stringify(now) === JSON.stringify(judged);
    if (same) {
      unlinkQuiet(path);
      return judged;
    }
    return undefined;
  } finally {
    unlinkQuiet(guard);
  }
}

function releaseIfMine(path: string, me: LockHolder): void {
  const current = readHolder(path);
  if (current && current.pid === me.pid && current.deployment === me.deployment) unlinkQuiet(path);
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

function heldError(holder: LockHolder | undefined, environment: string, artifact: string): LockHeld {
  const who = holder
    ? `\`${holder.command}\` ${holder.deployment} (pid ${holder.pid} on ${holder.host}, started ${new Date(holder.startedAt).toISOString()})`
    : 'another process';
  return new LockHeld(
    'LOCKED',
    `artifact \`${artifact}\` in environment \`${environment}\` is locked by ${who}`,
    holder
      ? `wait for it to finish, or stop it with \`cutover abort artifact=${artifact} environment=${environment}\``
      : 'try again in a moment',
  );
}
