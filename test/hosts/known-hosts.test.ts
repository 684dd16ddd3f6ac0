import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  knownHostsPath,
  checkHostKey,
  entryNames,
  fingerprint,
  hashHostName,
  knownHostsName,
  parseKnownHosts,
  type KnownHostEntry,
} from '../../src/providers/hosts/known-hosts.js';
import { tempDir } from '../helpers/tmp.js';

/** Keys made by ssh-keygen, and hashed names written by `ssh-keygen -H`: OpenSSH itself is the oracle. */

let dir: ReturnType<typeof tempDir>;
const keys: Record<'a' | 'b' | 'c', { line: string; blob: Buffer; file: string }> = {} as never;

beforeAll(() => {
  dir = tempDir('cutover-known-hosts-');
  for (const [name, type] of [
    ['a', 'ed25519'],
    ['b', 'ecdsa'],
    ['c', 'ed25519'],
  ] as const) {
    const file = join(dir.path, name);
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `key ${name} comment`, '-f', file]);
    const line = readFileSync(`${file}.pub`, 'utf8').trim();
    keys[name] = { line, blob: Buffer.from(line.split(' ')[1] as string, 'base64'), file: `${file}.pub` };
  }
});

afterAll(() => dir.remove());

function names(entries: KnownHostEntry[], name: string): number[] {
  return entries.filter((e) => entryNames(e, name)).map((e) => e.line);
}

describe('parseKnownHosts', () => {
  it('reads plain entries, markers, and comments, and skips lines OpenSSH would skip', () => {
    const [typeA, base64A] = keys.a.line.split(' ') as [string, string];
    const text = [
      '# a comment',
      '',
      `web1.example.com,10.0.0.5 ${keys.a.line}`,
      `[web2.example.com]:2222 ${keys.b.line}`,
      `@revoked * ${keys.c.line}`,
      `@cert-authority *.example.com ${keys.b.line}`,
      'missing.example.com ssh-ed25519',
      `broken.example.com ${typeA} !!!notbase64`,
      `liar.example.com ssh-rsa ${base64A}`, // the blob says ed25519
      `   indented.example.com\t${keys.a.line}   `,
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => [e.line, e.marker, e.keyType])).toEqual([
      [3, null, 'ssh-ed25519'],
      [4, null, 'ecdsa-sha2-nistp256'],
      [5, 'revoked', 'ssh-ed25519'],
      [6, 'cert-authority', 'ecdsa-sha2-nistp256'],
      [10, null, 'ssh-ed25519'],
    ]);
    expect(entries[0]?.hosts).toEqual({ patterns: ['web1.example.com', '10.0.0.5'] });
    expect(entries[0]?.key.equals(keys.a.blob)).toBe(true);
  });

  it('reads the hashed names ssh-keygen -H writes, and hashes a name the same way', () => {
    const file = join(dir.path, 'known_hosts');
    writeFileSync(file, `web1.example.com ${keys.a.line}\n[web2.example.com]:2222 ${keys.b.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('example.com');
    const entries = parseKnownHosts(text);
    expect(entries).toHaveLength(2);
    expect(names(entries, 'web1.example.com')).toEqual([1]);
    expect(names(entries, '[web2.example.com]:2222')).toEqual([2]);
    expect(names(entries, 'web2.example.com')).toEqual([]);
    expect(names(entries, 'web1.example.co')).toEqual([]);

    const first = entries[0] as KnownHostEntry;
    if (!('hashed' in first.hosts)) throw new Error('expected a hashed entry');
    expect(hashHostName('web1.example.com', first.hosts.hashed.salt)).toBe(text.split(' ')[0]);
    // A fresh salt each time, and each hash still names its host.
    const fresh = hashHostName('web3.example.com');
    expect(fresh).not.toBe(hashHostName('web3.example.com'));
    const [own] = parseKnownHosts(`${fresh} ${keys.a.line}\n`);
    expect(entryNames(own as KnownHostEntry, 'web3.example.com')).toBe(true);
  });
});

describe('host names and patterns', () => {
  it('files a host on port 22 under its name, on any other port as [name]:port, lower-cased', () => {
    expect(knownHostsName('Web1.Example.com', 22)).toBe('web1.example.com');
    expect(knownHostsName('10.0.0.5', 2222)).toBe('[10.0.0.5]:2222');
  });

  it('matches * and ? wildcards, lets a negated pattern rule the entry out, and ignores case', () => {
    const entries = parseKnownHosts(
      [
        `*.example.com,!secret.example.com ${keys.a.line}`,
        `web?.test ${keys.a.line}`,
        `[10.0.0.*]:2222 ${keys.a.line}`,
        `WEB9.Other ${keys.a.line}`,
        `a.b ${keys.a.line}`,
      ].join('\n'),
    );
    expect(names(entries, 'www.example.com')).toEqual([1]);
    expect(names(entries, 'secret.example.com')).toEqual([]);
    expect(names(entries, 'example.com')).toEqual([]);
    expect(names(entries, 'web1.test')).toEqual([2]);
    expect(names(entries, 'web10.test')).toEqual([]);
    expect(names(entries, '[10.0.0.7]:2222')).toEqual([3]);
    expect(names(entries, '10.0.0.7')).toEqual([]);
    expect(names(entries, 'web9.other')).toEqual([4]);
    expect(names(entries, 'axb')).toEqual([]); // a dot is a dot, not a regular expression
  });
});

describe('checkHostKey', () => {
  it('knows a listed key, refuses another key for a listed host, and does not know an unlisted host', () => {
    const entries = parseKnownHosts(`host1 ${keys.a.line}\nhost1 ${keys.b.line}\nhost2 ${keys.b.line}\n`);
    expect(checkHostKey(entries, 'host1', keys.b.blob)).toMatchObject({
      verdict: 'known',
      entry: { line: 2 },
    });
    const mismatch = checkHostKey(entries, 'host2', keys.a.blob);
    expect(mismatch.verdict).toBe('mismatch');
    expect(mismatch.verdict === 'mismatch' && mismatch.expected.map((e) => e.line)).toEqual([3]);
    expect(checkHostKey(entries, 'host3', keys.a.blob)).toEqual({ verdict: 'unknown' });
    expect(checkHostKey(entries, '[host1]:2222', keys.a.blob)).toEqual({ verdict: 'unknown' });
  });

  it('refuses a revoked key even where a line lists it, and ignores @cert-authority lines', () => {
    const entries = parseKnownHosts(
      `host1 ${keys.a.line}\n@revoked * ${keys.a.line}\n@cert-authority host2 ${keys.b.line}\n`,
    );
    expect(checkHostKey(entries, 'host1', keys.a.blob)).toMatchObject({
      verdict: 'revoked',
      entry: { line: 2 },
    });
    expect(checkHostKey(entries, 'host2', keys.b.blob)).toEqual({ verdict: 'unknown' });
  });
});

describe('fingerprint', () => {
  it('is what ssh-keygen -l prints', () => {
    for (const key of Object.values(keys)) {
      const printed = execFileSync('ssh-keygen', ['-lf', key.file], { encoding: 'utf8' }).split(' ')[1];
      expect(fingerprint(key.blob)).toBe(printed);
    }
  });
});

describe('knownHostsPath', () => {
  it('reads ~/ as the home folder, as a shell would, and leaves other paths alone', () => {
    expect(knownHostsPath('~/.ssh/known_hosts')).toBe(join(homedir(), '.ssh/known_hosts'));
    expect(knownHostsPath('/etc/cutover/known_hosts')).toBe('/etc/cutover/known_hosts');
    expect(knownHostsPath('~deploy/known_hosts')).toBe('~deploy/known_hosts');
    expect(knownHostsPath(undefined)).toBeUndefined();
  });
});
