import { shellQuote } from './quote.js';

/**
 * What keeps a slot's process running after the SSH session ends: a systemd unit where systemd runs,
 * else a small POSIX sh supervisor started in its own session (setsid), as the local agent supervises
 * processes on one machine. Both restart the command when it exits, append its output to the slot's
 * log under the host's root, and stop it with SIGTERM, then SIGKILL after the drain timeout.
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

/**
 * Makes a slot and starts its supervisor detached from the SSH session, in one round trip:
 * `sh -c SCRIPT sh SLOTDIR RELEASE SUPERVISOR COMMAND…`, with the variables file on standard input.
 * Whatever a killed deploy left running in the slot is killed first: it never took traffic.
 */
export const launchScript = `set -e
dir=$1
release=$2
supervisor=$3
shift 3
if pid=$(cat "$dir/pid" 2>/dev/null); then
  kill -s KILL -- "-$pid" 2>/dev/null || true
  rm -f "$dir/pid"
fi
mkdir -p "$dir"
(umask 077; cat > "$dir/env")
printf '%s' "$supervisor" > "$dir/run.sh"
: > "$dir/log"
cd "$release"
setsid -f sh "$dir/run.sh" "$@" </dev/null >/dev/null 2>&1`;

/**
 * Stops a slot's supervisor and its command: TERM to the supervisor, then, after \`$2\` tenths of a second,
 * KILL to its whole process group. Succeeds when nothing runs.
 */
export const stopScript = `pid=$(cat "$1/pid" 2>/dev/null) || exit 0
kill -TERM "$pid" 2>/dev/null || { rm -f "$1/pid"; exit 0; }
i=0
while kill -0 "$pid" 2>/dev/null && [ "$i" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
kill -s KILL -- "-$pid" 2>/dev/null
rm -f "$1/pid"
exit 0`;

/** Prints `up` when the slot's supervisor runs. */
export const aliveScript = `pid=$(cat "$1/pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null && echo up || echo down`;

/**
 * The systemd unit for a slot, where systemd runs: the same restart and stop rules, the log kept under
 * the host's root rather than the journal, so both supervisors leave it in one place.
 */
export function systemdUnit(options: {
  description: string;
  release: string;
  slot: string;
  command: string[];
  stopTimeoutMs: number;
  user?: string | undefined;
}): string {
  // systemd's own quoting: each argument in double quotes, with \\ and " escaped and % doubled.
  const quoted = options.command
    .map((arg) => `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`)
    .join(' ');
  return [
    '[Unit]',
    `Description=${options.description}`,
    'After=network.target',
    '',
    '[Service]',
    `WorkingDirectory=${options.release}`,
    `EnvironmentFile=${options.slot}/env.systemd`,
    `ExecStart=${quoted}`,
    'Restart=always',
    'RestartSec=1',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${Math.max(1, Math.ceil(options.stopTimeoutMs / 1000))}`,
    `StandardOutput=append:${options.slot}/log`,
    `StandardError=append:${options.slot}/log`,
    ...(options.user ? [`User=${options.user}`] : []),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** systemd's EnvironmentFile form: NAME="value", with \\, " and newlines escaped. */
export function systemdEnvFile(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(
      ([name, value]) =>
        `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"\n`,
    )
    .join('');
}

/** The unit's name: one per artifact, environment and slot. */
export function unitName(artifact: string, environment: string, port: number): string {
  return `cutover-${artifact}-${environment}-${port}.service`;
}
