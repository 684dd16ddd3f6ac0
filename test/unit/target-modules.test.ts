import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { environmentSchema, targetModule, targetNames } from '../../src/providers/registry.js';

/** Every .ts file under a folder. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('targets are modules', () => {
  it('GIVEN the registry THEN each target is one module with its name, schema, version rule and factory, and the config union is theirs', () => {
    expect(targetNames).toEqual(['local', 'aws', 'hosts']);
    for (const name of targetNames) {
      const module = targetModule(name);
      expect(module.name).toBe(name);
      expect(typeof module.validateVersion).toBe('function');
      expect(typeof module.create).toBe('function');
      expect(module.configSchema.safeParse({ target: name }).success).toBe(name === 'local');
    }
    expect(environmentSchema.safeParse({ target: 'local' }).success).toBe(true);
    expect(() => targetModule('hostz')).toThrow(
      /target `hostz` is not known; .*|target `hostz` is not known/,
    );
  });

  it('GIVEN each target’s version rule THEN a bad version is refused with a clear error before anything changes', () => {
    const artifact = { artifact: 'catalog', artifactConfig: { command: ['node', 'server.js'] } };
    expect(targetModule('local').validateVersion('v2', artifact)).toBe('v2');
    expect(() => targetModule('local').validateVersion('../v2', artifact)).toThrow(
      /not a valid version label/,
    );
    expect(() =>
      targetModule('local').validateVersion('v2', { artifact: 'catalog', artifactConfig: {} }),
    ).toThrow(/has no `command`/);
    expect(targetModule('aws').validateVersion('ami-0abc1234', artifact)).toBe('ami-0abc1234');
    expect(() => targetModule('aws').validateVersion('v2', artifact)).toThrow(/not an AMI id/);
  });

  it('GIVEN the code outside src/providers THEN none of it compares a target’s name: the modules answer instead', () => {
    const outside = ['src', 'strategies', 'healthchecks']
      .flatMap(sources)
      .filter((file) => !file.startsWith(join('src', 'providers')));
    const leaks = outside.filter((file) =>
      /target\s*[!=]==?\s*'(local|aws|hosts)'|'(local|aws|hosts)'\s*[!=]==?\s*\S*target/.test(
        readFileSync(file, 'utf8'),
      ),
    );
    expect(leaks).toEqual([]);
  });
});
