import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, project } from '../helpers/cli.js';
import { stopAgent } from '../helpers/local.js';

let p: Awaited<ReturnType<typeof project>>;
afterEach(async () => {
  await stopAgent(join(p.dir, '.cutover'));
  p.remove();
});

const words = ['artifact=catalog', 'environment=e2e'];

interface Entry {
  deployment: string;
  kind: string;
  version: string | null;
  by: string | null;
  strategy: string | null;
  result: string;
  durationMs: number | null;
  reason: string | null;
  failedIn: string | null;
}

describe('cutover history (local, from the journal)', () => {
  it('GIVEN v1, v2, a broken version and a rollback THEN it lists them newest first with who, strategy, result, duration and what failed where', async () => {
    p = await project();
    const as = (name: string) => ({ CUTOVER_ACTOR: name });
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'], as('alice'))).code).toBe(0);
    expect((await cli(p.dir, ['deploy', ...words, 'version=v2'], as('alice'))).code).toBe(0);
    expect((await cli(p.dir, ['deploy', ...words, 'version=broken'], as('bob'))).code).toBe(1);
    expect((await cli(p.dir, ['rollback', ...words], as('carol'))).code).toBe(0);

    const json = await cli(p.dir, ['history', ...words, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const document = JSON.parse(json.stdout) as { result: string; detail: { entries: Entry[] } };
    expect(document.result).toBe('history');
    const entries = document.detail.entries;
    expect(entries.map((e) => [e.kind, e.version, e.result, e.by])).toEqual([
      ['rollback', 'v1', 'succeeded', 'carol'],
      ['deploy', 'broken', 'failed', 'bob'],
      ['deploy', 'v2', 'succeeded', 'alice'],
      ['deploy', 'v1', 'succeeded', 'alice'],
    ]);
    const broken = entries[1];
    expect(broken).toMatchObject({ failedIn: 'checking', strategy: 'all-at-once' });
    expect(broken?.reason).toMatch(/health check/);
    for (const e of entries) expect(e.durationMs).toBeGreaterThan(0);

    const two = await cli(p.dir, ['history', ...words, '--limit', '2']);
    const lines = two.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/rollback v1 {2}succeeded in \d+\.\ds {2}by carol$/);
    expect(lines[1]).toMatch(
      /deploy broken \(all-at-once\) {2}failed in .* by bob: in checking, version `broken` failed/,
    );

    const bad = await cli(p.dir, ['history', ...words, '--limit', '0']);
    expect(bad.code).toBe(2);
  });
});
