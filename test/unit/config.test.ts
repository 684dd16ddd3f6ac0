import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { selectService, validateVersion } from '../../src/config/select.js';
import { UserInputError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();
afterAll(() => dir.remove());

function write(name: string, text: string): string {
  const file = join(dir.path, name);
  writeFileSync(file, text);
  return file;
}

const minimal = `
artifacts:
  catalog:
    command: [node, server.mjs]
environments:
  local:
    target: local
`;

describe('config', () => {
  it('loads the example config in the repository root', () => {
    const loaded = loadConfig('cutover.config.yaml');
    const service = selectService(loaded, 'catalog', 'local');
    expect(service.env).toMatchObject({ target: 'local', listen: '127.0.0.1:8080', capacity: 2 });
  });

  it('fills every omitted key from the defaults and turns durations into milliseconds', () => {
    const { config } = loadConfig(write('min.yaml', minimal));
    expect(config.environments.local).toMatchObject({
      capacity: 2,
      strategy: { name: 'all-at-once' },
      bake: 5000,
      rollbackWindow: 3_600_000,
      healthCheck: {
        path: '/health',
        expectStatus: 200,
        interval: 1000,
        healthyThreshold: 2,
        readyTimeout: 60_000,
      },
    });
    expect(Object.isFrozen(config.environments.local)).toBe(true);
  });

  it('interpolates ${VAR} and ${VAR:-default} from the environment', () => {
    const file = write(
      'env.yaml',
      minimal.replace('target: local', 'target: local\n    listen: ${HOST:-127.0.0.1}:${PORT}'),
    );
    const { config } = loadConfig(file, { PORT: '9090' });
    expect(config.environments.local).toMatchObject({ listen: '127.0.0.1:9090' });
  });

  it('names the key and the variable when an interpolated variable is missing', () => {
    const file = write(
      'env2.yaml',
      minimal.replace('target: local', 'target: local\n    listen: 127.0.0.1:${PORT}'),
    );
    expect(() => loadConfig(file, {})).toThrowError(/`environments\.local\.listen` uses `\$\{PORT\}`/);
  });

  it("GIVEN prod's Slack token unset WHEN a command acts on another environment THEN the config loads, prod's notifier off; acting on prod names the variable", () => {
    const file = write(
      'two-envs.yaml',
      `${minimal}    listen: 127.0.0.1:8181
  prod:
    target: local
    listen: 127.0.0.1:8282
    notify:
      - slack: { token: "\${PROD_SLACK_TOKEN}", channel: "#deploys" }
`,
    );
    const { config } = loadConfig(file, {}, 'local');
    expect(config.environments.prod?.notify).toEqual([
      { slack: { token: '', channel: '#deploys', apiUrl: 'https://slack.com/api' } },
    ]);
    expect(() => loadConfig(file, {}, 'prod')).toThrowError(
      /`environments\.prod\.notify\.0\.slack\.token` uses `\$\{PROD_SLACK_TOKEN\}`/,
    );
    expect(() => loadConfig(file, {})).toThrowError(/PROD_SLACK_TOKEN/);
  });

  it.each([
    [
      'an unknown event',
      `- slack: { webhookUrl: "https://hooks.slack.test/SECRET" }\n        events: [deployed]`,
      /expected `all` or a list of event names: started, succeeded/,
    ],
    [
      'a URL that is not http',
      `- webhook: { url: "ftp://SECRET@example.com/x" }`,
      /expected the URL to POST notifications to \(an http or https URL\)/,
    ],
    [
      'a header cutover sets',
      `- webhook: { url: "https://example.com/", headers: { X-Cutover-Signature: "SECRET" } }`,
      /X-Cutover-Signature.*cutover sets this header itself/,
    ],
    [
      'an accent in a header value',
      `- webhook: { url: "https://example.com/", headers: { X-Odd: "sécretSECRET" } }`,
      /X-Odd.*printable ASCII/,
    ],
    [
      'an empty Slack API URL',
      `- slack: { token: "xoxb-SECRET", channel: "#d", apiUrl: "" }`,
      /apiUrl.*leave `apiUrl` out/,
    ],
    ['a bot without a channel', `- slack: { token: "xoxb-SECRET" }`, /notify\.0/],
    [
      'neither slack nor webhook',
      `- email: { to: "SECRET@example.com" }`,
      /expected `slack: \{ webhookUrl \}`/,
    ],
  ])('refuses a notifier with %s, naming the key and never the value', (_, item, message) => {
    const file = write('notify.yaml', `${minimal}    notify:\n      ${item}\n`);
    let error: unknown;
    try {
      loadConfig(file, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('SECRET');
  });

  it.each([
    ['not YAML', 'artifacts: [\n', /is not valid YAML at line/],
    [
      'a wrong type',
      minimal.replace('target: local', 'target: local\n    capacity: two'),
      /`environments\.local\.capacity`/,
    ],
    [
      'a bad duration',
      minimal.replace('target: local', 'target: local\n    bake: soon'),
      /`environments\.local\.bake`: expected a duration/,
    ],
    [
      'an unknown key',
      minimal.replace('target: local', 'target: local\n    colour: blue'),
      /`environments\.local`.*colour/,
    ],
    ['an unknown target', minimal.replace('target: local', 'target: gcp'), /`environments\.local\.target`/],
    [
      'a bad name',
      minimal.replace('catalog:', 'Cat Alog:'),
      /`artifacts\.Cat Alog`: names are lower-case letters, digits and dashes/,
    ],
    [
      'an environment name with `--`',
      minimal.replace('local:', 'a--b:'),
      /`environments\.a--b`: name "a--b" contains `--`/,
    ],
    [
      'an artifact name with `--`',
      minimal.replace('catalog:', 'b--c:'),
      /`artifacts\.b--c`: name "b--c" contains `--`/,
    ],
  ])('rejects %s with the file and the key', (_label, text, pattern) => {
    const file = write('bad.yaml', text);
    let error: unknown;
    try {
      loadConfig(file);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(pattern);
  });

  it('says so when the file does not exist', () => {
    expect(() => loadConfig(join(dir.path, 'missing.yaml'))).toThrowError(/does not exist/);
  });
});

describe('service and version', () => {
  const loaded = () => loadConfig(write('svc.yaml', minimal));

  it('rejects an unknown artifact or environment, listing the known ones', () => {
    expect(() => selectService(loaded(), 'search', 'local')).toThrowError(
      expect.objectContaining({ code: 'ARTIFACT_UNKNOWN', hint: 'known artifacts: catalog' }),
    );
    expect(() => selectService(loaded(), 'catalog', 'prod')).toThrowError(
      expect.objectContaining({ code: 'ENVIRONMENT_UNKNOWN', hint: 'known environments: local' }),
    );
  });

  it.each(['../x', 'v1;rm', 'v1 rm', '$(id)', '-v1', 'a/b', '.hidden', 'x'.repeat(65)])(
    'rejects version %j',
    (version) => {
      expect(() => validateVersion(selectService(loaded(), 'catalog', 'local'), version)).toThrowError(
        expect.objectContaining({ code: 'VERSION_INVALID' }),
      );
    },
  );

  it.each(['', '  ', undefined])('rejects a missing version %j', (version) => {
    expect(() => validateVersion(selectService(loaded(), 'catalog', 'local'), version)).toThrowError(
      expect.objectContaining({ code: 'VERSION_MISSING' }),
    );
  });

  it.each(['v1', 'v2', '1.4.0-rc.1', 'build_42'])('accepts version %j', (version) => {
    expect(validateVersion(selectService(loaded(), 'catalog', 'local'), version)).toBe(version);
  });
});

describe('the local `listen` address', () => {
  const withListen = (listen: string, extra = '') =>
    minimal.replace('target: local', `target: local\n    listen: "${listen}"${extra}`);

  function loadError(text: string): UserInputError {
    try {
      loadConfig(write('listen.yaml', text));
    } catch (error) {
      if (error instanceof UserInputError) return error;
      throw error;
    }
    throw new Error('the config loaded');
  }

  it.each([
    '127.0.0.1:0',
    '127.0.0.1:65536',
    '127.0.0.1:99999',
    '127.0.0.1',
    ':8080',
    '999.1.1.1:80',
    '[::g]:80',
  ])('GIVEN listen %j WHEN the config loads THEN it is refused naming the key', (listen) => {
    const error = loadError(withListen(listen));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(
      /`environments\.local\.listen`: expected host:port with a port from 1 to 65535/,
    );
  });

  it.each(['127.0.0.1:1', '127.0.0.1:65535', '127.4.5.6:8080', 'localhost:8080', '[::1]:8080'])(
    'GIVEN loopback listen %j WHEN the config loads THEN it is accepted',
    (listen) => {
      const { config } = loadConfig(write('listen.yaml', withListen(listen)));
      expect(config.environments.local).toMatchObject({ listen, listenPublic: false });
    },
  );

  it.each(['0.0.0.0:8080', '192.168.1.10:8080', '[::]:8080', 'example.com:8080'])(
    'GIVEN listen %j that is not loopback WHEN listenPublic is not set THEN it is refused, saying how to allow it',
    (listen) => {
      const error = loadError(withListen(listen));
      expect(error.message).toMatch(/`environments\.local\.listen`: .* is not a loopback address/);
      expect(error.message).toContain('`listenPublic: true`');
    },
  );

  it('GIVEN an address that is not loopback WHEN listenPublic is true THEN it is accepted', () => {
    const { config } = loadConfig(
      write('listen.yaml', withListen('0.0.0.0:8080', '\n    listenPublic: true')),
    );
    expect(config.environments.local).toMatchObject({ listen: '0.0.0.0:8080', listenPublic: true });
  });

  it.each([
    ['127.0.0.1:8080', '127.0.0.1:8080'],
    ['localhost:8080', '127.0.0.1:8080'],
    ['[::1]:8080', 'localhost:8080'],
  ])(
    'GIVEN two environments on %s and %s WHEN the config loads THEN it is refused naming both',
    (first, second) => {
      const error = loadError(`
artifacts:
  catalog:
    command: [node, server.mjs]
environments:
  staging:
    target: local
    listen: "${first}"
  review:
    target: local
    listen: "${second}"
`);
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toMatch(
        /`environments\.review\.listen`: .*environments `staging` and `review` need different addresses/,
      );
    },
  );

  const hostsEnv = (slots: string, backend: string, address = '10.0.0.11') => `
    target: hosts
    hosts: [{ address: ${address} }, { address: 10.0.0.12 }]
    ssh: { user: deploy }
    slots: ${slots}
    haproxy: { host: { address: 10.0.0.10 }, backend: ${backend} }`;
  const hostsConfig = (staging: string, prod: string) => `
artifacts:
  catalog:
    command: [node, server.mjs]
    package: dist/catalog-\${version}.tgz
environments:
  staging:${staging}
  prod:${prod}
`;

  it('GIVEN two hosts environments sharing a host and a slot port WHEN the config loads THEN it is refused naming both and the port', () => {
    const error = loadError(
      hostsConfig(hostsEnv('[8001, 8002]', 'staging'), hostsEnv('[8002, 8003]', 'prod')),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(
      /`environments\.prod\.slots`: port 8002 on 10\.0\.0\.11, 10\.0\.0\.12 is also a slot of environment `staging`/,
    );
  });

  it('GIVEN two hosts environments driving the same HAProxy backend WHEN the config loads THEN it is refused', () => {
    const error = loadError(hostsConfig(hostsEnv('[8001, 8002]', 'web'), hostsEnv('[9001, 9002]', 'web')));
    expect(error.message).toMatch(
      /`environments\.prod\.haproxy`: backend `web` on 10\.0\.0\.10 is also environment `staging`'s/,
    );
  });

  it('GIVEN two hosts environments on the same hosts with their own slots and backends WHEN the config loads THEN both are accepted', () => {
    const { config } = loadConfig(
      write(
        'hosts-ok.yaml',
        hostsConfig(hostsEnv('[8001, 8002]', 'staging'), hostsEnv('[9001, 9002]', 'prod')),
      ),
    );
    expect(Object.keys(config.environments)).toEqual(['staging', 'prod']);
  });

  it('GIVEN two environments on different ports of one host WHEN the config loads THEN both are accepted', () => {
    const { config } = loadConfig(
      write('two.yaml', minimal + '  other:\n    target: local\n    listen: 127.0.0.1:8081\n'),
    );
    expect(Object.keys(config.environments)).toEqual(['local', 'other']);
  });
});

describe('the local `env` map', () => {
  const withEnv = (lines: string) => minimal.replace('target: local', `target: local\n    env:\n${lines}`);

  it('GIVEN env values with ${VAR} WHEN the config loads THEN they are interpolated from the environment', () => {
    const { config } = loadConfig(
      write('env-map.yaml', withEnv('      API_TOKEN: ${TOKEN}\n      MODE: fast\n')),
      {
        TOKEN: 'hunter2',
      },
    );
    expect(config.environments.local).toMatchObject({ env: { API_TOKEN: 'hunter2', MODE: 'fast' } });
  });

  it.each([
    ['PORT: "1"', /`environments\.local\.env\.PORT`.*set by cutover/],
    ['"1BAD": x', /`environments\.local\.env\.1BAD`.*variable names/],
    ['DEBUG: 1', /`environments\.local\.env\.DEBUG`: expected a string/],
  ])('GIVEN env entry %s WHEN the config loads THEN it is refused naming the key', (line, pattern) => {
    expect(() => loadConfig(write('env-bad.yaml', withEnv(`      ${line}\n`)))).toThrowError(pattern);
  });

  it('GIVEN a secret value of the wrong type WHEN the config is refused THEN the error does not print the value', () => {
    expect(() => loadConfig(write('env-secret.yaml', withEnv('      TOKEN: [s3cr3t-value]\n')))).toThrowError(
      expect.not.objectContaining({ message: expect.stringContaining('s3cr3t-value') }),
    );
  });
});

describe('the local `router`', () => {
  const withRouter = (router: string) =>
    minimal.replace('target: local', `target: local\n    router: ${router}`);

  it('GIVEN no router WHEN the config loads THEN the built-in one serves; haproxy is taken as written', () => {
    expect(loadConfig(write('router.yaml', minimal)).config.environments.local).toMatchObject({
      router: 'builtin',
    });
    expect(loadConfig(write('router.yaml', withRouter('haproxy'))).config.environments.local).toMatchObject({
      router: 'haproxy',
    });
  });

  it.each(['nginx', 'HAProxy', 'true'])(
    'GIVEN router %j WHEN the config loads THEN it is refused naming the key and the two choices',
    (router) => {
      expect(() => loadConfig(write('router.yaml', withRouter(router)))).toThrowError(
        /`environments\.local\.router`: expected `builtin` \(cutover's own router\) or `haproxy`/,
      );
    },
  );
});
