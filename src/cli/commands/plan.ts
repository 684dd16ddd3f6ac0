import { plan } from '../../api/plan.js';
import type { Command, CommandIO, Report } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { hostOf, serviceOptionsOf } from '../options.js';

/** Shared by `cutover plan` and `cutover deploy --dry-run`: reads, prints, changes nothing. */
export async function printPlan(args: ParsedArgs, io: CommandIO): Promise<Report> {
  const service = serviceOptionsOf(args);
  const result = await plan({ ...service, ...hostOf(io), version: args.words.version ?? '' });
  if (result.type === 'planned' && !io.json) io.out(result.calls.join('\n'));
  return { result, service };
}

export const planCommand: Command = {
  name: 'plan',
  summary: 'print the calls a deploy would make, in order, making none that change anything',
  spec: {
    words: ['artifact', 'environment', 'version', 'strategy'],
    required: ['artifact', 'environment', 'version'],
    flags: [],
    options: [],
  },
  help: `Usage: cutover plan artifact=NAME environment=NAME version=VERSION [strategy=NAME] [--json]

Runs the deploy's preflight checks and reads the current state, then prints every call a deploy of
VERSION would make from here, in order (on aws: the exact API operations and their key parameters).
Nothing is changed; \`cutover deploy … --dry-run\` does the same.`,
  run: printPlan,
};
