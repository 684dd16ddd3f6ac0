import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { selectService, validateVersion } from '../../src/config/select.js';
import { tempDir } from '../helpers/tmp.js';
import { awsEnvironmentYaml, listenerArn, tgA } from './fixtures.js';

const dir = tempDir();
afterAll(() => dir.remove());

function load(text: string) {
  const file = join(dir.path, 'aws.yaml');
  writeFileSync(file, text);
  return loadConfig(file);
}

describe('aws environment config', () => {
  it('loads an environment filled in from the console, with defaults', () => {
    const env = load(awsEnvironmentYaml({ capacity: '{ min: 2, max: 4, desired: 2 }' })).config.environments
      .prod;
    expect(env).toMatchObject({
      target: 'aws',
      region: 'eu-west-1',
      baseGroup: 'catalog-prod',
      rollbackWindow: 3_600_000,
      settle: 30_000,
    });
  });

  it('accepts a listener rule ARN and a launch template name', () => {
    const rule = listenerArn.replace(':listener/', ':listener-rule/') + '/9683b2d02a6cabee';
    expect(() =>
      load(awsEnvironmentYaml({ listener: rule, launchTemplate: 'catalog-template' })),
    ).not.toThrow();
  });

  it.each([
    ['region', { region: 'Ireland' }, /`environments\.prod\.region`: expected an AWS Region/],
    [
      'listener',
      { listener: 'arn:aws:elasticloadbalancing:eu-west-1:123:listener/app/x' },
      /`environments\.prod\.listener`/,
    ],
    [
      'a listener from another region',
      { listener: listenerArn.replace('eu-west-1', 'us-east-1') },
      /`environments\.prod\.listener`: is in us-east-1, not in region eu-west-1/,
    ],
    [
      'targetGroups of one',
      { targetGroups: `[${tgA}]` },
      /`environments\.prod\.targetGroups`: expected exactly two/,
    ],
    [
      'the same target group twice',
      { targetGroups: `[${tgA}, ${tgA}]` },
      /`environments\.prod\.targetGroups`: the two target groups must differ/,
    ],
    [
      'a malformed target group',
      { targetGroups: `[${tgA}, arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/x/1]` },
      /`environments\.prod\.targetGroups\.1`: expected a target group ARN/,
    ],
    ['launchTemplate', { launchTemplate: 'lt 1' }, /`environments\.prod\.launchTemplate`/],
    ['baseGroup', { baseGroup: 'has:colon' }, /`environments\.prod\.baseGroup`/],
    [
      'capacity',
      { capacity: '{ min: 3, max: 4, desired: 2 }' },
      /`environments\.prod\.capacity`: expected min ≤ desired ≤ max/,
    ],
    ['a missing key', { launchTemplate: '' }, /`environments\.prod\.launchTemplate`/],
  ])('names the key when %s is wrong', (_label, overrides, pattern) => {
    expect(() => load(awsEnvironmentYaml(overrides))).toThrowError(pattern);
  });
});

describe('aws versions', () => {
  it.each(['v2', 'ami-123', 'ami-0ABC1234DEF567890', 'ami-0abc1234def56789;rm'])('rejects %j', (version) => {
    const loaded = load(awsEnvironmentYaml());
    expect(() => validateVersion(selectService(loaded, 'catalog', 'prod'), version)).toThrowError(
      expect.objectContaining({ code: 'VERSION_INVALID' }),
    );
  });

  it.each(['ami-0abc1234', 'ami-0abc1234def567890'])('accepts %j', (version) => {
    expect(validateVersion(selectService(load(awsEnvironmentYaml()), 'catalog', 'prod'), version)).toBe(
      version,
    );
  });
});
