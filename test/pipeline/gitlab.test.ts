import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli, cliPath } from '../helpers/cli.js';
import { productionProject } from './local-target.js';

/**
 * examples/gitlab/.gitlab-ci.yml under gitlab-ci-local (shell executor, in the project folder, which is
 * a fresh git repository on `main`), pointed at this checkout's built CLI through CUTOVER_BIN so that no
 * job clones or builds cutover.
 */

const gitlabCiLocal = resolve('node_modules/.bin/gitlab-ci-local');
const example = resolve('examples/gitlab/.gitlab-ci.yml');

let p: Awaited<ReturnType<typeof productionProject>> | undefined;
afterEach(async () => {
  await p?.cleanup();
  p = undefined;
});

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  // Without the GitHub variables of a job this may run in: cutover would record GitHub Deployments.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(GITHUB|RUNNER)_/.test(key)),
  );
  const child = spawn(command, args, { cwd, env: { ...env, GIT_TERMINAL_PROMPT: '0' } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, output })));
}

async function repository(dir: string): Promise<void> {
  copyFileSync(example, join(dir, '.gitlab-ci.yml'));
  writeFileSync(join(dir, '.gitignore'), '.cutover/\n.gitlab-ci-local/\ncutover*.json\n');
  const git = (...args: string[]) =>
    run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], dir);
  expect((await git('init', '-q', '-b', 'main')).code).toBe(0);
  expect((await git('add', '-A')).code).toBe(0);
  expect((await git('commit', '-qm', 'pipeline')).code).toBe(0);
}

const dir = (): string => {
  if (!p) throw new Error('no project');
  return p.dir;
};
/** One job; schema validation (about a second) only where a test asks for it. */
function job(name: string, variables: Record<string, string>, validate = false) {
  const args = [name, '--manual', name, '--no-color', '--home', join(dir(), '.gitlab-ci-local', 'home')];
  if (!validate) args.push('--no-json-schema-validation');
  for (const [key, value] of Object.entries({ CUTOVER_BIN: cliPath, ...variables })) {
    args.push('--variable', `${key}=${value}`);
  }
  return run(gitlabCiLocal, args, dir());
}

const document = () =>
  JSON.parse(readFileSync(join(dir(), 'cutover.json'), 'utf8')) as Record<string, unknown>;

describe('examples/gitlab/.gitlab-ci.yml under gitlab-ci-local', { timeout: 40_000 }, () => {
  it('serializes deploys and rollbacks per environment, and makes the rollback manual', () => {
    const ci = parse(readFileSync(example, 'utf8')) as Record<string, Record<string, unknown>>;
    expect(ci['.cutover']?.resource_group).toBe('$CUTOVER_ENVIRONMENT');
    expect(ci['.cutover']?.interruptible).toBe(false);
    expect(ci.deploy?.extends).toBe('.cutover');
    expect(ci.rollback?.extends).toBe('.cutover');
    expect(ci.rollback?.rules).toEqual([expect.objectContaining({ when: 'manual' })]);
  });

  it('deploys v2 (valid against GitLab’s schema), fails on broken with an after_script abort that finds nothing left, and the manual rollback goes back to v1', async () => {
    const project = await productionProject();
    p = project;
    mkdirSync(join(project.dir, '.gitlab-ci-local', 'home'), { recursive: true });
    const v1 = await cli(project.dir, ['deploy', 'artifact=catalog', 'environment=production', 'version=v1']);
    expect(v1.code, v1.stderr).toBe(0);
    await repository(project.dir);

    const deploy = await job('deploy', { CUTOVER_VERSION: 'v2' }, true);
    expect(deploy.code, deploy.output).toBe(0);
    expect(deploy.output).toContain('json schema validated');
    expect(deploy.output).toMatch(/PASS\s+deploy/);
    expect(existsSync(join(project.dir, '.cutover-src'))).toBe(false); // CUTOVER_BIN skipped the install
    expect(await project.served()).toBe('v2');
    expect(document()).toMatchObject({ command: 'deploy', result: 'deployed', liveVersion: 'v2' });

    const broken = await job('deploy', { CUTOVER_VERSION: 'broken' });
    expect(broken.code).not.toBe(0);
    expect(broken.output).toMatch(/FAIL\s+deploy/);
    expect(broken.output).toContain('cutover abort: nothing left to abort');
    expect(await project.served()).toBe('v2');
    expect(document()).toMatchObject({ result: 'failed', liveVersion: 'v2' });

    const rollback = await job('rollback', {});
    expect(rollback.code, rollback.output).toBe(0);
    expect(rollback.output).toMatch(/PASS\s+rollback/);
    expect(await project.served()).toBe('v1');
    expect(document()).toMatchObject({ command: 'rollback', result: 'rolled-back', liveVersion: 'v1' });
  });
});
