import { promote } from '../../api/request.js';
import type { Command } from '../command.js';
import { hostOf, serviceOptionsOf } from '../options.js';
import { printAnswer } from './answer.js';

export const promoteCommand: Command = {
  name: 'promote',
  summary: 'move a running deploy past its current step or approval gate (--full: on to 100%)',
  spec: {
    words: ['artifact', 'environment'],
    required: ['artifact', 'environment'],
    flags: ['full'],
    options: [],
  },
  help: `Usage: cutover promote artifact=NAME environment=NAME [--full]

Asks the running deploy, from any process (local) or runner (aws), to end its current step's watch or
approval gate and go on to the next step. With --full it skips every remaining step and gate, straight
to 100%. The bake at 100% is never skipped. The deploy acts within one health-check interval and answers;
this command prints the answer.

Exit 0 when the deploy acted, 2 when there was nothing to promote (no deploy under way, or it bakes),
1 when no deploy answered within 15 s (the request is then withdrawn: run it again).`,
  async run(args, io) {
    const service = serviceOptionsOf(args);
    const result = await promote({ ...service, ...hostOf(io), full: args.flags.has('full') });
    printAnswer(io, 'promote', result);
    return { result, service };
  },
};
