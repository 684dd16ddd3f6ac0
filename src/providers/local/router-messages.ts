import type { Weights } from '../types.js';
import type { RouterTable } from './service-router.js';

/** What the agent and its router workers say to each other over the cluster's IPC channel. */

export type RouterCommand =
  | { op: 'open'; key: string; host: string; port: number; table: RouterTable }
  | { op: 'close'; key: string }
  | { op: 'fleet'; key: string; fleetId: string; urls: string[] }
  | { op: 'remove'; key: string; fleetId: string }
  | { op: 'weights'; key: string; weights: Weights }
  | { op: 'down'; key: string; urls: string[] }
  | { op: 'inFlight'; key: string; fleetId: string };

export interface ToWorker {
  id: number;
  command: RouterCommand;
}

export type FromWorker =
  | { ready: true }
  | { id: number; ok: true; value: number | undefined }
  | { id: number; ok: false; error: string; code: string | undefined };
