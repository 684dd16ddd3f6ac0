import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CutoverEvent } from '../../src/events.js';
import { freePort } from '../../src/providers/local/processes.js';
import { demoServer } from './local.js';
import { tempDir } from './tmp.js';

export const cliPath = resolve('bin/cutover.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The JSON log lines the CLI wrote to stderr. */
  events: (Partial<CutoverEvent> & Record<string, unknown>)[];
}

export function parseEvents(stderr: string): CliResult['events'] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as CliResult['events'][number]);
}

/**
 * This process's environment less a GitHub token: run inside a GitHub Actions job that exports one, every
 * CLI test would otherwise record GitHub Deployments of the real repository. Tests of that pass their own.
 */
function inherited(): NodeJS.ProcessEnv {
  const rest = { ...process.env };
  delete rest.GITHUB_TOKEN;
  return rest;
}

/** Starts the real CLI as a separate process (stderr is not a terminal, so logs are JSON lines). */
export function startCli(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd,
    env: { ...inherited(), ...env, CI: 'true' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolveDone) => {
    child.on('close', (code) => resolveDone({ code, stdout, stderr, events: parseEvents(stderr) }));
  });
  return { child, done };
}

export function cli(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startCli(cwd, args, env).done;
}

/** A folder with a cutover.config.yaml whose environment `e2e` serves the demo artifact on a free port. */
export async function project(): Promise<{ dir: string; endpoint: string; remove: () => void }> {
  const tmp = tempDir('cutover-e2e-');
  const port = await freePort();
  writeFileSync(
    join(tmp.path, 'cutover.config.yaml'),
    `artifacts:
  catalog:
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(demoServer)}]
environments:
  e2e:
    target: local
    listen: 127.0.0.1:${port}
    capacity: 2
    bake: \${BAKE:-200ms}
    rollbackWindow: \${WINDOW:-10m}
    drainTimeout: 2s
    healthCheck:
      interval: 100ms
      timeout: 1s
      healthyThreshold: 2
      unhealthyThreshold: 2
      readyTimeout: 10s
`,
  );
  return { dir: tmp.path, endpoint: `http://127.0.0.1:${port}/`, remove: tmp.remove };
}

/**
 * The `status` body of a `--json` document (schemaVersion 1), as JSON.parse gives it: each test casts it
 * to the shape it reads.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as JSON.parse's own result
export function statusBody(stdout: string): any {
  const document = JSON.parse(stdout) as { schemaVersion?: number; status?: unknown };
  if (document.schemaVersion !== 1) throw new Error(`not a schemaVersion 1 document: ${stdout}`);
  return document.status;
}
