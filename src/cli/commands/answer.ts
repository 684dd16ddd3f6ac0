import type { PromoteResult } from '../../api/results.js';
import type { CommandIO } from '../command.js';

/** What `promote`, `pause` and `resume` print for people: the deploy's answer, or that none came. */
export function printAnswer(io: CommandIO, verb: string, result: PromoteResult): void {
  if (io.json) return;
  if (result.type === 'deployed')
    io.out(`${verb}: ${result.version} is live (deployment ${result.deployment})`);
  else if (result.type === 'promoted' || result.type === 'paused' || result.type === 'resumed')
    io.out(`${verb}: ${result.message}`);
  else if (result.type === 'failed' && result.code === 'NO_ANSWER')
    io.out(`${result.reason} (cutover status shows where the deploy is)`);
}
