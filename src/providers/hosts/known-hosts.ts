import { join } from 'node:path';
import { homedir } from 'node:os';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * OpenSSH's known_hosts format, as sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" describes it:
 *
 *     [@revoked|@cert-authority] hostpatterns keytype base64-key [comment]
 *
 * `hostpatterns` is either a comma-separated list of patterns (`*` and `?` wildcards, `!` negates,
 * `[host]:port` for a port other than 22) or one hashed name, `|1|base64(salt)|base64(HMAC-SHA1(salt,
 * name))`, as `ssh-keygen -H` and `HashKnownHosts yes` write it. No npm library parses this well enough to
 * rely on (hashed names, markers, negation), so this is a small parser of our own. Lines it cannot read
 * are skipped, as OpenSSH skips them.
 */
export interface KnownHostEntry {
  /** 1-based line in the file, for messages. */
  line: number;
  marker: 'revoked' | 'cert-authority' | null;
  hosts: { hashed: { salt: Buffer; hash: Buffer } } | { patterns: string[] };
  /** The key type as written, e.g. `ssh-ed25519`. */
  keyType: string;
  /** The public key blob in SSH wire format: what a server sends as its host key. */
  key: Buffer;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]?.startsWith('#')) return;
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
      fields.shift();
    }
    const [hostField, keyType, base64] = fields;
    if (hostField === undefined || keyType === undefined || base64 === undefined) return;
    const hosts = parseHostField(hostField);
    const key = Buffer.from(base64, 'base64');
    // A blob starts with its own type; a line whose type and blob disagree is corrupt.
    if (hosts === undefined || blobType(key) !== keyType) return;
    entries.push({ line: index + 1, marker, hosts, keyType, key });
  });
  return entries;
}

function parseHostField(field: string): KnownHostEntry['hosts'] | undefined {
  if (field.startsWith('|')) {
    const [, magic, salt, hash] = field.split('|');
    if (magic !== '1' || !salt || !hash) return undefined;
    return { hashed: { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') } };
  }
  const patterns = field.split(',').filter((pattern) => pattern !== '');
  return patterns.length > 0 ? { patterns } : undefined;
}

/** The type a public key blob names: its first field, a length-prefixed string. */
export function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString('latin1');
}

/**
 * The name known_hosts files a host under: the host itself on port 22, `[host]:port` on any other (what
 * `ssh-keyscan -p PORT` writes). Lower-cased, as OpenSSH looks names up.
 */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** A hashed name as `ssh-keygen -H` writes it, with a fresh salt unless one is given. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

/**
 * Whether an entry's host field names `name` (from `knownHostsName`). As in OpenSSH, a negated pattern
 * that matches rules the entry out whatever else matches.
 */
export function entryNames(entry: KnownHostEntry, name: string): boolean {
  if ('hashed' in entry.hosts) {
    const { salt, hash } = entry.hosts.hashed;
    const computed = createHmac('sha1', salt).update(name).digest();
    return computed.length === hash.length && timingSafeEqual(computed, hash);
  }
  let matched = false;
  for (const pattern of entry.hosts.patterns) {
    const negated = pattern.startsWith('!');
    if (!globMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .toLowerCase()
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(name);
}

export type HostKeyVerdict =
  | { verdict: 'known'; entry: KnownHostEntry }
  | { verdict: 'revoked'; entry: KnownHostEntry }
  /** The file holds keys for this host, none of them the one offered. */
  | { verdict: 'mismatch'; expected: KnownHostEntry[] }
  | { verdict: 'unknown' };

/**
 * Checks the key a host offered against the file's entries for its name. A revoked key is refused
 * wherever it appears; `@cert-authority` lines are not used (host certificates are not supported).
 */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  name: string,
  offered: Buffer,
): HostKeyVerdict {
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(offered));
  if (revoked) return { verdict: 'revoked', entry: revoked };
  const forHost = keysFor(entries, name);
  const known = forHost.find((e) => e.key.equals(offered));
  if (known) return { verdict: 'known', entry: known };
  return forHost.length > 0 ? { verdict: 'mismatch', expected: forHost } : { verdict: 'unknown' };
}

/** The plain (unmarked) entries for a name. */
export function keysFor(entries: readonly KnownHostEntry[], name: string): KnownHostEntry[] {
  return entries.filter((e) => e.marker === null && entryNames(e, name));
}

/** The fingerprint `ssh-keygen -l` prints for a key blob: `SHA256:` and unpadded base64. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** `~/…` as a shell would read it: the config is written by people who type that. */
export function knownHostsPath(configured: string | undefined): string | undefined {
  if (configured === undefined) return undefined;
  return configured === '~' || configured.startsWith('~/')
    ? join(homedir(), configured.slice(1))
    : configured;
}
