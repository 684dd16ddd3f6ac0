import { parse } from 'yaml';
import { configSchema, type AwsEnvironmentConfig } from '../../src/config/schema.js';
import type { ControllerContext } from '../../src/controller/context.js';
import { Events, type CutoverEvent } from '../../src/events.js';
import { createAwsTarget } from '../../src/providers/aws/target.js';
import { Journal } from '../../src/state/journal.js';
import { exampleAccount, installFakeAccount, instantRetry } from '../fake-aws/install.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { memoryTempDir } from '../helpers/tmp.js';
import * as fx from './fixtures.js';
import { awsEnvironmentYaml } from './fixtures.js';
import { httpProbe } from '../../healthchecks/http.js';
import { notesIntents } from '../../src/controller/intents.js';

/**
 * The real controller and aws target against the fake account, in virtual time. A second harness can
 * share the account (`join`) to play a second CI runner that has no local state of its own.
 */
export function awsHarness(
  options: {
    throttleRate?: number;
    env?: Record<string, string>;
    baseInstances?: number;
    /** Checks green over real HTTP through the test listener, served on this local port. */
    testListenerPort?: number;
  } = {},
) {
  const clock = new FakeClock();
  const account = exampleAccount({
    now: () => clock.now(),
    throttleRate: options.throttleRate ?? 0,
    baseInstances: options.baseInstances ?? 2,
  });
  const installed = installFakeAccount(account, instantRetry);
  if (options.testListenerPort) {
    // The load balancer's DNS name and the test listener's port lead to a real local server.
    account.loadBalancers.set(
      `arn:aws:elasticloadbalancing:${fx.region}:${fx.account}:loadbalancer/${fx.lb}`,
      '127.0.0.1',
    );
    const listener = account.listeners.get(fx.testListenerArn);
    if (listener) listener.port = options.testListenerPort;
  }
  const runner = (label: string) => {
    const testListener: Record<string, string> = options.testListenerPort
      ? { testListener: fx.testListenerArn }
      : {};
    const env = configSchema.parse(
      parse(
        awsEnvironmentYaml({
          bake: '5m',
          healthCheck: '{ readyTimeout: 20m, interval: 30s }',
          ...testListener,
          ...options.env,
        }),
      ),
    ).environments.prod as AwsEnvironmentConfig;
    const events: CutoverEvent[] = [];
    const dir = memoryTempDir(`cutover-${label}-`);
    const sink = new Events([(e) => events.push(e)], { runner: label }, () => clock.now());
    const abort = new AbortController();
    const target = createAwsTarget({
      env,
      artifact: 'catalog',
      environment: 'prod',
      clock,
      ports: installed.portsWith({ ...instantRetry, signal: abort.signal }),
      note: (message) => sink.warn('target.note', message),
    });
    const ctx: ControllerContext = {
      target,
      journal: new Journal(dir.path, 'prod', 'catalog'),
      events: sink,
      clock,
      probe: options.testListenerPort
        ? httpProbe(env.healthCheck, () => clock.now())
        : async (t) => ({
            instance: t.id,
            outcome: 'pass',
            detail: 'instances are not reachable here',
            at: clock.now(),
          }),
      healthCheck: env.healthCheck,
      strategy: env.strategy,
      bake: env.bake,
      rollbackWindow: env.rollbackWindow,
      keepFailed: false,
      signal: abort.signal,
    };
    if (target.notes) ctx.intents = notesIntents(target.notes);
    if (env.checks) ctx.checks = { config: env.checks, artifact: 'catalog', environment: 'prod' };
    return { ctx, events, env, codes: () => events.map((e) => e.code), cleanup: dir.remove };
  };
  const main = runner('ci-1');
  return {
    ...main,
    clock,
    account,
    runner,
    /** Which group takes each share of the listener's traffic, by group name. */
    live(): Record<string, number> {
      return Object.fromEntries(
        Object.entries(account.weights(main.env.listener))
          .filter(([, w]) => w > 0)
          .map(([tg, w]) => [
            [...account.groups.values()].find((g) => g.targetGroups.includes(tg) && g.instances.length > 0)
              ?.name ?? tg,
            w,
          ]),
      );
    },
    cleanup() {
      main.cleanup();
      installed.restore();
    },
  };
}
