import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileRecord } from '../../src/notify/record.js';
import { tempDir } from '../helpers/tmp.js';

let dir: ReturnType<typeof tempDir>;
afterEach(() => dir.remove());

describe('the record of what was told, beside the journal', () => {
  it('GIVEN two processes on one state folder WHEN one records after the other has read THEN the other sees it, and a torn line is skipped', async () => {
    dir = tempDir('cutover-record-');
    const first = new FileRecord(dir.path, 'prod', 'catalog');
    const second = new FileRecord(dir.path, 'prod', 'catalog');
    expect(await second.wasSent('d-1:started', 'slack #deploys')).toBe(false);
    await first.markSent('d-1:started', 'slack #deploys');
    await first.saveMessage('d-1', 'slack #deploys', { channel: 'C1', ts: '1.1' });
    expect(await second.wasSent('d-1:started', 'slack #deploys')).toBe(true);
    expect(await second.wasSent('d-1:started', 'webhook #2 (example.com)')).toBe(false);
    expect(await second.message('d-1', 'slack #deploys')).toEqual({ channel: 'C1', ts: '1.1' });

    const file = join(dir.path, 'journal', readdirSync(join(dir.path, 'journal'))[0] as string);
    appendFileSync(file, '{"sent":"d-1:end","notif'); // a crash mid-write
    await first.markSent('d-2:end', 'slack #deploys');
    expect(await second.wasSent('d-2:end', 'slack #deploys')).toBe(true);
    expect(await second.wasSent('d-1:end', 'slack #deploys')).toBe(false);
    await second.saveMessage('d-1', 'slack #deploys', { channel: 'C1', ts: '2.2' });
    expect(await first.message('d-1', 'slack #deploys')).toEqual({ channel: 'C1', ts: '2.2' });
    expect(readFileSync(file, 'utf8')).not.toMatch(/https?:|xox/);
  });
});
