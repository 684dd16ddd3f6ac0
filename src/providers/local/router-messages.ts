import type { Weights } from '../types.js';
import type { CountEntry } from './response-tally.js';
import type { RouterTable } from './service-router.js';

/** What the agent and its router workers say to each other over the cluster's IPC channel. */

export type RouterCommand =
  | { op: 'open'; key: string; host: string; port: number; table: RouterTable }
  | { op: 'close'; key: string }
  | { op: 'fleet'; key: string; fleetId: string; urls: string[] }
  | { op: 'remove'; key: string; fleetId: string }
  | { op: 'weights'; key: string; weights: Weights }
  | { op: 'down'; key: string; urls: string[] }
  | { op: 'inFlight'; key: string; fleetId: string }
  /** Hand over every response counted so far now, before answering: the agent is about to read them. */
  | { op: 'counts' };

export interface ToWorker {
  id: number;
  command: RouterCommand;
}

export type FromWorker =
  | { ready: true }
  /** Responses counted since the last hand-over, by service key; sent unasked every few hundred ms. */
  | { counts: Record<string, CountEntry[]> }
  | { id: number; ok: true; value: number | undefined }
  | { id: number; ok: false; error: string; code: string | undefined };
