import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  aliveScript,
  envFile,
  launchScript,
  logRotateBytes,
  stopScript,
  supervisorScript,
} from '../../src/providers/hosts/supervisor.js';
import { systemdEnvFile, systemdUnit, unitName } from '../../src/providers/hosts/systemd.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

describe('hosts: the systemd unit a slot gets where systemd runs', () => {
  it('GIVEN a command with spaces, quotes and % THEN the unit restarts it, keeps its log under the root, and quotes each argument as systemd reads it', () => {
    const unit = systemdUnit({
      description: 'cutover catalog prod port 8001',
      release: '/opt/cutover/catalog/releases/v2',
      slot: '/opt/cutover/catalog/prod/slot-8001',
      command: ['/usr/bin/node', 'server.mjs', '--name=a "b" 100%'],
      stopTimeoutMs: 10_500,
      user: 'deploy',
    });
    expect(unit).toContain('ExecStart="/usr/bin/node" "server.mjs" "--name=a \\"b\\" 100%%"');
    expect(unit).toContain('WorkingDirectory=/opt/cutover/catalog/releases/v2');
    expect(unit).toContain('Restart=always');
    expect(unit).toContain('TimeoutStopSec=11');
    expect(unit).toContain('StandardOutput=append:/opt/cutover/catalog/prod/slot-8001/log');
    expect(unit).toContain('EnvironmentFile=/opt/cutover/catalog/prod/slot-8001/env.systemd');
    expect(unit).toContain('User=deploy');
    expect(unit).toContain('WantedBy=multi-user.target');
    // A user unit (a lingering user's manager) is wanted by the user's default target instead.
    expect(
      systemdUnit({
        description: 'x',
        release: '/r',
        slot: '/s',
        command: ['/bin/true'],
        stopTimeoutMs: 1,
        wantedBy: 'default.target',
      }),
    ).toContain('WantedBy=default.target\n');
    expect(unitName('catalog', 'prod', 8001)).toBe('cutover-catalog-prod-8001.service');
    expect(systemdEnvFile({ TOKEN: 'a"b\\c\nd', PORT: '8001' })).toBe(
      'TOKEN="a\\"b\\\\c\\nd"\nPORT="8001"\n',
    );
  });
});

describe('hosts: the sh supervisor where systemd does not run (run here, as on a host)', () => {
  it('GIVEN a started slot THEN it survives its starter, restarts its command when it dies, passes variables verbatim, and stops its whole group', async () => {
    // The "artifact": prints its variable and pid, then sleeps.
    const { slot, appPid } = startSlot('echo "$GREETING pid=$$"; exec sleep 60\n', {
      GREETING: "it's $(not run) `either`",
      PORT: '1',
    });
    const alive = () => execFileSync('sh', ['-c', aliveScript, 'sh', slot]).toString().trim();
    const first = await appPid();
    expect(alive()).toBe('up');
    expect(readFileSync(join(slot, 'log'), 'utf8')).toContain("it's $(not run) `either` pid=");
    // The command dies: the supervisor starts it again.
    process.kill(first, 'SIGKILL');
    let second = first;
    for (let i = 0; i < 50 && second === first; i++) {
      await new Promise((r) => setTimeout(r, 100));
      second = await appPid();
    }
    expect(second).not.toBe(first);
    expect(readFileSync(join(slot, 'log'), 'utf8')).toContain('exited; restarting in 1 s');
    // Stopped: the supervisor and its command are gone, and the pid file with them.
    execFileSync('sh', ['-c', stopScript, 'sh', slot, '30']);
    expect(alive()).toBe('down');
    expect(() => process.kill(second, 0)).toThrow();
    expect(existsSync(join(slot, 'pid'))).toBe(false);
    // Stopping a slot where nothing runs succeeds.
    execFileSync('sh', ['-c', stopScript, 'sh', slot, '1']);
  });

  it('GIVEN a command that ignores TERM THEN stopping the slot kills it anyway once the drain time is over (dash takes `kill -s KILL -- -PGID`)', async () => {
    const { slot, appPid } = startSlot('trap \'\' TERM; echo "pid=$$"; exec sleep 60\n', {});
    const pid = await appPid();
    expect(pid).toBeGreaterThan(0);
    execFileSync('sh', ['-c', stopScript, 'sh', slot, '3']);
    await new Promise((r) => setTimeout(r, 200));
    expect(deadOrZombie(pid)).toBe(true);
  });
});

describe('hosts: a slot keeps its log across launches', () => {
  it('GIVEN a slot launched twice THEN the first run’s output is still in the log after the second, each launch marked; a log past the bound is moved to log.1 at the next launch', async () => {
    const first = startSlot('echo "first run pid=$$"; exec sleep 60\n', {});
    await first.appPid();
    const { slot, release } = first;
    writeFileSync(join(release, 'app.sh'), 'echo "second run pid=$$"; exec sleep 60\n');
    execFileSync('sh', ['-c', launchScript, 'sh', slot, release, supervisorScript, 'sh', 'app.sh'], {
      input: envFile({}),
    });
    await first.appPid();
    const log = readFileSync(join(slot, 'log'), 'utf8');
    expect(log).toContain('first run pid=');
    expect(log).toContain('second run pid=');
    expect(log.match(/^cutover: \S+ starting /gm)).toHaveLength(2);
    // Past the bound: the next launch moves it aside, keeping one older log.
    appendFileSync(join(slot, 'log'), 'x'.repeat(logRotateBytes));
    execFileSync('sh', ['-c', launchScript, 'sh', slot, release, supervisorScript, 'sh', 'app.sh'], {
      input: envFile({}),
    });
    await first.appPid();
    expect(readFileSync(join(slot, 'log.1'), 'utf8')).toContain('first run pid=');
    expect(readFileSync(join(slot, 'log'), 'utf8')).not.toContain('first run pid=');
    execFileSync('sh', ['-c', stopScript, 'sh', slot, '10']);
  });
});

/**
 * Launches `app.sh` (its text given) in a fresh slot under the supervisor, as a deploy does on a host;
 * `appPid` waits for the pid the app's last start printed to the slot's log.
 */
function startSlot(app: string, vars: Record<string, string>) {
  const dir = tempDir('cutover-supervisor-');
  dirs.push(dir);
  const slot = join(dir.path, 'slot');
  const release = join(dir.path, 'release');
  mkdirSync(release);
  writeFileSync(join(release, 'app.sh'), app);
  execFileSync('sh', ['-c', launchScript, 'sh', slot, release, supervisorScript, 'sh', 'app.sh'], {
    input: envFile(vars),
  });
  const appPid = async (): Promise<number> => {
    for (let i = 0; i < 50; i++) {
      const log = existsSync(join(slot, 'log')) ? readFileSync(join(slot, 'log'), 'utf8') : '';
      const match = /pid=(\d+)\n?$/.exec(log);
      if (match) return Number(match[1]);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the app never started');
  };
  return { slot, release, appPid };
}

/** Gone, or a zombie waiting for PID 1 (slow to reap here) to collect it: either way it runs no more. */
function deadOrZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
