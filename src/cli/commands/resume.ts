import type { Command } from '../command.js';
import { sendIntent } from '../intent-command.js';

export const resumeCommand: Command = {
  name: 'resume',
  summary: 'let a paused deploy go on from where it was paused',
  spec: { words: ['artifact', 'environment'], required: ['artifact', 'environment'], flags: [], options: [] },
  help: `Usage: cutover resume artifact=NAME environment=NAME

Asks a deploy paused with \`cutover pause\` to go on: its step timer runs again from where it stopped.

Exit 0 when the deploy resumed, 2 when there was nothing to resume (no deploy under way, or it is not
paused), 1 when no deploy answered within 15 s.`,
  run: (args, io) => sendIntent(args, io, 'resume'),
};
