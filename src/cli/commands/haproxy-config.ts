import { selectEnvironment } from '../../config/select.js';
import { UserInputError } from '../../errors.js';
import { ExitCode } from '../../api/exit-codes.js';
import { moduleOf } from '../../providers/registry.js';
import type { Command } from '../command.js';
import { loadFromArgs } from '../options.js';

export const haproxyConfigCommand: Command = {
  name: 'haproxy-config',
  summary: "print the HAProxy backend a hosts environment's traffic moves through, to include in haproxy.cfg",
  spec: { words: ['environment', 'artifact'], required: ['environment'], flags: [], options: [] },
  help: `Usage: cutover haproxy-config environment=NAME [artifact=NAME]

Prints what haproxy.cfg must hold for a hosts environment: the backend with every host in both slots
(idle ones at weight 0), the runtime API socket at admin level, and the server-state-file lines that
keep weights across a reload. You own haproxy.cfg: cutover changes only HAProxy's runtime state
(weights), over SSH, and saves it to the server-state-file after each change.`,

  async run(args, io) {
    const loaded = loadFromArgs(args);
    const environment = args.words.environment ?? '';
    const env = selectEnvironment(loaded, environment);
    const target = moduleOf(env);
    if (!target.routerConfig) {
      throw new UserInputError(
        'NOT_HAPROXY',
        `environment \`${environment}\` is ${env.target}: only a hosts environment has an HAProxy backend to print`,
      );
    }
    const artifact = args.words.artifact ?? Object.keys(loaded.config.artifacts)[0] ?? 'artifact';
    io.out(target.routerConfig(env, { artifact, environment }));
    return ExitCode.ok;
  },
};
