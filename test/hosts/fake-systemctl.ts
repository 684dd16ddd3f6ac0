import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { supervisorScript } from '../../src/providers/hosts/supervisor.js';
import type { Lab, LabHost } from '../helpers/netlab.js';

/**
 * systemd on a lab host, as far as cutover can see it, for the hosts target's systemd path on a machine
 * where systemd does not run. In the mount namespace of the host's sshd (every SSH session of the test
 * starts there), and nowhere else:
 * - /run/systemd holds `system/`, so the host reads as booted with systemd;
 * - /etc/systemd/system is a folder of the lab's, so units written there stay in the lab;
 * - /usr/local/sbin, first on sshd's PATH, holds a stand-in `systemctl` that records each call and runs
 *   a unit's ExecStart under cutover's own sh supervisor (so the app really serves), stops it with TERM
 *   then KILL after TimeoutStopSec, and answers is-active. It is not systemd: it checks what cutover
 *   asks of systemctl, not what systemd would do with the unit.
 */
export interface FakeSystemd {
  /** Where units land (the host's /etc/systemd/system). */
  units: string;
  /** The calls so far, one `systemctl` argument list a line. */
  calls(): string[];
}

export function fakeSystemd(lab: Lab, host: LabHost): FakeSystemd {
  const base = join(lab.dir, host.name, 'fake-systemd');
  const run = join(base, 'run-systemd');
  const units = join(base, 'units');
  const bin = join(base, 'bin');
  const state = join(base, 'state');
  for (const dir of [join(run, 'system'), units, bin, state]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(base, 'supervisor.sh'), supervisorScript);
  writeFileSync(join(bin, 'systemctl'), fakeSystemctl(state, units, join(base, 'supervisor.sh')));
  chmodSync(join(bin, 'systemctl'), 0o755);
  const sshd = readFileSync(join(lab.dir, host.name, 'sshd.pid'), 'utf8').trim();
  execFileSync('nsenter', [
    '-t',
    sshd,
    '-m',
    '--',
    'sh',
    '-c',
    'mount --bind "$1" /run/systemd && mount --bind "$2" /etc/systemd/system && mount --bind "$3" /usr/local/sbin',
    'sh',
    run,
    units,
    bin,
  ]);
  const callsFile = join(state, 'calls');
  return {
    units,
    calls: () =>
      existsSync(callsFile)
        ? readFileSync(callsFile, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
        : [],
  };
}

function fakeSystemctl(state: string, units: string, supervisor: string): string {
  return `#!/bin/sh
# A stand-in for systemctl in cutover's lab (test/hosts/fake-systemctl.ts): records, then fakes.
state='${state}'
echo "$*" >> "$state/calls"
units='${units}'
if [ "$1" = --user ]; then units="$HOME/.config/systemd/user"; shift; fi
cmd=$1
shift
quiet=
signal=KILL
while [ $# -gt 1 ]; do
  case $1 in --quiet) quiet=1 ;; --signal=*) signal=\${1#--signal=}; signal=\${signal#SIG} ;; esac
  shift
done
unit=$1
file="$units/$unit"
run="$state/$unit"
field() { sed -n "s/^$1=//p" "$file"; }
running() { pid=$(cat "$run/pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }
stop() {
  running || return 0
  kill -TERM "$pid"
  i=0
  limit=$(($(cat "$run/timeout") * 10))
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt "$limit" ]; do sleep 0.1; i=$((i + 1)); done
  kill -s KILL -- "-$pid" 2>/dev/null
  rm -f "$run/pid"
}
case $cmd in
  daemon-reload | enable | disable) exit 0 ;;
  restart)
    [ -f "$file" ] || { echo "Unit $unit not found." >&2; exit 5; }
    stop
    mkdir -p "$run"
    field TimeoutStopSec > "$run/timeout"
    printf 'set -a\\n. %s\\nset +a\\n' "$(field EnvironmentFile)" > "$run/env"
    ln -sfn "$(field StandardOutput | sed 's/^append://')" "$run/log"
    cp '${supervisor}' "$run/run.sh"
    cd "$(field WorkingDirectory)"
    eval "set -- $(field ExecStart)"
    setsid -f sh "$run/run.sh" "$@" </dev/null >/dev/null 2>&1
    ;;
  stop) stop ;;
  kill) if running; then kill -s "$signal" -- "-$pid"; fi ;;
  is-active)
    if running; then [ -n "$quiet" ] || echo active; exit 0; fi
    [ -n "$quiet" ] || echo inactive
    exit 3
    ;;
  *) echo "the lab's systemctl does not fake $cmd" >&2; exit 1 ;;
esac
`;
}
