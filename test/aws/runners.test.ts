import { afterEach, describe, expect, it } from 'vitest';
import { abandonUnfinished } from '../../src/controller/abandon.js';
import { deploy } from '../../src/controller/deploy.js';
import { recoverIfInterrupted } from '../../src/controller/recover.js';
import { awsHarness } from './harness.js';
import { baseGroup, goodAmi, goodAmi2 } from './fixtures.js';

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

const tags = (name: string) => Object.fromEntries(h.account.groups.get(name)?.tags ?? []);

/** Runner ci-1 dies once its deploy reaches the bake: its journal is left unfinished on its disk. */
async function killedInBake(version: string, deployment: string) {
  h.ctx.events.subscribe((e) => {
    if (e.code === 'bake.started' && h.account.dieAfterCalls === undefined)
      h.account.dieAfterCalls = h.account.log.length;
  });
  await expect(deploy(h.ctx, { deployment, version })).rejects.toThrow();
  h.account.dieAfterCalls = undefined;
}

describe('aws: an old journal on one runner never undoes what another runner did since', () => {
  it('GIVEN ci-1 died in a bake, ci-2 aborted it and deployed WHEN ci-1 runs its next command THEN ci-2 live version keeps the traffic', async () => {
    h = awsHarness();
    await killedInBake(goodAmi2, 'd-1');
    const ci2 = h.runner('ci-2');
    expect(await abandonUnfinished(ci2.ctx)).toBe('d-1');
    await deploy(ci2.ctx, { deployment: 'd-2', version: goodAmi });
    const live = Object.keys(h.live())[0] ?? '';
    const recovered = await recoverIfInterrupted(h.ctx);
    expect(recovered?.outcome).toBe('nothing-moved');
    expect(h.live()).toEqual({ [live]: 100 });
    expect(tags(live)).toMatchObject({ 'cutover:role': 'live' });
    expect(tags(baseGroup)).toMatchObject({ 'cutover:role': 'standby' });
  });
});
