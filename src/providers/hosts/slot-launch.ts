import { UserInputError } from '../../errors.js';
import type { HostSession } from './ssh.js';
import { envFile, launchScript, supervisorScript, systemdLaunch } from './supervisor.js';
import { detectScript, systemdEnvFile, systemdUnit, unitName, type SystemdScope } from './systemd.js';

/**
 * Starting a slot's process on one host under the supervisor the environment's `supervisor` asks for:
 * systemd where cutover can manage units there (found out once per host and command), else the sh
 * supervisor. Stopping and the alive check need no choice: the slot remembers its supervisor.
 */

export type SupervisorSetting = 'auto' | 'systemd' | 'process';

export interface SlotLaunch {
  artifact: string;
  environment: string;
  slot: number;
  version: string;
  /** The slot's folder and the release's, on the host. */
  dir: string;
  release: string;
  command: string[];
  vars: Record<string, string>;
  /** How long a stop waits for the process before it is killed: the unit's TimeoutStopSec. */
  drainTimeoutMs: number;
}

/** What supervises slots on one host: a systemd scope, or the sh supervisor (with why, for `auto`). */
export type HostSupervisor = { kind: 'systemd'; scope: SystemdScope } | { kind: 'process'; why?: string };

export async function hostSupervisor(
  session: HostSession,
  setting: SupervisorSetting,
): Promise<HostSupervisor> {
  if (setting === 'process') return { kind: 'process' };
  const found = await session.run(['sh', '-c', detectScript]);
  const said = found.stdout.trim();
  if (found.code === 0 && (said === 'system' || said === 'user')) return { kind: 'systemd', scope: said };
  const why = said.replace(/^none: /, '') || found.stderr.trim() || `exit ${found.code}`;
  if (setting === 'systemd') {
    throw new UserInputError(
      'SYSTEMD_UNAVAILABLE',
      `${session.host}: \`supervisor: systemd\` but cutover cannot manage systemd units there: ${why}`,
      'make systemd usable there, or set `supervisor: auto` to run the sh supervisor on hosts where it is not',
    );
  }
  return { kind: 'process', why };
}

/** Starts the slot's process under `supervisor`; rejects saying what failed on which host. */
export async function launchSlot(
  session: HostSession,
  supervisor: HostSupervisor,
  launch: SlotLaunch,
): Promise<void> {
  const result =
    supervisor.kind === 'systemd'
      ? await session.run(
          [
            'sh',
            '-c',
            systemdLaunch,
            'sh',
            launch.dir,
            supervisor.scope,
            unitName(launch.artifact, launch.environment, launch.slot),
            systemdUnit({
              description: `cutover ${launch.artifact} ${launch.environment} ${launch.version} on port ${launch.slot}`,
              release: launch.release,
              slot: launch.dir,
              command: launch.command,
              stopTimeoutMs: launch.drainTimeoutMs,
              wantedBy: supervisor.scope === 'user' ? 'default.target' : 'multi-user.target',
            }),
            launch.release,
          ],
          { stdin: systemdEnvFile(launch.vars) },
        )
      : await session.run(
          ['sh', '-c', launchScript, 'sh', launch.dir, launch.release, supervisorScript, ...launch.command],
          { stdin: envFile(launch.vars) },
        );
  if (result.code !== 0) {
    const how = supervisor.kind === 'systemd' ? `a ${supervisor.scope} systemd unit` : 'the sh supervisor';
    throw new Error(
      `${session.host}: starting under ${how} failed (exit ${result.code}): ${result.stderr.trim().slice(-400)}`,
    );
  }
}
