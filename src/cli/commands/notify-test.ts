import { selectEnvironment } from '../../config/select.js';
import { DeploymentFailed, UserInputError } from '../../errors.js';
import { newDeploymentId } from '../../ids.js';
import { actorFrom } from '../../notify/actor.js';
import { notifiersFor } from '../../notify/from-config.js';
import { notificationSchemaVersion, type Notification } from '../../notify/notification.js';
import { MemoryRecord } from '../../notify/record.js';
import { ExitCode } from '../../api/exit-codes.js';
import type { Command } from '../command.js';
import { loadFromArgs } from '../options.js';

export const notifyTestCommand: Command = {
  name: 'notify-test',
  summary: "send a test message to every notifier of an environment's `notify:` list",
  spec: { words: ['environment', 'artifact'], required: ['environment'], flags: [], options: [] },
  help: `Usage: cutover notify-test environment=NAME [artifact=NAME]

Sends one test notification to every notifier the environment's \`notify:\` list turns on (a Slack
webhook or bot, a generic webhook), at once, and says for each whether it arrived. Exits 1 naming any
that failed, or when none is on (an empty URL or token, such as an unset \${SLACK_WEBHOOK_URL:-}, turns
a notifier off). Each gets up to notifyFlushTimeout (default 10 s), retries included. Nothing is
recorded and no deployment is touched.

  environment=NAME   an environment of the config file
  artifact=NAME      the artifact the message names (default: the config's first artifact)`,

  async run(args, io) {
    const loaded = loadFromArgs(args);
    const environment = args.words.environment ?? '';
    const env = selectEnvironment(loaded, environment);
    const artifact = args.words.artifact ?? Object.keys(loaded.config.artifacts)[0] ?? '';
    if (args.words.artifact !== undefined && !loaded.config.artifacts[artifact]) {
      throw new UserInputError('ARTIFACT_UNKNOWN', `artifact \`${artifact}\` is not in \`${loaded.file}\``);
    }
    const entries = notifiersFor(env.notify);
    if (entries.length === 0) {
      throw new DeploymentFailed(
        'NOTIFY_NONE',
        `no notifier is on for ${environment}: its \`notify:\` list is empty, or every URL or token in it is (an unset \${VARIABLE:-})`,
        'set the variables its URLs and tokens come from, or add a notifier to `notify:`',
      );
    }
    const now = Date.now();
    const deployment = newDeploymentId(now);
    const notification: Notification = {
      schemaVersion: notificationSchemaVersion,
      id: `${deployment}:test`,
      kind: 'test',
      code: 'notify.test',
      level: 'info',
      time: new Date(now).toISOString(),
      message: `cutover notify-test: notifications for ${artifact} in ${environment} arrive here`,
      deployment: {
        id: deployment,
        kind: 'deploy',
        artifact,
        environment,
        target: env.target,
        phase: 'test',
        startedAt: new Date(now).toISOString(),
      },
      actor: actorFrom(process.env),
    };
    const budget = AbortSignal.timeout(loaded.config.notifyFlushTimeout + 1000);
    const messages = new MemoryRecord();
    const results = await Promise.all(
      entries.map(async ({ notifier }) => {
        try {
          await notifier.send(notification, {
            deadline: now + loaded.config.notifyFlushTimeout,
            signal: budget,
            messages,
          });
          return { name: notifier.name, error: undefined };
        } catch (error) {
          return { name: notifier.name, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    // Most errors already start with what they are about.
    const said = (name: string, error: string) => (error.startsWith(name) ? error : `${name}: ${error}`);
    if (!io.json) {
      for (const { name, error } of results) io.out(error ? `✖ ${said(name, error)}` : `✓ ${name}: sent`);
    }
    const failed = results.flatMap(({ name, error }) => (error ? [said(name, error)] : []));
    if (failed.length) {
      throw new DeploymentFailed(
        'NOTIFY_FAILED',
        `${failed.length} of ${results.length} notifiers failed: ${failed.join('; ')}`,
        'fix what each says, then run notify-test again',
      );
    }
    return ExitCode.ok;
  },
};
