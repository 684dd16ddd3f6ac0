import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FleetRole } from '../types.js';

/** The agent's own record on disk, so a restarted agent re-adopts the fleets it was running. */

export interface StoredInstance {
  id: string;
  port: number;
  pid: number | undefined;
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
  weights: Record<string, number>;
  fleets: StoredFleet[];
}

export interface StoredState {
  services: StoredService[];
}

export function readStore(file: string): StoredState {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StoredState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { services: [] };
    throw error;
  }
}

/** Write-then-rename, so a crash mid-write never leaves a torn file. */
export function writeStore(file: string, state: StoredState): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(state, null, 2), { mode: 0o600 });
  renameSync(temp, file);
}

/** A fleet recorded before roles were: the one with traffic is live, one with a window is standby. */
export function roleOf(fleet: StoredFleet, weights: Record<string, number>): Exclude<FleetRole, 'retiring'> {
  if (fleet.role) return fleet.role;
  if ((weights[fleet.id] ?? 0) > 0) return 'live';
  return fleet.standbyUntil !== undefined ? 'standby' : 'green';
}
