import { abort } from '../../api/abort.js';
import type { Command } from '../command.js';
import { hostOf, serviceOptionsOf } from '../options.js';

export const abortCommand: Command = {
  name: 'abort',
  summary: 'stop a running deploy: traffic goes back to blue through the normal rollback path',
  spec: { words: ['artifact', 'environment'], required: ['artifact', 'environment'], flags: [], options: [] },
  help: `Usage: cutover abort artifact=NAME environment=NAME

Asks the deploy that holds the lock on this machine to stop (SIGTERM). That deploy moves traffic back to
blue, stops green and exits 1, exactly as when a health check fails. Waits until it has finished (up
to 2 minutes; if it still runs then, abort exits 1 saying so).
With no deploy running here, on aws it first asks a deploy that may run on another runner to stop (a
request on its green group's tags, answered within one check interval), and waits until it has gone back.
A deploy detached at its approval gate (deploy --detach) is undone at once.
With no deploy answering, it undoes a deploy that never went live and whose controller is gone:
one killed on this runner (from its journal; one killed after it went live is finished instead), or on
aws a group still tagged cutover:role=green, left by a runner that died: traffic back to the fleet that
served before, green deleted. The aws case also works from another machine.`,

  async run(args, io) {
    const service = serviceOptionsOf(args);
    return { result: await abort({ ...service, ...hostOf(io) }), service };
  },
};
