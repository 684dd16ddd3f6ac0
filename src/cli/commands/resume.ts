import { resume } from '../../api/request.js';
import type { Command } from '../command.js';
import { hostOf, serviceOptionsOf } from '../options.js';
import { printAnswer } from './answer.js';

export const resumeCommand: Command = {
  name: 'resume',
  summary: 'let a paused deploy go on from where it was paused',
  spec: { words: ['artifact', 'environment'], required: ['artifact', 'environment'], flags: [], options: [] },
  help: `Usage: cutover resume artifact=NAME environment=NAME

Asks a deploy paused with \`cutover pause\` to go on: its step timer runs again from where it stopped.

Exit 0 when the deploy resumed, 2 when there was nothing to resume (no deploy under way, or it is not
paused), 1 when no deploy answered within 15 s.`,
  async run(args, io) {
    const service = serviceOptionsOf(args);
    const result = await resume({ ...service, ...hostOf(io) });
    printAnswer(io, 'resume', result);
    return { result, service };
  },
};
