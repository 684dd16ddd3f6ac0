import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { FleetRole } from '../types.js';

/** The agent's own record on disk, so a restarted agent re-adopts the fleets it was running. */

export interface StoredInstance {
  id: string;
  port: number;
  pid: number | undefined;
  /**
   * When `pid` started (see processStartTime), recorded at spawn: a pid alone could, after the instance
   * died, name an unrelated process that a re-adopting agent would then adopt and later kill.
   */
  processStart?: number;
  log: string;
}

export interface StoredFleet {
  id: string;
  version: string;
  deployment: string;
  createdAt: number;
  /** Absent in state written before roles were recorded: see `roleOf`. */
  role?: Exclude<FleetRole, 'retiring'>;
  standbyUntil: number | undefined;
  /** A green detached at its approval gate: the agent retires it, with no traffic, once this passes. */
  gateUntil?: number;
  command: string[];
  cwd: string;
  drainTimeoutMs: number;
  /** Kept so a restarted instance gets it again; absent in state files written before it existed. */
  env?: Record<string, string>;
  instances: StoredInstance[];
}

export interface StoredService {
  environment: string;
  artifact: string;
  listen: string;
  /** `haproxy` for `router: haproxy`; absent for the built-in router (and in state written before). */
  router?: 'haproxy';
  weights: Record<string, number>;
  fleets: StoredFleet[];
}

export interface StoredState {
  services: StoredService[];
}

/** What the agent's state files yield: the state, and why it is not the current file's when it is not. */
export interface LoadedStore {
  state: StoredState;
  /** Set when a file was there but could not be used: the state is the previous copy's, or empty. */
  problem: string | undefined;
  /** Files were there but neither could be used: the state is empty and what they held is unknown. */
  lost: boolean;
}

export function previousCopy(file: string): string {
  return `${file}.prev`;
}

/** Where unreadable state files are kept for a person to look at: `cutover status` warns while it exists. */
export function setAside(file: string): string {
  return `${file}.unreadable`;
}

/**
 * Reads the state, falling back to the copy kept by the write before the last one. Never throws: an
 * agent that cannot read its state must still start (and say so) rather than leave every router down.
 */
export function loadStore(file: string): LoadedStore {
  const current = parseStateFile(file);
  if (current.state) return { state: current.state, problem: undefined, lost: false };
  const previous = parseStateFile(previousCopy(file));
  if (current.missing && previous.missing)
    return { state: { services: [] }, problem: undefined, lost: false };
  const why = `\`${file}\` ${current.missing ? 'is missing' : `cannot be used (${current.error})`}`;
  if (previous.state)
    return { state: previous.state, problem: `${why}; used the previous copy`, lost: false };
  const before = previous.missing
    ? 'there is no previous copy'
    : `the previous copy cannot be used either (${previous.error})`;
  return { state: { services: [] }, problem: `${why} and ${before}`, lost: true };
}

function parseStateFile(file: string): { state?: StoredState; missing?: boolean; error?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { missing: true } : { error: code ?? String(error) };
  }
  try {
    const state = JSON.parse(text) as StoredState;
    if (Array.isArray(state?.services)) return { state };
    return { error: 'no services list' };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * Written to a temporary file, flushed, then renamed over the state, and the folder flushed, so the file
 * is always one whole write, also after a power loss. The state it replaces is kept as the previous copy
 * (hard-linked, then renamed into place, so there is no moment without one), but only if it is readable:
 * a damaged file must not push out the last good copy.
 */
export function writeStore(file: string, state: StoredState): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(state, null, 2));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (parseStateFile(file).state) {
      const previousTemp = `${previousCopy(file)}.${process.pid}.tmp`;
      rmSync(previousTemp, { force: true });
      linkSync(file, previousTemp);
      renameSync(previousTemp, previousCopy(file));
    }
    renameSync(temp, file);
  } catch (error) {
    // A full disk would otherwise keep a half-written copy, taking space it does not have.
    rmSync(temp, { force: true });
    throw error;
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** A fleet recorded before roles were: the one with traffic is live, one with a window is standby. */
export function roleOf(fleet: StoredFleet, weights: Record<string, number>): Exclude<FleetRole, 'retiring'> {
  if (fleet.role) return fleet.role;
  if ((weights[fleet.id] ?? 0) > 0) return 'live';
  return fleet.standbyUntil !== undefined ? 'standby' : 'green';
}
