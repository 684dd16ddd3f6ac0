import { planDeploy } from '../../controller/plan.js';
import { validateVersion } from '../../config/select.js';
import { ExitCode } from '../exit-codes.js';
import type { Command, CommandIO } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { serviceRuntime } from '../runtime.js';

/** Shared by `cutover plan` and `cutover deploy --dry-run`: reads, prints, changes nothing. */
export async function printPlan(args: ParsedArgs, io: CommandIO): Promise<number> {
  const { service, ctx } = await serviceRuntime(args, io.events, io.signal);
  const version = validateVersion(service, args.words.version);
  const lines = await planDeploy(ctx, version);
  io.out(
    io.json
      ? JSON.stringify(
          { artifact: service.artifact, environment: service.environment, version, calls: lines },
          null,
          2,
        )
      : lines.join('\n'),
  );
  return ExitCode.ok;
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
