import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { cli, project, startCli, statusBody } from '../helpers/cli.js';
import { stopAgent } from '../helpers/local.js';
import { isAlive, processStartTime } from '../../src/providers/local/processes.js';

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}

const words = ['artifact=catalog', 'environment=e2e'];

describe('bad input: exit 2, a clear error, nothing changed', () => {
  let p: Awaited<ReturnType<typeof project>>;
  beforeAll(async () => (p = await project()));
  afterAll(() => p.remove());

  it.each([
    [
      'an unknown artifact',
      ['deploy', 'artifact=search', 'environment=e2e', 'version=v1'],
      'ARTIFACT_UNKNOWN',
    ],
    [
      'an unknown environment',
      ['deploy', 'artifact=catalog', 'environment=prod', 'version=v1'],
      'ENVIRONMENT_UNKNOWN',
    ],
    ['a missing version', ['deploy', ...words], 'ARG_MISSING'],
    ['an empty version', ['deploy', ...words, 'version='], 'ARG_MISSING'],
    ['a blank version', ['deploy', ...words, 'version= '], 'VERSION_MISSING'],
    ['a version with a path', ['deploy', ...words, 'version=../x'], 'VERSION_INVALID'],
    ['a version with shell characters', ['deploy', ...words, 'version=v1;rm'], 'VERSION_INVALID'],
    ['an unknown key=value word', ['deploy', ...words, 'version=v1', 'region=eu'], 'ARG_UNKNOWN'],
    ['an unknown flag', ['deploy', ...words, 'version=v1', '--force'], 'ARG_UNKNOWN'],
    ['an unknown command', ['deplo', ...words], 'COMMAND_UNKNOWN'],
    [
      'a missing config file',
      ['deploy', ...words, 'version=v1', '--config', 'nope.yaml'],
      'CONFIG_UNREADABLE',
    ],
  ])('%s', async (_label, args, code) => {
    const result = await cli(p.dir, args);
    expect(result.code).toBe(2);
    expect(result.events.at(-1)).toMatchObject({ level: 'error', code, exitCode: 2 });
    expect(existsSync(join(p.dir, '.cutover'))).toBe(false);
  });

  it.each([
    ['does not parse', 'environments: [\n  - {', 'CONFIG_PARSE', /not valid YAML at line/],
    [
      'fails the schema',
      'artifacts: {}\nenvironments:\n  e2e:\n    target: local\n    capacity: 0\n',
      'CONFIG_INVALID',
      /`environments\.e2e\.capacity`/,
    ],
    [
      'names an environment with `--`',
      'artifacts:\n  catalog: {}\nenvironments:\n  e2e--x:\n    target: local\n',
      'CONFIG_INVALID',
      /`environments\.e2e--x`: name "e2e--x" contains `--`/,
    ],
  ])('a config that %s names the file and what is wrong', async (_label, text, code, pattern) => {
    writeFileSync(join(p.dir, 'bad.yaml'), text);
    const result = await cli(p.dir, ['deploy', ...words, 'version=v1', '--config', 'bad.yaml']);
    expect(result.code).toBe(2);
    expect(result.events.at(-1)).toMatchObject({ code });
    expect(String(result.events.at(-1)?.message)).toContain(join(p.dir, 'bad.yaml'));
    expect(String(result.events.at(-1)?.message)).toMatch(pattern);
    expect(existsSync(join(p.dir, '.cutover'))).toBe(false);
  });

  it('explains every command with --help, and lists the exit codes', async () => {
    const top = await cli(p.dir, ['--help']);
    expect(top.code).toBe(0);
    for (const command of ['deploy', 'rollback', 'status', 'abort', 'unlock', 'down']) {
      expect(top.stdout).toContain(command);
      const help = await cli(p.dir, [command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: cutover ${command}`);
      expect(help.stdout).toContain('3  another deploy or rollback');
    }
    expect((await cli(p.dir, [])).code).toBe(2);
  });

  it('GIVEN a command that sends no request THEN the CLI never loads got: the HTTP client comes with the first request', async () => {
    // A resolve hook in the CLI's process writes down every module it is asked to load.
    const hooks = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  appendFileSync(process.env.RESOLVED_LOG, specifier + '\\n');
  return next(specifier, context);
}`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
    const log = join(p.dir, 'resolved.log');
    const result = await cli(p.dir, ['status', '--help'], {
      NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(register)}`,
      RESOLVED_LOG: log,
    });
    expect(result.code, result.stderr).toBe(0);
    const resolved = readFileSync(log, 'utf8').split('\n');
    expect(resolved).toContain('yaml');
    expect(resolved).not.toContain('got');
  });
});

describe('the lock, across real processes', () => {
  let p: Awaited<ReturnType<typeof project>>;
  afterEach(async () => {
    await stopAgent(join(p.dir, '.cutover'));
    p.remove();
  });

  function holdLock(pid: number, extra: object = {}) {
    mkdirSync(join(p.dir, '.cutover', 'locks'), { recursive: true });
    const holder = {
      deployment: 'd-holder',
      command: 'deploy',
      pid,
      host: hostname(),
      startedAt: Date.UTC(2026, 10, 26, 9),
      ...extra,
    };
    writeFileSync(join(p.dir, '.cutover', 'locks', 'e2e--catalog.lock'), JSON.stringify(holder));
  }

  it('GIVEN a deploy holds the lock WHEN another deploy or rollback starts THEN it exits 3 naming the holder', async () => {
    p = await project();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      holdLock(sleeper.pid ?? 0);
      for (const args of [
        ['deploy', ...words, 'version=v1'],
        ['rollback', ...words],
      ]) {
        const result = await cli(p.dir, args);
        expect(result.code).toBe(3);
        expect(result.events.at(-1)).toMatchObject({ code: 'LOCKED', exitCode: 3 });
        expect(String(result.events.at(-1)?.message)).toContain(
          `d-holder (pid ${sleeper.pid} on ${hostname()}, started 2026-11-26T09:00:00.000Z)`,
        );
      }
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('GIVEN two deploys start at once WHEN both race for the lock THEN exactly one deploys and the other exits 3', async () => {
    p = await project();
    const [a, b] = await Promise.all([
      cli(p.dir, ['deploy', ...words, 'version=v1']),
      cli(p.dir, ['deploy', ...words, 'version=v2']),
    ]);
    const last = (r: typeof a) => JSON.stringify(r.events.at(-1));
    expect([a.code, b.code].sort(), `${last(a)}\n${last(b)}`).toEqual([0, 3]);
  });

  it('GIVEN a lock from another host THEN deploy exits 3 naming that host, and `cutover unlock` removes it only for its own deployment id', async () => {
    p = await project();
    holdLock(process.pid, { host: 'runner-7' });
    const lockFile = join(p.dir, '.cutover', 'locks', 'e2e--catalog.lock');

    const deploy = await cli(p.dir, ['deploy', ...words, 'version=v1']);
    expect(deploy.code).toBe(3);
    expect(deploy.events.at(-1)).toMatchObject({ code: 'LOCKED', exitCode: 3 });
    expect(String(deploy.events.at(-1)?.message)).toContain('locked from another host, `runner-7`');
    expect(String(deploy.events.at(-1)?.hint)).toContain(
      'cutover unlock artifact=catalog environment=e2e deployment=d-holder',
    );

    const wrong = await cli(p.dir, ['unlock', ...words, 'deployment=d-other']);
    expect(wrong.code).toBe(2);
    expect(wrong.events.at(-1)).toMatchObject({ code: 'UNLOCK_NOT_HOLDER', exitCode: 2 });
    expect(String(wrong.events.at(-1)?.message)).toContain('d-holder (pid');
    expect(String(wrong.events.at(-1)?.message)).toContain('on runner-7');
    expect(existsSync(lockFile)).toBe(true);

    const right = await cli(p.dir, ['unlock', ...words, 'deployment=d-holder']);
    expect(right.code).toBe(0);
    expect(right.events.map((e) => e.code)).toContain('lock.removed');
    expect(existsSync(lockFile)).toBe(false);

    const again = await cli(p.dir, ['unlock', ...words, 'deployment=d-holder']);
    expect(again.code).toBe(0);
    expect(String(again.events.at(-1)?.message)).toContain('nothing to remove');
  });

  it('GIVEN a deploy that runs here holds the lock WHEN `cutover unlock` names it THEN it is refused (exit 2) and the lock stays', async () => {
    p = await project();
    holdLock(process.pid, { processStart: processStartTime(process.pid) });
    const result = await cli(p.dir, ['unlock', ...words, 'deployment=d-holder']);
    expect(result.code).toBe(2);
    expect(result.events.at(-1)).toMatchObject({ code: 'UNLOCK_RUNNING', exitCode: 2 });
    expect(existsSync(join(p.dir, '.cutover', 'locks', 'e2e--catalog.lock'))).toBe(true);
  });

  it('GIVEN a lock left by a killed process WHEN a deploy starts THEN the stale lock is broken and it deploys', async () => {
    p = await project();
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('exit', r));
    holdLock(dead.pid ?? 0);
    const result = await cli(p.dir, ['deploy', ...words, 'version=v1']);
    expect(result.code).toBe(0);
  });
});

describe('a pid reused by another process', () => {
  let p: Awaited<ReturnType<typeof project>>;
  afterEach(async () => {
    await stopAgent(join(p.dir, '.cutover'));
    p.remove();
  });

  it('GIVEN the lock names a live pid that started after the lock was taken WHEN `cutover abort` runs THEN that process is not signalled and the stale lock is cleared', async () => {
    p = await project();
    const stranger = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const pid = stranger.pid ?? 0;
      await until(() => processStartTime(pid) !== undefined);
      mkdirSync(join(p.dir, '.cutover', 'locks'), { recursive: true });
      const lock = join(p.dir, '.cutover', 'locks', 'e2e--catalog.lock');
      writeFileSync(
        lock,
        JSON.stringify({
          deployment: 'd-gone',
          command: 'deploy',
          pid,
          processStart: (processStartTime(pid) ?? 0) - 1,
          host: hostname(),
          startedAt: Date.UTC(2026, 10, 26, 9),
        }),
      );
      const result = await cli(p.dir, ['abort', ...words]);
      // Nothing ran behind that lock: nothing to abort (exit 2), and the stranger is left alone.
      expect(result.code).toBe(2);
      expect(result.stderr).not.toContain('asking deploy d-gone');
      expect(stranger.exitCode).toBeNull();
      expect(stranger.signalCode).toBeNull();
      expect(isAlive(pid)).toBe(true);
      expect(existsSync(lock)).toBe(false);
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});

describe('a controller that dies or is aborted', () => {
  let p: Awaited<ReturnType<typeof project>>;
  afterEach(async () => {
    await stopAgent(join(p.dir, '.cutover'));
    p.remove();
  });

  async function servedVersion(): Promise<string> {
    const response = await request(p.endpoint);
    return ((await response.body.json()) as { version: string }).version;
  }

  /** Starts a deploy of v2 with a long bake and resolves once traffic has moved and the bake has begun. */
  async function deployUntilBaking() {
    const run = startCli(p.dir, ['deploy', ...words, 'version=v2'], { BAKE: '60s' });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      run.child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('"code":"bake.started"')) resolve();
      });
      run.child.on('exit', () => reject(new Error(`deploy ended before baking: ${stderr}`)));
    });
    return run;
  }

  it('GIVEN the CLI is killed while baking THEN the agent keeps serving, and the next command rolls the deploy back', async () => {
    p = await project();
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    const run = await deployUntilBaking();
    run.child.kill('SIGKILL');
    await run.done;
    expect(await servedVersion()).toBe('v2');

    const next = await cli(p.dir, ['rollback', ...words]);
    expect(next.events.map((e) => e.code)).toEqual(
      expect.arrayContaining(['recovery.started', 'recovery.finished']),
    );
    expect(await servedVersion()).toBe('v1');
    const journal = readFileSync(join(p.dir, '.cutover', 'journal', 'e2e--catalog.jsonl'), 'utf8');
    expect(journal).toContain('controller stopped during baking; rolled back');
    const status = statusBody((await cli(p.dir, ['status', ...words, '--json'])).stdout);
    expect(status.fleets.map((f: { version: string }) => f.version)).toEqual(['v1']);
  });

  it('GIVEN nothing runs WHEN `cutover abort` runs THEN it says there is nothing to abort, with its own code, and exits 2, as promote, pause and resume do with nothing to act on', async () => {
    p = await project();
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    const abort = await cli(p.dir, ['abort', ...words]);
    expect(abort.code).toBe(2);
    // command.failed is logged under its error code, what pipelines match.
    expect(abort.events.map((e) => [e.code, e.exitCode])).toEqual([['NOTHING_TO_ABORT', 2]]);
    // Its document still shows the environment as it stands.
    const json = await cli(p.dir, ['abort', ...words, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      result: 'rejected',
      exitCode: 2,
      error: { code: 'NOTHING_TO_ABORT' },
      liveVersion: 'v1',
      status: { live: { version: 'v1' } },
    });
    expect(await servedVersion()).toBe('v1');
  });

  it('GIVEN a deploy is baking WHEN `cutover abort` runs THEN the deploy puts traffic back on blue and exits 1', async () => {
    p = await project();
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'])).code).toBe(0);
    const run = await deployUntilBaking();
    const abort = await cli(p.dir, ['abort', ...words]);
    expect(abort.code).toBe(0);
    expect(abort.events.map((e) => e.code)).toEqual(['abort.requested', 'abort.finished']);
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.events.map((e) => e.code)).toEqual(
      expect.arrayContaining(['abort.requested', 'traffic.restoring', 'deploy.failed']),
    );
    expect(result.events.at(-1)).toMatchObject({ code: 'ABORTED', exitCode: 1 });
    expect(await servedVersion()).toBe('v1');
  });
});
