import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * How many established TCP connections on local port `port` each of `pids` holds, read from /proc (Linux):
 * which router worker accepted which client, where nothing else would say.
 */
export function connectionsHeld(pids: number[], port: number): Map<number, number> {
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // local_address, rem_address, st (01 = ESTABLISHED), …, inode
    if (fields[1]?.endsWith(portHex) && fields[3] === '01' && fields[9]) inodes.add(fields[9]);
  }
  const held = new Map<number, number>();
  for (const pid of pids) {
    let count = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match && inodes.has(match[1] as string)) count++;
      } catch {
        // Closed meanwhile.
      }
    }
    held.set(pid, count);
  }
  return held;
}
