import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { agentPaths } from '../../src/providers/local/paths.js';
import { freePort } from '../../src/providers/local/processes.js';
import { cli } from '../helpers/cli.js';
import { stopAgent } from '../helpers/local.js';
import { tempDir } from '../helpers/tmp.js';

const envEcho = resolve('test/fixtures/env-echo.mjs');
const secret = 's3cr3t-7f1c9a-do-not-print';
const words = ['artifact=echo', 'environment=e2e'];

let dir: ReturnType<typeof tempDir>;
afterEach(async () => {
  await stopAgent(join(dir.path, '.cutover'));
  dir.remove();
});

/** A project whose `e2e` environment passes APP_SECRET (taken from the CLI's environment) to its instances. */
async function secretProject(): Promise<string> {
  dir = tempDir('cutover-secrets-');
  const port = await freePort();
  writeFileSync(
    join(dir.path, 'cutover.config.yaml'),
    `artifacts:
  echo:
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(envEcho)}]
environments:
  e2e:
    target: local
    listen: 127.0.0.1:${port}
    capacity: 1
    bake: 100ms
    env:
      APP_SECRET: \${APP_SECRET}
      GREETING: hello
    healthCheck: { interval: 100ms, healthyThreshold: 1, readyTimeout: 10s }
`,
  );
  return `http://127.0.0.1:${port}/`;
}

const cliEnv = { APP_SECRET: secret, CLI_ONLY: 'from-the-cli-shell' };

describe('what a local instance is given', () => {
  it('GIVEN env: in the config WHEN deployed THEN instances get it, a small base and PORT/VERSION/HOST, not the CLI environment', async () => {
    const endpoint = await secretProject();
    expect((await cli(dir.path, ['deploy', ...words, 'version=v1'], cliEnv)).code).toBe(0);
    const { env } = (await (await request(endpoint)).body.json()) as { env: Record<string, string> };
    expect(env).toMatchObject({ APP_SECRET: secret, GREETING: 'hello', VERSION: 'v1', HOST: '127.0.0.1' });
    expect(env.PORT).toMatch(/^\d+$/);
    expect(env.CLI_ONLY).toBeUndefined();
    const allowed = ['APP_SECRET', 'GREETING', 'PORT', 'VERSION', 'HOST', 'PATH', 'HOME', 'LANG', 'TZ'];
    // Node itself may add none; anything else came from some caller's environment.
    expect(Object.keys(env).filter((k) => !allowed.includes(k))).toEqual([]);
  });

  it('GIVEN a secret in env: WHEN plan, deploy, status and status --json run THEN it is in none of their output nor the agent log', async () => {
    await secretProject();
    const runs = [
      await cli(dir.path, ['plan', ...words, 'version=v1'], cliEnv),
      await cli(dir.path, ['deploy', ...words, 'version=v1'], cliEnv),
      await cli(dir.path, ['deploy', ...words, 'version=v2', '--json'], cliEnv),
      await cli(dir.path, ['status', ...words], cliEnv),
      await cli(dir.path, ['status', ...words, '--json'], cliEnv),
      await cli(dir.path, ['plan', ...words, 'version=v3', '--json'], cliEnv),
    ];
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    for (const run of runs) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }
    const paths = agentPaths(join(dir.path, '.cutover'));
    expect(readFileSync(paths.log, 'utf8')).not.toContain(secret);
    // The agent keeps it to restart instances: owner-only, in an owner-only folder.
    expect(readFileSync(paths.state, 'utf8')).toContain(secret);
    expect(statSync(paths.state).mode & 0o777).toBe(0o600);
    expect(statSync(paths.dir).mode & 0o777).toBe(0o700);
    // Six CLI runs, each a Node start-up: on a loaded machine they need more than the default 20 s.
  }, 60_000);
});

describe('a state folder other users can write', () => {
  it('GIVEN the state folder is o+w WHEN a deploy runs THEN it exits 2 naming the folder and the chmod, and starts no agent', async () => {
    await secretProject();
    const stateDir = join(dir.path, '.cutover');
    mkdirSync(stateDir);
    chmodSync(stateDir, 0o777);
    const result = await cli(dir.path, ['deploy', ...words, 'version=v1'], cliEnv);
    expect(result.code).toBe(2);
    expect(result.events.at(-1)).toMatchObject({
      code: 'STATE_DIR_SHARED',
      exitCode: 2,
      hint: expect.stringContaining(`chmod o-w ${stateDir}`),
    });
    expect(String(result.events.at(-1)?.message)).toContain(`\`${stateDir}\``);
    expect(existsSync(agentPaths(stateDir).socket)).toBe(false);
  });

  it('GIVEN the agent folder is o+w WHEN the agent itself is started THEN it refuses, saying why, and listens nowhere', async () => {
    dir = tempDir('cutover-agent-');
    const paths = agentPaths(dir.path);
    mkdirSync(paths.dir, { recursive: true });
    chmodSync(paths.dir, 0o777);
    const agent = spawnSync(
      process.execPath,
      [resolve('dist/src/providers/local/agent-main.js'), '--state-dir', dir.path],
      {
        encoding: 'utf8',
        timeout: 10_000,
      },
    );
    expect(agent.status).toBe(2);
    expect(agent.stderr).toContain(`\`${paths.dir}\` can be written by other users`);
    expect(agent.stderr).toContain(`chmod o-w ${paths.dir}`);
    expect(existsSync(paths.socket)).toBe(false);
  });
});
