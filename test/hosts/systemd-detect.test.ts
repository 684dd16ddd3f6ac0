import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectScript } from '../../src/providers/hosts/systemd.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Whether cutover can manage systemd units on a host, as the detection script run there decides: in a
 * mount namespace of its own (unshare), where /run/systemd, /var/lib/systemd and a stand-in systemctl on
 * the PATH are the test's, as root or as `nobody`. This machine runs no systemd: the script's reading of
 * the machine is what is tested, not systemd.
 */
const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function detect(options: { booted: boolean; linger?: boolean; managerAnswers?: boolean; user?: 'nobody' }) {
  const dir = tempDir('cutover-detect-');
  dirs.push(dir);
  const run = join(dir.path, 'run-systemd');
  const lib = join(dir.path, 'lib-systemd');
  const bin = join(dir.path, 'bin');
  mkdirSync(options.booted ? join(run, 'system') : run, { recursive: true });
  mkdirSync(join(lib, 'linger'), { recursive: true });
  if (options.linger) writeFileSync(join(lib, 'linger', 'nobody'), '');
  mkdirSync(bin);
  // Answers `systemctl --user show-environment` as a running user manager would, or as none does.
  writeFileSync(
    join(bin, 'systemctl'),
    `#!/bin/sh\n[ "$*" = "--user show-environment" ] && exit ${options.managerAnswers ? 0 : 1}\nexit 2\n`,
  );
  chmodSync(join(bin, 'systemctl'), 0o755);
  for (const d of [dir.path, bin]) chmodSync(d, 0o755);
  const as = options.user === 'nobody' ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  return execFileSync(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      'mount --bind "$1" /run/systemd && mount --bind "$2" /var/lib/systemd && shift 2 && exec "$@"',
      'sh',
      run,
      lib,
      ...as,
      'env',
      `PATH=${bin}:/usr/bin:/bin`,
      'HOME=/nonexistent',
      'sh',
      '-c',
      detectScript,
    ],
    { encoding: 'utf8' },
  ).trim();
}

describe('hosts: where cutover manages systemd units', () => {
  it('GIVEN no /run/systemd/system (systemd does not run, whatever is installed) THEN none, saying why', () => {
    expect(detect({ booted: false })).toBe('none: systemd does not run here (no /run/systemd/system)');
  });

  it('GIVEN systemd runs and cutover logs in as root THEN system units', () => {
    expect(detect({ booted: true })).toBe('system');
  });

  it('GIVEN another user THEN user units only where it lingers and its manager answers: without lingering its units would die with its last session', () => {
    expect(detect({ booted: true, user: 'nobody', managerAnswers: true })).toBe(
      'none: nobody does not linger, so its user units would stop when its last session ends (loginctl enable-linger nobody)',
    );
    expect(detect({ booted: true, user: 'nobody', linger: true })).toBe(
      'none: the systemd user manager of nobody does not answer',
    );
    expect(detect({ booted: true, user: 'nobody', linger: true, managerAnswers: true })).toBe('user');
  });
});
