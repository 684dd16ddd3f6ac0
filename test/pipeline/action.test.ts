import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { Runner, repoRoot, runAction } from './gha.js';

/**
 * action.yml's steps, run in bash as the runner runs them, with a stand-in for cutover at
 * GITHUB_ACTION_PATH: the stand-in records the argv, folder and environment it was given and prints a
 * document of the shape cutover prints with --json. What the real CLI does is in action-e2e.test.ts.
 */

const stub = `import { appendFileSync } from 'node:fs';
const argv = process.argv.slice(2);
const record = (what) => appendFileSync(process.env.STUB_RECORD, JSON.stringify(what) + '\\n');
const finish = () => {
  process.stdout.write(process.env.STUB_STDOUT ?? '');
  process.exitCode = Number(process.env.STUB_EXIT ?? 0);
};
// The handler before the first record: the test cancels as soon as it sees that record.
process.on('SIGTERM', () => { record({ signal: 'SIGTERM' }); finish(); process.exit(); });
record({ argv, cwd: process.cwd(), token: process.env.GITHUB_TOKEN ?? null });
process.stderr.write('{"level":"info","message":"a log line"}\\n');
if (process.env.STUB_WAIT) setInterval(() => {}, 1000);
else finish();
`;

const doc = (over: Record<string, unknown> = {}) => ({
  schemaVersion: 1,
  command: 'deploy',
  result: 'deployed',
  exitCode: 0,
  artifact: 'catalog',
  environment: 'prod',
  deployment: 'd-20261127T120000-abcd',
  version: 'v2',
  liveVersion: 'v2',
  weights: { v2: 100 },
  durationMs: 2345,
  error: null,
  next: null,
  status: null,
  ...over,
});

const failedDoc = doc({
  result: 'failed',
  exitCode: 1,
  liveVersion: 'v1',
  weights: { v1: 100 },
  error: {
    code: 'HEALTH_CHECK_FAILED',
    phase: 'health',
    reason: 'GET /health answered 500 | <b>',
    hint: 'fix the version, then deploy again',
    trafficOn: 'v1',
  },
  next: 'cutover status artifact=catalog environment=prod',
});

let root: ReturnType<typeof tempDir>;
let actionPath: string;
let workspace: string;
let recordFile: string;
let runner: Runner;

beforeEach(() => {
  root = tempDir('cutover-action-');
  actionPath = join(root.path, 'action');
  workspace = join(root.path, 'workspace');
  mkdirSync(join(actionPath, 'bin'), { recursive: true });
  mkdirSync(join(actionPath, 'dist/src/cli'), { recursive: true });
  mkdirSync(join(workspace, 'svc'), { recursive: true });
  cpSync(join(repoRoot, 'action.yml'), join(actionPath, 'action.yml'));
  cpSync(join(repoRoot, 'action'), join(actionPath, 'action'), { recursive: true });
  writeFileSync(join(actionPath, 'bin/cutover.js'), stub);
  writeFileSync(join(actionPath, 'dist/src/cli/main.js'), '');
  recordFile = join(root.path, 'record.jsonl');
  runner = new Runner();
});
afterEach(() => {
  runner.scratch.remove();
  root.remove();
});

const records = () =>
  existsSync(recordFile)
    ? readFileSync(recordFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

function run(inputs: Record<string, string>, stubEnv: Record<string, string> = {}) {
  return runAction(runner, inputs, {
    cwd: workspace,
    actionPath,
    github: { token: 'ghs_job_token' },
    env: { STUB_RECORD: recordFile, ...stubEnv },
  });
}

describe('action.yml with a stand-in cutover', () => {
  it('passes every input as one argv word, runs in working-directory, and gives cutover the token as GITHUB_TOKEN', async () => {
    const result = await run(
      {
        command: 'deploy',
        artifact: 'catalog',
        environment: 'prod',
        version: 'v2',
        strategy: 'canary',
        detach: 'true',
        'keep-failed': 'true',
        config: 'cutover.prod.yaml',
        'state-dir': '/var/lib/cutover',
        'working-directory': 'svc',
      },
      { STUB_STDOUT: JSON.stringify(doc()) },
    );
    expect(result.code).toBe(0);
    expect(records()).toEqual([
      {
        argv: [
          'deploy',
          'artifact=catalog',
          'environment=prod',
          'version=v2',
          'strategy=canary',
          '--detach',
          '--keep-failed',
          '--config',
          'cutover.prod.yaml',
          '--state-dir',
          '/var/lib/cutover',
          '--json',
        ],
        cwd: join(workspace, 'svc'),
        token: 'ghs_job_token',
      },
    ]);
  });

  it('leaves out the words that are not given, and passes promote --full', async () => {
    await run(
      { command: 'promote', artifact: 'catalog', environment: 'prod', full: 'true' },
      { STUB_STDOUT: '{}' },
    );
    expect(records()[0]?.argv).toEqual([
      'promote',
      'artifact=catalog',
      'environment=prod',
      '--full',
      '--json',
    ]);
  });

  it('never runs an input as shell code', async () => {
    const evil = '$(touch pwned1)`touch pwned2`"; touch pwned3; echo "';
    const result = await run({
      command: 'deploy',
      artifact: 'catalog',
      environment: evil,
      version: "v2' ; touch pwned4 #",
    });
    expect(records()[0]?.argv).toEqual([
      'deploy',
      'artifact=catalog',
      `environment=${evil}`,
      "version=v2' ; touch pwned4 #",
      '--json',
    ]);
    for (const name of ['pwned1', 'pwned2', 'pwned3', 'pwned4'])
      expect(existsSync(join(workspace, name))).toBe(false);
    expect(result.code).toBe(0);
    // Nor as a workflow command: the echoed command line keeps a newline inside its word.
    const sneaky = await run({ command: 'status', artifact: 'catalog', environment: 'prod\n::add-mask::x' });
    expect(sneaky.steps.run?.stdout).not.toMatch(/^::/m);
    expect(sneaky.steps.run?.stdout).toContain('cutover status artifact=catalog');
  });

  it('refuses an unknown command or a flag that is not true/false with exit 2, without running cutover', async () => {
    const bad = await run({ command: 'down', environment: 'prod' });
    expect(bad.code).toBe(2);
    expect(bad.steps.run?.stdout).toContain('::error title=cutover action::command must be one of');
    const flag = await run({ command: 'deploy', detach: 'yes\n::add-mask::x' });
    expect(flag.code).toBe(2);
    expect(flag.steps.run?.stdout).toMatch(/^::error title=cutover action::detach must be true or false/);
    expect(flag.steps.run?.stdout.trim().split('\n')).toHaveLength(1);
    expect(records()).toEqual([]);
  });

  it('writes the outputs (json as a heredoc block) and a summary of a success', async () => {
    const result = await run(
      { command: 'deploy', artifact: 'catalog', environment: 'prod', version: 'v2' },
      { STUB_STDOUT: `${JSON.stringify(doc())}\n` },
    );
    expect(result.code).toBe(0);
    expect(result.outputs).toMatchObject({
      'deployment-id': 'd-20261127T120000-abcd',
      result: 'deployed',
      'live-version': 'v2',
      'exit-code': '0',
      'error-code': '',
    });
    expect(JSON.parse(result.outputs.json ?? '')).toEqual(doc());
    expect(result.steps.report?.rawOutput).toMatch(/^json<<ghadelimiter_[0-9a-f-]+$/m);
    expect(runner.summary).toContain('cutover deploy: deployed');
    expect(runner.summary).toContain('| live version | `v2` |');
    expect(runner.summary).toContain('| weights | `v2` 100% |');
    expect(runner.summary).toContain('| duration | 2.3 s |');
  });

  it('fails with cutover’s exit code, saying in the summary and an annotation what failed, where traffic is and what to do next', async () => {
    const result = await run(
      { command: 'deploy', artifact: 'catalog', environment: 'prod', version: 'v2' },
      { STUB_STDOUT: JSON.stringify(failedDoc), STUB_EXIT: '1' },
    );
    expect(result.code).toBe(1);
    expect(result.outputs).toMatchObject({
      result: 'failed',
      'live-version': 'v1',
      'exit-code': '1',
      'error-code': 'HEALTH_CHECK_FAILED',
    });
    expect(runner.summary).toContain(
      '**Failed:** `HEALTH_CHECK_FAILED` in `health`: GET /health answered 500 \\| \\<b\\>',
    );
    expect(runner.summary).toContain('Traffic is on `v1`.');
    expect(runner.summary).toContain('**Hint:** fix the version, then deploy again');
    expect(runner.summary).toContain('**Next:** cutover status artifact=catalog environment=prod');
    expect(result.steps.report?.stdout).toContain('::error title=cutover deploy failed::HEALTH_CHECK_FAILED');
  });

  it('exit codes in ok-exit-codes do not fail the step, and are still reported', async () => {
    const nothing = JSON.stringify(
      doc({ command: 'abort', result: 'failed', exitCode: 2, deployment: null }),
    );
    const strict = await run(
      { command: 'abort', artifact: 'catalog', environment: 'prod' },
      { STUB_STDOUT: nothing, STUB_EXIT: '2' },
    );
    expect(strict.code).toBe(2);
    const lenient = await run(
      { command: 'abort', artifact: 'catalog', environment: 'prod', 'ok-exit-codes': '0 2' },
      { STUB_STDOUT: nothing, STUB_EXIT: '2' },
    );
    expect(lenient.code).toBe(0);
    expect(lenient.outputs['exit-code']).toBe('2');
  });

  it('says a refusal is one (no "Failed", no claim that nothing takes traffic), and nothing it prints opens a cell, a tag or a line', async () => {
    const nasty = 'v2<img src=x>|`\r# heading';
    const refused = JSON.stringify(
      doc({
        command: 'abort',
        result: 'rejected',
        exitCode: 2,
        version: nasty,
        liveVersion: 'v1',
        weights: { v1: 100 },
        error: {
          code: 'NOTHING_TO_ABORT',
          phase: null,
          reason: 'nothing to abort\r---',
          hint: null,
          trafficOn: null,
        },
      }),
    );
    const result = await run(
      { command: 'abort', artifact: 'catalog', environment: 'prod', 'ok-exit-codes': '0 2' },
      { STUB_STDOUT: refused, STUB_EXIT: '2' },
    );
    expect(result.code).toBe(0);
    expect(runner.summary).toContain('**Rejected:** `NOTHING_TO_ABORT`: nothing to abort ---');
    expect(runner.summary).not.toContain('**Failed:**');
    expect(runner.summary).not.toContain('No fleet takes traffic');
    // The version's cell: its `|` escaped even inside the code span, its backtick and \r made spaces.
    expect(runner.summary).toContain('| version | `v2<img src=x>\\|  # heading` |');
    for (const line of runner.summary.split('\n').filter((l) => l.startsWith('|')))
      expect(line.split(/(?<!\\)\|/).length, line).toBe(4);
  });

  it('ok-exit-codes takes whole numbers only: `0x2` is said and ignored, not read as 2', async () => {
    const nothing = JSON.stringify(doc({ command: 'abort', result: 'rejected', exitCode: 2 }));
    const result = await run(
      { command: 'abort', artifact: 'catalog', environment: 'prod', 'ok-exit-codes': '0 0x2' },
      { STUB_STDOUT: nothing, STUB_EXIT: '2' },
    );
    expect(result.code).toBe(2);
    expect(result.steps.report?.stdout).toContain(
      '::warning::ok-exit-codes: 0x2 is not an exit code; ignored',
    );
  });

  it('passes a cancellation on to cutover as SIGTERM and still reports what it printed', async () => {
    const aborted = JSON.stringify(doc({ result: 'aborted', exitCode: 1, liveVersion: 'v1' }));
    const running = run(
      { command: 'deploy', artifact: 'catalog', environment: 'prod', version: 'v2' },
      { STUB_WAIT: '1', STUB_STDOUT: aborted, STUB_EXIT: '1' },
    );
    const deadline = Date.now() + 10_000;
    while (records().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    runner.cancel();
    const result = await running;
    expect(records()[1]).toEqual({ signal: 'SIGTERM' });
    // The report step runs on a cancelled job (always()), with cutover's own exit code.
    expect(result.code).toBe(1);
    expect(result.outputs).toMatchObject({ result: 'aborted', 'live-version': 'v1', 'exit-code': '1' });
  });

  it('installs cutover with npm ci when the action path has no build', async () => {
    // `npm` here is a stand-in on PATH that records its arguments and folder and builds nothing.
    const fakeBin = join(root.path, 'fake-bin');
    mkdirSync(fakeBin);
    writeFileSync(
      join(fakeBin, 'npm'),
      `#!/bin/sh\necho "npm $* in $PWD" >> "${join(root.path, 'npm.log')}"\n`,
      { mode: 0o755 },
    );
    rmSync(join(actionPath, 'dist'), { recursive: true });
    const result = await run(
      { command: 'status', artifact: 'catalog', environment: 'prod' },
      {
        PATH: `${fakeBin}:${process.env.PATH}`,
        STUB_STDOUT: JSON.stringify(doc({ command: 'status', result: 'status' })),
      },
    );
    expect(result.code).toBe(0);
    expect(readFileSync(join(root.path, 'npm.log'), 'utf8')).toBe(
      `npm ci --include=dev --no-audit --no-fund in ${actionPath}\n`,
    );
  });
});
