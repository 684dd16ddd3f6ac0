import { WeightedRouter } from './router.js';
import type { FromWorker, RouterCommand, ToWorker } from './router-messages.js';
import { ResponseTally, type CountEntry } from './response-tally.js';
import { loadTable } from './service-router.js';

/**
 * A router worker: one of several processes that accept on the same listening sockets (handed out by the
 * agent through node:cluster), so routing uses every core. It holds no state of its own: the agent sends
 * each service's whole table when the worker starts, then every change. When the agent dies the cluster
 * channel closes and the worker exits, freeing the addresses for the agent the watchdog starts next.
 */

const routers = new Map<string, WeightedRouter>();
const tallies = new Map<string, ResponseTally>();

/**
 * Counts go to the agent unasked, every `handOverEveryMs`, rather than wait to be asked for: the history
 * then lives in the agent, so a worker that dies takes at most that much of it along, and the agent
 * knows from when on its counts have a hole. Before it reads them, the agent asks for a hand-over too
 * (`counts`), so that the last second is complete without waiting for the next round.
 */
const handOverEveryMs = 250;

function handOver(): void {
  const counts: Record<string, CountEntry[]> = {};
  let any = false;
  for (const [key, tally] of tallies) {
    const entries = tally.take();
    if (entries.length === 0) continue;
    counts[key] = entries;
    any = true;
  }
  if (any) reply({ counts });
}
setInterval(handOver, handOverEveryMs).unref();

async function apply(command: RouterCommand): Promise<number | undefined> {
  if (command.op === 'counts') {
    handOver();
    return undefined;
  }
  if (command.op === 'open') {
    const tally = new ResponseTally();
    const router = new WeightedRouter(tally.count);
    loadTable(router, command.table);
    await router.listen(command.host, command.port);
    routers.set(command.key, router);
    tallies.set(command.key, tally);
    return undefined;
  }
  const router = routers.get(command.key);
  if (!router) {
    if (command.op === 'close') return undefined;
    throw new Error(`no router for \`${command.key}\` in worker ${process.pid}`);
  }
  switch (command.op) {
    case 'close':
      routers.delete(command.key);
      tallies.delete(command.key);
      await router.close();
      return undefined;
    case 'fleet':
      router.setFleet(command.fleetId, command.urls);
      return undefined;
    case 'remove':
      router.removeFleet(command.fleetId);
      return undefined;
    case 'weights':
      router.setWeights(command.weights);
      return undefined;
    case 'down':
      router.setDown(command.urls);
      return undefined;
    case 'inFlight':
      return router.inFlight(command.fleetId);
  }
}

function reply(message: FromWorker): void {
  process.send?.(message);
}

// One command at a time, in the order sent: a weight change must not overtake the open it follows.
let queue = Promise.resolve();
process.on('message', (message: ToWorker) => {
  queue = queue.then(async () => {
    try {
      reply({ id: message.id, ok: true, value: await apply(message.command) });
    } catch (error) {
      reply({
        id: message.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        code: (error as NodeJS.ErrnoException).code,
      });
    }
  });
});
reply({ ready: true });
