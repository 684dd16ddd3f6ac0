import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

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
  standbyUntil: number | undefined;
  command: string[];
  cwd: string;
  drainTimeoutMs: number;
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
