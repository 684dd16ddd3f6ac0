import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { planDeploy } from '../../src/controller/plan.js';
import { awsHarness } from './harness.js';
import { goodAmi, goodAmi2, listenerArn } from './fixtures.js';

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

describe('aws: a canary through the listener weights', () => {
  it('GIVEN a canary of 10 then 100 WHEN a second AMI is deployed THEN the listener forwards 10/90, then 100/0, and the plan says so', async () => {
    h = awsHarness({ env: { strategy: '{ name: canary, steps: [10, 100], stepBake: 5m }' } });
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    const plan = await planDeploy(h.ctx, goodAmi);
    const forwards = plan.filter((line) => line.startsWith(`ModifyListener ${listenerArn}`));
    expect(forwards.map((l) => l.replace(/arn:\S+targetgroup\/(catalog-[ab])\/\S+=/g, '$1='))).toEqual([
      expect.stringMatching(/forward catalog-[ab]=10 catalog-[ab]=90$/),
      expect.stringMatching(/forward catalog-[ab]=100 catalog-[ab]=0$/),
    ]);
    expect(plan).toContain('(watch ami-0abc1234def567890 at 10% for 5m0s: health checks)');

    const seen: Record<string, number>[] = [];
    const steps: (string | undefined)[] = [];
    h.ctx.events.subscribe((e) => {
      if (e.code === 'traffic.shifted') {
        seen.push(e.fields.versions as Record<string, number>);
        // Any runner reads the step from the green group's tags.
        const green = [...h.account.groups.values()].find((g) => g.tags.get('cutover:deployment') === 'd-2');
        steps.push(green?.tags.get('cutover:note:step'));
      }
    });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    expect(seen).toEqual([{ [goodAmi]: 10, [goodAmi2]: 90 }, { [goodAmi]: 100 }]);
    expect(steps).toEqual(['0', '2']);
    expect(Object.values(h.live())).toEqual([100]);
  });
});
