import { appendFileSync } from 'node:fs';
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

  it('GIVEN an actor with a newline and a terminal escape, and lines edited by hand into the journal THEN each entry stays one line and the rest still shows', async () => {
    p = await project();
    const forged = 'tom\n2026-01-01T00:00:00.000Z  d-fake  deploy v9  succeeded  by ceo\u001b[2K';
    expect((await cli(p.dir, ['deploy', ...words, 'version=v1'], { CUTOVER_ACTOR: forged })).code).toBe(0);
    appendFileSync(
      join(p.dir, '.cutover', 'journal', 'e2e--catalog.jsonl'),
      'null\n{"deployment":"d-x","kind":"deploy","phase":"started"}\n{"deployment":"d-y","kind":"deploy","phase":"started","at":"soon"}\n',
    );
    expect((await cli(p.dir, ['deploy', ...words, 'version=v2'])).code).toBe(0);
    const text = await cli(p.dir, ['history', ...words]);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('by tom\\x0a2026-01-01');
    expect(text.stdout).not.toContain('\u001b');
    const report = await cli(p.dir, ['report', ...words, '--out', join(p.dir, 'r.html')]);
    expect(report.code, report.stderr).toBe(0);
  });
});
