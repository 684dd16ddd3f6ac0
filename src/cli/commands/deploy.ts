import { deploy } from '../../api/deploy.js';
import type { Command } from '../command.js';
import { hostOf, serviceOptionsOf } from '../options.js';
import { printPlan } from './plan.js';

export const deployCommand: Command = {
  name: 'deploy',
  summary: 'bring up a green fleet of a version, check it, move traffic to it, keep blue as standby',
  spec: {
    words: ['artifact', 'environment', 'version', 'strategy'],
    required: ['artifact', 'environment', 'version'],
    flags: ['keep-failed', 'dry-run', 'detach'],
    options: [],
  },
  help: `Usage: cutover deploy artifact=NAME environment=NAME version=VERSION [strategy=NAME] [--detach] [--keep-failed] [--json]

Starts a green fleet of VERSION beside the live (blue) one, waits until every instance passes its health
check, moves traffic to it with the environment's strategy, watches it for the bake time, and keeps blue
running as standby for the rollback window so that \`cutover rollback\` is instant.
Any failure before green is live puts traffic back on blue, stops green and exits 1.

  artifact=NAME      an artifact of the config file
  environment=NAME   an environment of the config file
  version=VERSION    the build to deploy: a label such as v2 (letters, digits, . _ -)
  strategy=NAME      how traffic moves, instead of the environment's: all-at-once, canary (10%, 50%,
                     100%, watched 1m at each step below 100), linear (10% more every minute), or a
                     CodeDeploy name such as Canary10Percent5Minutes or Linear10PercentEvery1Minute
  --detach           stop at the strategy's pre-traffic approval gate (strategy.approval.atWeight: 0):
                     green is launched and checked, the deploy is recorded as awaiting approval, and
                     the command exits 0. \`cutover promote\` (from any runner) goes on with it;
                     \`cutover abort\` undoes it; once the gate's timeout passes, the next command undoes it
  --keep-failed      leave a failed green fleet running to debug it
  --dry-run          print the calls the deploy would make and change nothing (same as cutover plan)
  --config FILE      the config file (default: cutover.config.yaml)
  --state-dir DIR    where locks, the journal and the local agent live (default: .cutover)
  --json             one JSON document on stdout at the end (docs/json.md), JSON log lines on stderr
                     (the logs are JSON lines anyway when stderr is not a terminal)

SIGINT or SIGTERM (\`cutover abort\`) aborts: traffic goes back to blue, exit 1.`,

  async run(args, io) {
    if (args.flags.has('dry-run')) return printPlan(args, io);
    const service = serviceOptionsOf(args);
    const result = await deploy({
      ...service,
      ...hostOf(io),
      version: args.words.version ?? '',
      detach: args.flags.has('detach'),
    });
    if (result.type === 'awaiting-approval' && !io.json) {
      io.out(
        `${result.version} awaits approval (deployment ${result.deployment}) until ${result.until}, with no traffic: \`cutover promote artifact=${service.artifact} environment=${service.environment}\` goes on, \`cutover abort\` undoes it`,
      );
    }
    return { result, service };
  },
};
