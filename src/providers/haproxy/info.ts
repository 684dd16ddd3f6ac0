/**
 * Which HAProxy process answered, from `show info`: its pid and the second it started. Counters live in
 * the process, so a reload (a new process, whatever its pid) starts them from zero: two readings by
 * different processes cannot be subtracted, even when the new counters have already grown past the old.
 */
export function processIdentity(answer: string): string | undefined {
  const field = (name: string) => new RegExp(`^${name}: *(\\d+) *$`, 'm').exec(answer)?.[1];
  const pid = field('Pid');
  const started = field('Start_time_sec');
  return pid === undefined || started === undefined ? undefined : `${pid}@${started}`;
}
