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
      strategy: 'all-at-once',
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
