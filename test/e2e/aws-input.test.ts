import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { awsEnvironmentYaml, tgA } from '../aws/fixtures.js';

describe('aws input through the real CLI: exit 2 before any call', () => {
  const dir = tempDir('cutover-aws-');
  beforeAll(() => {
    writeFileSync(join(dir.path, 'cutover.config.yaml'), awsEnvironmentYaml());
    writeFileSync(
      join(dir.path, 'bad.yaml'),
      awsEnvironmentYaml({ targetGroups: `[${tgA}, ${tgA.replace('catalog-a', 'catalog b')}]` }),
    );
  });
  afterAll(() => dir.remove());

  it.each([
    [
      'a version that is not an AMI',
      ['deploy', 'artifact=catalog', 'environment=prod', 'version=v2'],
      'VERSION_INVALID',
    ],
    [
      'a malformed target group ARN',
      ['deploy', 'artifact=catalog', 'environment=prod', 'version=ami-0abc1234', '--config', 'bad.yaml'],
      'CONFIG_INVALID',
    ],
    ['down on an aws environment', ['down', 'environment=prod'], 'DOWN_NOT_LOCAL'],
  ])('%s', async (_label, args, code) => {
    const result = await cli(dir.path, args, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'not-a-secret',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    });
    expect(result.code).toBe(2);
    expect(result.events.at(-1)).toMatchObject({ code });
    if (code === 'DOWN_NOT_LOCAL') expect(String(result.events.at(-1)?.hint)).toContain('scale them to zero');
    if (code === 'CONFIG_INVALID')
      expect(String(result.events.at(-1)?.message)).toContain('`environments.prod.targetGroups.1`');
  });
});
