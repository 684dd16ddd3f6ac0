import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { FileRecord } from '../../src/notify/record.js';
import { SharedRecord } from '../../src/notify/shared-record.js';
import { tempDir } from '../helpers/tmp.js';
import { awsHarness } from './harness.js';
import { goodAmi, goodAmi2 } from './fixtures.js';

/**
 * On aws, what was told about a deployment and its Slack message are tags on the deployment's group, so
 * a second runner (no local state of its own) neither tells its end again nor posts a second message.
 */

let h: ReturnType<typeof awsHarness>;
const dirs: ReturnType<typeof tempDir>[] = [];
afterEach(() => {
  h.cleanup();
  for (const d of dirs.splice(0)) d.remove();
});

/** A runner's record: its own state folder, the shared account. */
function recordOf(notes = h.ctx.target.notes): SharedRecord {
  const dir = tempDir('cutover-notes-');
  dirs.push(dir);
  if (!notes) throw new Error('the aws target keeps notes');
  return new SharedRecord(new FileRecord(dir.path, 'prod', 'catalog'), notes);
}

const tags = (deployment: string) => {
  const group = [...h.account.groups.values()].find((g) => g.tags.get('cutover:deployment') === deployment);
  return Object.fromEntries(
    [...(group?.tags ?? [])].filter(([k]) => k.startsWith('cutover:note:') && k !== 'cutover:note:step'),
  );
};

describe('aws: notification notes on the deployment group', () => {
  it('GIVEN runner 1 told a deployment ended and posted its Slack message WHEN runner 2 asks THEN it sees both; steps stay local', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    const one = recordOf();
    await one.markSent('d-1:started', 'slack #deploys');
    await one.markSent('d-1:end', 'slack #deploys');
    await one.markSent('d-1:traffic.shifted:1-3', 'slack #deploys');
    await one.saveMessage('d-1', 'slack #deploys', { channel: 'C123', ts: '1700000000.000100' });

    const two = recordOf(h.runner('ci-2').ctx.target.notes);
    expect(await two.wasSent('d-1:end', 'slack #deploys')).toBe(true);
    expect(await two.wasSent('d-1:started', 'slack #deploys')).toBe(true);
    expect(await two.wasSent('d-1:end', 'webhook #2 (hooks.example.com)')).toBe(false);
    expect(await two.wasSent('d-1:traffic.shifted:1-3', 'slack #deploys')).toBe(false);
    expect(await two.message('d-1', 'slack #deploys')).toEqual({ channel: 'C123', ts: '1700000000.000100' });
    // Short keys, no notifier name (it may hold characters tags refuse), within AWS's limits.
    for (const [key, value] of Object.entries(tags('d-1'))) {
      expect(key).toMatch(/^cutover:note:(told|slack)-[0-9a-f]{8}$/);
      expect(value.length).toBeLessThanOrEqual(256);
    }
  });

  it('GIVEN a Slack message posted before the deployment group exists WHEN the group launches THEN settle writes it there', async () => {
    h = awsHarness();
    const one = recordOf();
    await one.saveMessage('d-2', 'slack #deploys', { channel: 'C9', ts: '1.2' });
    await one.markSent('d-2:started', 'slack #deploys');
    expect(tags('d-2')).toEqual({});
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    await one.settle('d-2');
    const two = recordOf(h.runner('ci-2').ctx.target.notes);
    expect(await two.message('d-2', 'slack #deploys')).toEqual({ channel: 'C9', ts: '1.2' });
    expect(await two.wasSent('d-2:started', 'slack #deploys')).toBe(true);
  });

  it('GIVEN AWS refuses the tag WHEN a notification is recorded THEN the runner still remembers it locally and nothing throws', async () => {
    h = awsHarness();
    await deploy(h.ctx, { deployment: 'd-3', version: goodAmi2 });
    const group = [...h.account.groups.values()].find((g) => g.tags.get('cutover:deployment') === 'd-3');
    for (let i = 0; group && group.tags.size < 50; i += 1) group.tags.set(`filler-${i}`, 'x');
    const one = recordOf();
    await one.markSent('d-3:end', 'slack #deploys');
    expect(await one.wasSent('d-3:end', 'slack #deploys')).toBe(true);
    expect(tags('d-3')).toEqual({});
  });
});
