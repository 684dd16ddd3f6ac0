import { planDeploy } from '../../src/controller/plan.js';
import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { awsHarness } from './harness.js';
import { announced, changingOperations } from './changing.js';
import { baseGroup, goodAmi, goodAmi2, tgB } from './fixtures.js';

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

const changing = changingOperations;

describe('plan', () => {
  it('names the exact calls of a first deploy, and makes none that change anything', async () => {
    h = awsHarness();
    const lines = await planDeploy(h.ctx, goodAmi2);
    expect(h.account.log.filter((op) => changing.has(op))).toEqual([]);
    expect(lines).toEqual(
      expect.arrayContaining([
        `CreateAutoScalingGroup ${baseGroup}-g1 LaunchTemplate=lt-0abcd1234ef567890:<new version> Min/Desired/Max=2/2/4 TargetGroupARNs=${tgB} Subnets=subnet-0aaa,subnet-0bbb`,
        expect.stringMatching(new RegExp(`^ModifyListener .* forward ${tgB}=100 .*=0$`)),
      ]),
    );
  });

  it.each([
    ['a first deploy', [] as string[]],
    ['a deploy after two others (a standby to retire)', [goodAmi2, goodAmi]],
  ])('announces, in order, the same changing calls that %s then makes', async (_label, before) => {
    h = awsHarness();
    for (const [i, version] of before.entries()) await deploy(h.ctx, { deployment: `d-${i}`, version });
    const lines = await planDeploy(h.ctx, goodAmi2);
    const from = h.account.log.length;
    await deploy(h.ctx, { deployment: 'd-planned', version: goodAmi2 });
    const made = h.account.log.slice(from).filter((op) => changing.has(op));
    expect(made).toEqual(announced(lines));
  });
});
