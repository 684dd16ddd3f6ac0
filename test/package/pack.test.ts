import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/providers/local/processes.js';
import { stopAgent } from '../helpers/local.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const repo = resolve('.');
const tsc = join(repo, 'node_modules', '.bin', 'tsc');

/**
 * The package as a user gets it: `npm pack` (of the build `npm test` just made), installed into a
 * scratch project from the local npm cache, used through `import … from 'cutover'` and its bin.
 */
let scratch: ReturnType<typeof tempDir>;
let tarball: string;
let files: string[];

beforeAll(async () => {
  scratch = tempDir('cutover-pack-');
  const packed = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch.path], {
    cwd: repo,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  if (!info) throw new Error('npm pack printed no package');
  tarball = join(scratch.path, info.filename);
  files = info.files.map((f) => f.path);
  const app = join(scratch.path, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await run(npm, ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: app,
    timeout: 180_000,
  });
}, 240_000);

afterAll(async () => {
  await stopAgent(join(scratch.path, 'app', '.cutover'));
  scratch.remove();
});

describe('the published package', () => {
  it('holds what runs and nothing else: compiled code, types, the bin, the demo artifact', () => {
    expect(files).toContain('dist/src/index.js');
    expect(files).toContain('dist/src/index.d.ts');
    expect(files).toContain('bin/cutover.js');
    expect(files).toContain('dist/src/providers/local/agent-main.js');
    expect(files).toContain('examples/catalog/server.mjs');
    expect(
      files.filter((f) => /^(test|bench|src|\.ci)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
    ).toEqual([]);
    expect(files.some((f) => f.endsWith('.map'))).toBe(false);
    const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.private).toBeUndefined();
  });

  it('deploys and rolls back on the local target through `import { deploy, rollback } from "cutover"`', async () => {
    const app = join(scratch.path, 'app');
    const port = await freePort();
    const server = join(app, 'node_modules', 'cutover', 'examples', 'catalog', 'server.mjs');
    writeFileSync(
      join(app, 'cutover.config.yaml'),
      `artifacts:
  catalog:
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(server)}]
environments:
  local:
    target: local
    listen: 127.0.0.1:${port}
    capacity: 1
    bake: 100ms
    healthCheck: { interval: 100ms, healthyThreshold: 1, readyTimeout: 10s }
`,
    );
    writeFileSync(
      join(app, 'pipeline.mjs'),
      `import { deploy, rollback, status, exitCodeOf } from 'cutover';
const service = { artifact: 'catalog', environment: 'local' };
const codes = [];
const results = [];
for (const step of [
  () => deploy({ ...service, version: 'v1' }),
  () => deploy({ ...service, version: 'v2', onEvent: (e) => codes.push(e.code) }),
  () => fetch('http://127.0.0.1:${port}/').then((r) => r.json()).then((body) => ({ type: 'served', version: body.version })),
  () => rollback(service),
  () => status(service).then((s) => ({ type: s.type, serving: s.serving, live: s.status?.live?.version })),
]) results.push(await step());
console.log(JSON.stringify({ results, codes, exit: results.map((r) => (r.type === 'served' ? 0 : exitCodeOf(r))) }));
`,
    );
    const { stdout } = await run(process.execPath, ['pipeline.mjs'], { cwd: app, timeout: 60_000 });
    const out = JSON.parse(stdout) as {
      results: Record<string, unknown>[];
      codes: string[];
      exit: number[];
    };
    expect(out.results).toMatchObject([
      { type: 'deployed', version: 'v1' },
      { type: 'deployed', version: 'v2', previous: 'v1' },
      { type: 'served', version: 'v2' },
      { type: 'rolled-back', from: 'v2', to: 'v1' },
      { type: 'status', serving: true, live: 'v1' },
    ]);
    expect(out.codes).toContain('traffic.shifted');
    expect(out.exit).toEqual([0, 0, 0, 0, 0]);
  }, 90_000);

  it('runs nothing on import, and its bin is the CLI', async () => {
    const app = join(scratch.path, 'app');
    const imported = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const c = await import('cutover'); console.log(Object.keys(c).sort().join(','))`,
      ],
      { cwd: app },
    );
    expect(imported.stdout.trim().split(',')).toEqual(
      expect.arrayContaining(['abort', 'deploy', 'pause', 'plan', 'promote', 'resume', 'rollback', 'status']),
    );
    expect(imported.stderr).toBe('');
    const help = await run(join(app, 'node_modules', '.bin', 'cutover'), ['--help'], { cwd: app });
    expect(help.stdout).toMatch(/^cutover: blue\/green/);
  });

  it(
    'gives TypeScript users its types: results narrow on `type`, and a wrong field does not compile',
    { timeout: 60_000 },
    async () => {
      const app = join(scratch.path, 'app');
      writeFileSync(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            noEmit: true,
            // Our declarations are checked too, as a user's strict build would, and without @types/node:
            // a user need not install Node's types to use ours.
            skipLibCheck: false,
            types: [],
          },
          // Both files in one program: the package's declarations (and its dependencies') are checked
          // once, not once a file; each error names its file.
          files: ['ok.ts', 'wrong.ts'],
        }),
      );
      writeFileSync(
        join(app, 'ok.ts'),
        `import { deploy, type DeployResult } from 'cutover';
export async function live(): Promise<string> {
  const result: DeployResult = await deploy({ artifact: 'a', environment: 'e', version: 'v1' });
  switch (result.type) {
    case 'deployed': return result.version;
    case 'awaiting-approval': return result.until;
    case 'failed': return result.trafficOn ?? result.reason;
    case 'rejected': return result.hint ?? result.code;
    case 'locked': return result.holder?.deployment ?? '';
  }
}
`,
      );
      writeFileSync(
        join(app, 'wrong.ts'),
        `import { deploy } from 'cutover';
const result = await deploy({ artifact: 'a', environment: 'e', version: 'v1' });
if (result.type === 'rejected') console.log(result.trafficOn);
// What the CLI hands the library (its log, its wait for notifications) is not a public option.
await deploy({ artifact: 'a', environment: 'e', version: 'v1', afterResult: () => {} });
`,
      );
      const refused = (await run(tsc, ['-p', 'tsconfig.json'], { cwd: app }).then(
        () => {
          throw new Error('wrong.ts compiled');
        },
        (error: unknown) => error,
      )) as { stdout: string };
      const errors = refused.stdout.split('\n').filter((line) => /^\S+\(\d+,\d+\): error/.test(line));
      // ok.ts compiles: every error is in wrong.ts, and there are errors to look at.
      expect(errors.length).toBeGreaterThan(0);
      expect(
        errors.filter((line) => !line.startsWith('wrong.ts(')),
        refused.stdout,
      ).toEqual([]);
      expect(refused.stdout).toMatch(/wrong\.ts\(3,\d+\): error .*'trafficOn' does not exist/);
      expect(refused.stdout).toMatch(/wrong\.ts\(5,\d+\): error .*'afterResult' does not exist/);
    },
  );
});
