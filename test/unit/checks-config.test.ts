import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePercent } from '../../src/config/checks.js';
import { loadConfig } from '../../src/config/load.js';
import { UserInputError } from '../../src/errors.js';
import { awsEnvironmentYaml } from '../aws/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();
afterAll(() => dir.remove());

let files = 0;
function write(text: string): string {
  const file = join(dir.path, `checks-${files++}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** A local environment `local` with `checks` as given (YAML lines under `checks:`, indented 6). */
function local(checks: string): string {
  return `artifacts:
  catalog:
    command: [node, server.mjs]
environments:
  local:
    target: local
    checks:
${checks
  .trim()
  .split('\n')
  .map((line) => `      ${line}`)
  .join('\n')}
`;
}

function aws(checks: string): string {
  return awsEnvironmentYaml({ checks });
}

function refusal(file: string, env: NodeJS.ProcessEnv = {}): Error {
  try {
    loadConfig(file, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UserInputError);
    return error as Error;
  }
  throw new Error('the config loaded');
}

describe('checks config', () => {
  it('GIVEN no checks key THEN there are no shift checks', () => {
    const { config } = loadConfig(write(aws('')));
    expect(config.environments.prod?.checks).toBeUndefined();
  });

  it('GIVEN an empty checks key THEN the defaults fill it and no check is on', () => {
    const { config } = loadConfig(write(local('{}')));
    expect(config.environments.local?.checks).toEqual({
      interval: 10_000,
      inconclusiveLimit: 3,
      ignoreAlarmReadErrors: false,
    });
  });

  it('GIVEN each check named with no options THEN each takes its defaults', () => {
    const { config } = loadConfig(
      write(
        aws(
          '{ errorRate: {}, alarms: [catalog-prod-5xx], webhook: { url: "https://gate.example.com/" }, probe: {} }',
        ),
      ),
    );
    expect(config.environments.prod?.checks).toEqual({
      interval: 10_000,
      inconclusiveLimit: 3,
      ignoreAlarmReadErrors: false,
      errorRate: { max: 1, window: 60_000, minRequests: 50 },
      alarms: ['catalog-prod-5xx'],
      webhook: { url: 'https://gate.example.com/', timeout: 5000 },
      probe: { path: '/', interval: 200, maxFailures: 0, timeout: 2000 },
    });
  });

  it('GIVEN the README example THEN every value is read, percentages in percent and durations in ms', () => {
    const file = write(
      aws(`
      interval: 15s
      inconclusiveLimit: 5
      errorRate: { max: 2%, window: 2m, minRequests: 100, maxOverBlue: 0.5% }
      alarms: [catalog-prod-5xx, catalog-prod-latency]
      ignoreAlarmReadErrors: true
      webhook: { url: "\${CHECK_URL}", timeout: 3s, headers: { Authorization: "Bearer \${CHECK_TOKEN}" } }
      probe: { path: /catalog, interval: 500ms, maxFailures: 2, timeout: 1s }`),
    );
    const { config } = loadConfig(file, { CHECK_URL: 'https://gate.example.com/c', CHECK_TOKEN: 't' });
    expect(config.environments.prod?.checks).toEqual({
      interval: 15_000,
      inconclusiveLimit: 5,
      errorRate: { max: 2, window: 120_000, minRequests: 100, maxOverBlue: 0.5 },
      alarms: ['catalog-prod-5xx', 'catalog-prod-latency'],
      ignoreAlarmReadErrors: true,
      webhook: {
        url: 'https://gate.example.com/c',
        timeout: 3000,
        headers: { Authorization: 'Bearer t' },
      },
      probe: { path: '/catalog', interval: 500, maxFailures: 2, timeout: 1000 },
    });
  });

  it.each([
    ['1%', 1],
    ['0.5%', 0.5],
    [' 12.25 % ', 12.25],
    ['0%', 0],
    ['100%', 100],
    [1, 1],
    [0.5, 0.5],
    ['1', undefined],
    ['101%', undefined],
    [101, undefined],
    [-1, undefined],
    ['-1%', undefined],
    ['1e2%', undefined],
    ['one percent', undefined],
    [Number.NaN, undefined],
    [true, undefined],
  ])('reads the percentage %j as %j', (text, percent) => {
    expect(parsePercent(text)).toBe(percent);
  });

  it('GIVEN a number for max THEN it is percent: 1 is 1%', () => {
    const { config } = loadConfig(write(local('errorRate: { max: 1, maxOverBlue: 0.25 }')));
    expect(config.environments.local?.checks?.errorRate).toMatchObject({ max: 1, maxOverBlue: 0.25 });
  });

  it.each([
    ['a zero interval', 'interval: 0s', /`environments\.local\.checks\.interval`: must be longer than 0/],
    [
      'an interval that is no duration',
      'interval: soon',
      /`environments\.local\.checks\.interval`: expected a duration/,
    ],
    ['a zero inconclusiveLimit', 'inconclusiveLimit: 0', /`environments\.local\.checks\.inconclusiveLimit`/],
    [
      'a fractional inconclusiveLimit',
      'inconclusiveLimit: 2.5',
      /`environments\.local\.checks\.inconclusiveLimit`/,
    ],
    ['an unknown key', 'latency: { max: 1s }', /`environments\.local\.checks`: .*latency/],
    [
      'max over 100%',
      'errorRate: { max: 150% }',
      /`environments\.local\.checks\.errorRate\.max`: expected a percentage from 0 to 100/,
    ],
    [
      'max as a bare string',
      'errorRate: { max: "1" }',
      /`environments\.local\.checks\.errorRate\.max`: expected a percentage/,
    ],
    ['a negative max', 'errorRate: { max: -1 }', /`environments\.local\.checks\.errorRate\.max`/],
    [
      'maxOverBlue in words',
      'errorRate: { maxOverBlue: half }',
      /`environments\.local\.checks\.errorRate\.maxOverBlue`: expected a percentage/,
    ],
    [
      'a zero window',
      'errorRate: { window: 0s }',
      /`environments\.local\.checks\.errorRate\.window`: must be longer than 0/,
    ],
    [
      'zero minRequests',
      'errorRate: { minRequests: 0 }',
      /`environments\.local\.checks\.errorRate\.minRequests`/,
    ],
    ['an unknown errorRate key', 'errorRate: { min: 1% }', /`environments\.local\.checks\.errorRate`: .*min/],
    [
      'alarms on a local environment',
      'alarms: [catalog-5xx]',
      /`environments\.local\.checks\.alarms`: alarms are CloudWatch alarms, which only aws environments have/,
    ],
    [
      'ignoreAlarmReadErrors on a local environment',
      'ignoreAlarmReadErrors: true',
      /`environments\.local\.checks\.ignoreAlarmReadErrors`: alarms are CloudWatch alarms/,
    ],
    [
      'a webhook without a url',
      'webhook: { timeout: 5s }',
      /`environments\.local\.checks\.webhook\.url`: expected the URL/,
    ],
    [
      'a zero webhook timeout',
      'webhook: { url: "https://example.com/", timeout: 0ms }',
      /`environments\.local\.checks\.webhook\.timeout`: must be longer than 0/,
    ],
    [
      'a header cutover sets',
      'webhook: { url: "https://example.com/", headers: { Content-Type: text/plain } }',
      /`environments\.local\.checks\.webhook\.headers\.Content-Type`: cutover sets this header itself/,
    ],
    [
      'an unknown webhook key',
      'webhook: { url: "https://example.com/", secret: x }',
      /`environments\.local\.checks\.webhook`: .*secret/,
    ],
    [
      'a probe path without /',
      'probe: { path: health }',
      /`environments\.local\.checks\.probe\.path`: expected a path starting with \//,
    ],
    [
      'a negative maxFailures',
      'probe: { maxFailures: -1 }',
      /`environments\.local\.checks\.probe\.maxFailures`/,
    ],
    [
      'a zero probe interval',
      'probe: { interval: 0s }',
      /`environments\.local\.checks\.probe\.interval`: must be longer than 0/,
    ],
    [
      'a zero probe timeout',
      'probe: { timeout: 0s }',
      /`environments\.local\.checks\.probe\.timeout`: must be longer than 0/,
    ],
    ['checks that are a list', '[errorRate]', /`environments\.local\.checks`/],
  ])('refuses %s, naming the key', (_, checks, message) => {
    expect(refusal(write(local(checks))).message).toMatch(message);
  });

  it.each([
    ['no alarm names', '{ alarms: [] }', /`environments\.prod\.checks\.alarms`: expected at least one/],
    [
      'eleven alarms',
      `{ alarms: [${Array.from({ length: 11 }, (_, i) => `a${i}`).join(', ')}] }`,
      /`environments\.prod\.checks\.alarms`: at most 10 alarms/,
    ],
    [
      'an alarm twice',
      '{ alarms: [a, b, a] }',
      /`environments\.prod\.checks\.alarms\.2`: `a` is listed twice/,
    ],
    [
      'an empty alarm name',
      '{ alarms: [""] }',
      /`environments\.prod\.checks\.alarms\.0`: expected a CloudWatch alarm name/,
    ],
    [
      'an alarm that is no name',
      '{ alarms: [{ name: a }] }',
      /`environments\.prod\.checks\.alarms\.0`: expected a CloudWatch alarm name/,
    ],
    [
      'ignoreAlarmReadErrors in words',
      '{ ignoreAlarmReadErrors: sometimes }',
      /`environments\.prod\.checks\.ignoreAlarmReadErrors`/,
    ],
  ])('refuses %s on an aws environment, naming the key', (_, checks, message) => {
    expect(refusal(write(aws(checks))).message).toMatch(message);
  });

  describe('a webhook URL is a secret', () => {
    it.each([
      ['not a URL', 'SECRET-not-a-url'],
      ['not http', 'ftp://gate.example.com/SECRET'],
      ['empty', ''],
    ])(
      'GIVEN a URL that is %s WHEN the config is refused THEN the error names the key, never the URL',
      (_, url) => {
        const error = refusal(write(local('webhook: { url: "${CHECK_URL:-}" }')), { CHECK_URL: url });
        expect(error.message).toMatch(/`environments\.local\.checks\.webhook\.url`: expected the URL/);
        if (url) expect(error.message).not.toContain(url);
        expect(error.message).not.toContain('SECRET');
      },
    );

    it('GIVEN a good URL beside another mistake WHEN the config is refused THEN the URL is not printed', () => {
      const error = refusal(write(local('webhook: { url: "${CHECK_URL}", timeout: soon }')), {
        CHECK_URL: 'https://gate.example.com/hooks/SECRET-path',
      });
      expect(error.message).toMatch(/`environments\.local\.checks\.webhook\.timeout`/);
      expect(error.message).not.toContain('SECRET');
      expect(error.message).not.toContain('gate.example.com');
    });

    it('GIVEN a URL of the wrong type WHEN the config is refused THEN its value is not printed', () => {
      const error = refusal(write(local('webhook: { url: [https://gate.example.com/SECRET] }')));
      expect(error.message).toMatch(/`environments\.local\.checks\.webhook\.url`/);
      expect(error.message).not.toContain('SECRET');
    });

    it('GIVEN a header value with a line break WHEN the config is refused THEN its value is not printed', () => {
      const error = refusal(
        write(
          local(
            'webhook: { url: "https://example.com/", headers: { Authorization: "Bearer SECRET\\nX: y" } }',
          ),
        ),
      );
      expect(error.message).toMatch(
        /`environments\.local\.checks\.webhook\.headers\.Authorization`: .*printable ASCII/,
      );
      expect(error.message).not.toContain('SECRET');
    });
  });
});
