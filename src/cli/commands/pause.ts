import { pause } from '../../api/request.js';
import type { Command } from '../command.js';
import { hostOf, serviceOptionsOf } from '../options.js';
import { printAnswer } from './answer.js';

export const pauseCommand: Command = {
  name: 'pause',
  summary: 'hold a running deploy at its current weight until resume (green stays watched)',
  spec: { words: ['artifact', 'environment'], required: ['artifact', 'environment'], flags: [], options: [] },
  help: `Usage: cutover pause artifact=NAME environment=NAME

Asks the running deploy to stop its step timer at the current weight (a step, an approval gate's
timeout, or the bake) until \`cutover resume\`. Green is still watched meanwhile: a failing check still
sends traffic back to blue. \`cutover promote\` and \`cutover abort\` still work while paused.

Exit 0 when the deploy paused, 2 when there was nothing to pause (no deploy under way, or it is
already paused), 1 when no deploy answered within 15 s.`,
  async run(args, io) {
    const service = serviceOptionsOf(args);
    const result = await pause({ ...service, ...hostOf(io) });
    printAnswer(io, 'pause', result);
    return { result, service };
  },
};
