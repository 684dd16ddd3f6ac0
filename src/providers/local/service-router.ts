import type { Weights } from '../types.js';
import { CountHistory } from './count-history.js';
import type { RequestCountsReply } from './protocol.js';
import type { WeightedRouter } from './router.js';

/**
 * The agent's handle on one service's router, wherever it runs: in the agent itself, or replicated in
 * every router worker. Each change resolves once every router that serves the address has applied it.
 */
export interface ServiceRouter {
  setFleet(fleetId: string, urls: string[]): Promise<void>;
  removeFleet(fleetId: string): Promise<void>;
  setWeights(weights: Weights): Promise<void>;
  /** Instance URLs the agent knows are not running: routers send them nothing while a sibling is up. */
  setDown(urls: string[]): Promise<void>;
  /** Requests being served by a fleet's instances across all routers: a retiring fleet waits for zero. */
  inFlight(fleetId: string): Promise<number>;
  /** What every router counted for those fleets between `from` and `to` (epoch ms), by second. */
  requestCounts(fleetIds: string[], from: number, to: number): Promise<RequestCountsReply>;
  close(): Promise<void>;
}

/** Everything a router needs to serve, so a new one never answers with a partial table. */
export interface RouterTable {
  fleets: Record<string, string[]>;
  weights: Weights;
  down: string[];
}

/** Opens a service's router; `service` names it (the built-in routers need only the address). */
export type OpenRouter = (
  address: { host: string; port: number },
  table: RouterTable,
  service: { environment: string; artifact: string },
) => Promise<ServiceRouter>;

/** Builds a router from a table before it listens. */
export function loadTable(router: WeightedRouter, table: RouterTable): void {
  for (const [fleetId, urls] of Object.entries(table.fleets)) router.setFleet(fleetId, urls);
  router.setDown(table.down);
  router.setWeights(table.weights);
}

/** The router inside the agent's own process: for one core, and for tests that drive an Agent directly. */
export const openInProcess: OpenRouter = async ({ host, port }, table) => {
  // Loaded on demand: an agent with router workers never loads undici itself, and starts sooner.
  const { WeightedRouter } = await import('./router.js');
  // One router, in this process: it counts straight into the history, which is then always complete.
  const history = new CountHistory(Object.keys(table.fleets));
  const router = new WeightedRouter((fleetId, status) =>
    history.add(fleetId, Math.floor(Date.now() / 1000), 1, status >= 500 ? 1 : 0),
  );
  loadTable(router, table);
  await router.listen(host, port);
  return {
    setFleet: async (fleetId, urls) => {
      router.setFleet(fleetId, urls);
      history.know(fleetId);
    },
    removeFleet: async (fleetId) => {
      router.removeFleet(fleetId);
      history.forget(fleetId);
    },
    setWeights: async (weights) => router.setWeights(weights),
    setDown: async (urls) => router.setDown(urls),
    inFlight: async (fleetId) => router.inFlight(fleetId),
    requestCounts: async (fleetIds, from, to) => history.read(fleetIds, from, to),
    close: () => router.close(),
  };
};
