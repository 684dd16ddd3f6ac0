import { shellQuote } from './quote.js';
import { systemdAlivePart, systemdLaunchScript, systemdStopPart } from './systemd.js';

/**
 * What keeps a slot's process running after the SSH session ends: a systemd unit where systemd runs
 * (systemd.ts), else a small POSIX sh supervisor started in its own session (setsid), as the local agent
 * supervises processes on one machine. Both restart the command when it exits, append its output to the
 * slot's log under the host's root, and stop it with SIGTERM, then SIGKILL after the drain timeout. A
 * slot remembers which one runs it (`pid` for the sh supervisor, `unit` for systemd), so stopping and
 * the alive check need no detection, and a launch clears whichever a killed deploy left.
 */

/** Where one slot of an artifact's environment keeps its files on a host. */
export function slotDir(root: string, artifact: string, environment: string, port: number): string {
  return `${root}/${artifact}/${environment}/slot-${port}`;
}

export function releaseDir(root: string, artifact: string, version: string): string {
  return `${root}/${artifact}/releases/${version}`;
}

/** The variables the command gets, as sh assignments, each value quoted: written to a 0600 file. */
export function envFile(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`)
    .join('');
}

/**
 * The supervisor, run as `sh run.sh COMMAND…` in the release folder: it records its pid (its process
 * group's id, under setsid), restarts the command a second after it exits, and on TERM passes it on,
 * waits for the command, and ends.
 */
export const supervisorScript = `#!/bin/sh
# cutover's supervisor for one slot: restarts the command when it exits, until it is sent TERM.
dir=$(dirname "$0")
. "$dir/env"
echo $$ > "$dir/pid"
child=
stopping=
trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
while [ -z "$stopping" ]; do
  "$@" >> "$dir/log" 2>&1 &
  child=$!
  wait "$child"
  [ -n "$stopping" ] && break
  echo "cutover: $1 exited; restarting in 1 s" >> "$dir/log"
  sleep 1
done
wait "$child" 2>/dev/null
rm -f "$dir/pid"
`;

/** The log is rotated at a launch once it is this large: one older log (`log.1`) is kept beside it. */
export const logRotateBytes = 10 * 1024 * 1024;

/**
 * The start of both launches (`$dir` the slot, `$release` the release or a label): whatever a killed
 * deploy left running in the slot is killed first (it never took traffic), the slot is made, and its
 * log is kept: appended to, so that an earlier run's output survives a relaunch, and rotated once past
 * logRotateBytes, with a line saying what starts.
 */
const prepareSlot = `if pid=$(cat "$dir/pid" 2>/dev/null); then
  kill -s KILL -- "-$pid" 2>/dev/null || true
  rm -f "$dir/pid"
fi
if [ -f "$dir/unit" ] && read -r left_scope left_unit < "$dir/unit"; then
  if [ "$left_scope" = user ]; then
    export XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"
    systemctl --user kill --signal=SIGKILL "$left_unit" 2>/dev/null || true
    systemctl --user stop "$left_unit" 2>/dev/null || true
  else
    systemctl kill --signal=SIGKILL "$left_unit" 2>/dev/null || true
    systemctl stop "$left_unit" 2>/dev/null || true
  fi
  rm -f "$dir/unit"
fi
mkdir -p "$dir"
if [ -f "$dir/log" ] && [ "$(wc -c < "$dir/log")" -gt ${logRotateBytes} ]; then mv -f "$dir/log" "$dir/log.1"; fi
printf 'cutover: %s starting %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$release" >> "$dir/log"`;

/**
 * Makes a slot and starts its sh supervisor detached from the SSH session, in one round trip:
 * `sh -c SCRIPT sh SLOTDIR RELEASE SUPERVISOR COMMAND…`, with the variables file on standard input.
 */
export const launchScript = `set -e
dir=$1
release=$2
supervisor=$3
shift 3
${prepareSlot}
(umask 077; cat > "$dir/env")
printf '%s' "$supervisor" > "$dir/run.sh"
cd "$release"
setsid -f sh "$dir/run.sh" "$@" </dev/null >/dev/null 2>&1`;

/**
 * Makes a slot and starts its systemd unit (systemd.ts): `sh -c SCRIPT sh SLOTDIR SCOPE UNITNAME
 * UNITTEXT RELEASE`, the variables file in systemd's form on standard input.
 */
export const systemdLaunch = systemdLaunchScript(`release=$5\n${prepareSlot}`);

/**
 * Stops a slot's process, whichever supervises it: its systemd unit (systemd.ts), or its sh supervisor:
 * TERM to the supervisor, then, after \`$2\` tenths of a second, KILL to its whole process group.
 * Succeeds when nothing runs.
 */
export const stopScript = `${systemdStopPart}
pid=$(cat "$1/pid" 2>/dev/null) || exit 0
kill -TERM "$pid" 2>/dev/null || { rm -f "$1/pid"; exit 0; }
i=0
while kill -0 "$pid" 2>/dev/null && [ "$i" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
kill -s KILL -- "-$pid" 2>/dev/null
rm -f "$1/pid"
exit 0`;

/** Prints `up` when the slot's process runs under its supervisor. */
export const aliveScript = `${systemdAlivePart}
pid=$(cat "$1/pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null && echo up || echo down`;
