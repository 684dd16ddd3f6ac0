import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { request } from 'undici';
import { cli, project } from '../helpers/cli.js';
import { stopAgent } from '../helpers/local.js';
import type { WorkflowYaml } from './gha.js';

/**
 * A project() folder whose environment is named `production`, the name the example pipelines use, so
 * that they run here unchanged.
 */
export async function productionProject() {
  const p = await project();
  const config = join(p.dir, 'cutover.config.yaml');
  writeFileSync(config, readFileSync(config, 'utf8').replace('\n  e2e:\n', '\n  production:\n'));
  return {
    ...p,
    async served(): Promise<string> {
      const response = await request(p.endpoint);
      return ((await response.body.json()) as { version: string }).version;
    },
    /** What `cutover status` answers: the `status` of its --json document. */
    async status(): Promise<Record<string, unknown>> {
      const result = await cli(p.dir, ['status', 'artifact=catalog', 'environment=production', '--json']);
      return (JSON.parse(result.stdout) as { status: Record<string, unknown> }).status;
    },
    /** A pre-traffic approval gate for the deploys that follow. */
    gate(): void {
      appendFileSync(config, '    strategy: { name: all-at-once, approval: { atWeight: 0, timeout: 5m } }\n');
    },
    async cleanup(): Promise<void> {
      await stopAgent(join(p.dir, '.cutover'));
      p.remove();
    },
  };
}

export const workflow = (name: string) =>
  parse(readFileSync(`examples/github/${name}`, 'utf8')) as WorkflowYaml;

/** Polls until `check` holds, or fails after `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
