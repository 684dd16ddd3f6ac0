import { rollback } from '../../api/rollback.js';
import type { Command } from '../command.js';
import { hostOf, serviceOptionsOf } from '../options.js';

export const rollbackCommand: Command = {
  name: 'rollback',
  summary: 'move traffic back to the standby fleet in one change, launching nothing',
  spec: { words: ['artifact', 'environment'], required: ['artifact', 'environment'], flags: [], options: [] },
  help: `Usage: cutover rollback artifact=NAME environment=NAME [--json]

Checks that the standby fleet (the version that was live before the last deploy) answers its health
check, then moves all traffic to it in one atomic change. Nothing is launched, so it takes about a
second. The fleet that was live becomes the standby, so a second rollback goes forward again.
When no standby is left (its rollback window closed), it says which version to deploy instead.
After a deploy whose controller was killed before it went live, undoing that deploy is the rollback:
traffic goes back to the version it started from, and nothing more moves.

  artifact=NAME      an artifact of the config file
  environment=NAME   an environment of the config file`,

  async run(args, io) {
    const service = serviceOptionsOf(args);
    return { result: await rollback({ ...service, ...hostOf(io) }), service };
  },
};
