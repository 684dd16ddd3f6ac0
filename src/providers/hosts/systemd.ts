/**
 * systemd as a slot's supervisor, where it runs: the unit's text, and the scripts that find out whether
 * cutover can manage units on a host, launch a slot's unit, and stop it. The sh supervisor
 * (supervisor.ts) runs everywhere else; both keep the slot's log under the host's root.
 *
 * Which units: as root, system units in /etc/systemd/system (they start at boot). As another user,
 * user units (`systemctl --user`, ~/.config/systemd/user), but only where that user lingers
 * (`loginctl enable-linger`): without it the user's manager, and every unit it runs, stops when the
 * user's last session ends, which is the end of the deploy's SSH session. A user unit of a lingering
 * user starts when the machine boots, as a system unit does.
 */

/** How a host's slot is supervised: `system` or `user` units, or the sh supervisor (`process`). */
export type SystemdScope = 'system' | 'user';

/**
 * Prints `system` or `user` when cutover can manage units on the host, else `none: <why>`. systemd runs
 * when /run/systemd/system exists (what sd_booted() checks): a container or a machine booted with
 * another init may have systemctl installed without systemd running.
 */
export const detectScript = `if [ ! -d /run/systemd/system ]; then echo 'none: systemd does not run here (no /run/systemd/system)'; exit 0; fi
if ! command -v systemctl >/dev/null 2>&1; then echo 'none: systemctl is not on the PATH'; exit 0; fi
if [ "$(id -u)" = 0 ]; then echo system; exit 0; fi
user=$(id -un)
if [ ! -e "/var/lib/systemd/linger/$user" ]; then
  echo "none: $user does not linger, so its user units would stop when its last session ends (loginctl enable-linger $user)"
  exit 0
fi
export XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"
if ! systemctl --user show-environment >/dev/null 2>&1; then echo "none: the systemd user manager of $user does not answer"; exit 0; fi
echo user`;

/** Sets `ctl` and `units` for the scope in `$scope`: the systemctl to call and where units live. */
const scopeSetup = `if [ "$scope" = user ]; then
  export XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"
  ctl='systemctl --user'
  units="\${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
else
  ctl=systemctl
  units=/etc/systemd/system
fi`;

/**
 * Stops the slot's unit if it has one (its `unit` file says `<scope> <name>`): \`systemctl stop\`
 * sends TERM and, after the unit's TimeoutStopSec (the drain timeout), KILL to everything it started;
 * the unit is then disabled and removed, so that a reboot does not bring back a fleet that is gone.
 * Uses `$1` (the slot folder); the sh supervisor's stop follows it in the same script.
 */
export const systemdStopPart = `if [ -f "$1/unit" ] && read -r scope unit < "$1/unit"; then
  ${scopeSetup.replaceAll('\n', '\n  ')}
  $ctl stop "$unit" || true
  if $ctl is-active --quiet "$unit"; then echo "$unit is still active after systemctl stop" >&2; exit 1; fi
  $ctl disable "$unit" >/dev/null 2>&1 || true
  rm -f "$units/$unit"
  $ctl daemon-reload
  rm -f "$1/unit"
fi`;

/** Prints `up` or `down` for a slot that has a unit, and exits; falls through for one that has none. */
export const systemdAlivePart = `if [ -f "$1/unit" ] && read -r scope unit < "$1/unit"; then
  ${scopeSetup.replaceAll('\n', '\n  ')}
  if $ctl is-active --quiet "$unit"; then echo up; else echo down; fi
  exit 0
fi`;

/**
 * Starts a slot's unit: `sh -c SCRIPT sh SLOTDIR SCOPE UNITNAME UNITTEXT`, the variables file
 * (systemd's form) on standard input. The unit file is written beside its place and renamed into it,
 * so systemd never reads half of one; then daemon-reload, enable (it comes back at boot) and restart
 * (a unit a killed deploy left running is replaced). `prepare` clears the slot and opens its log first.
 */
export function systemdLaunchScript(prepare: string): string {
  return `set -e
dir=$1
scope=$2
unit=$3
text=$4
${prepare}
${scopeSetup}
mkdir -p "$units"
(umask 077; cat > "$dir/env.systemd")
printf '%s' "$text" > "$units/.$unit.tmp"
mv -f "$units/.$unit.tmp" "$units/$unit"
printf '%s %s\\n' "$scope" "$unit" > "$dir/unit"
$ctl daemon-reload
$ctl enable "$unit" >/dev/null 2>&1
$ctl restart "$unit"`;
}

/**
 * The systemd unit for a slot: the same restart and stop rules as the sh supervisor, the log kept under
 * the host's root rather than the journal (`append:` needs systemd 240 or later), so both supervisors
 * leave it in one place. The command's first word should be an absolute path: systemd does not search
 * the user's PATH.
 */
export function systemdUnit(options: {
  description: string;
  release: string;
  slot: string;
  command: string[];
  stopTimeoutMs: number;
  user?: string | undefined;
  /** `multi-user.target` for a system unit (the default), `default.target` for a user unit. */
  wantedBy?: string | undefined;
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
    `WantedBy=${options.wantedBy ?? 'multi-user.target'}`,
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
