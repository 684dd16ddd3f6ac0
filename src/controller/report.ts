import { UserInputError } from '../errors.js';
import type { TargetRecord } from '../providers/types.js';
import { timelineFromTarget } from '../report/target-timeline.js';
import { timelineOf, type Timeline } from '../report/timeline.js';
import type { ControllerContext } from './context.js';
import { standing, type Liveness } from './history.js';
import type { JournalEntry } from '../state/journal.js';

/**
 * The timeline of one deployment (by default the environment's newest): from this runner's journal, or
 * where the journal has none of it, from what the target still holds (aws: a deploy another runner ran).
 */
export async function timelineFor(
  ctx: Pick<ControllerContext, 'journal' | 'target' | 'clock'>,
  about: { artifact: string; environment: string },
  deployment?: string,
  liveness?: Liveness,
): Promise<Timeline> {
  const { journal, target } = ctx;
  const remembers = target.deployments !== undefined;
  const records = (await target.deployments?.()) ?? [];
  const id = deployment ?? newestOf(journal.latest(), records);
  const where = `\`${about.artifact}\` in \`${about.environment}\``;
  if (id === undefined) {
    throw new UserInputError(
      'NOTHING_TO_REPORT',
      `this runner's journal holds no deployment of ${where}${remembers ? ', and the target remembers none' : ''}`,
      'run the report where the deploy ran (its journal is there), or deploy first',
    );
  }
  const entries = journal.entries(id);
  const journaled = timelineOf(entries);
  if (journaled) {
    // A deployment left unfinished says so: its controller is gone, or its gate closed.
    const folded = Object.assign({}, ...entries) as JournalEntry;
    const now = standing({ ...folded, phase: entries.at(-1)?.phase ?? folded.phase }, liveness);
    return { ...journaled, ...now };
  }
  const record = records.find((r) => r.deployment === id);
  if (record) {
    const [fleets, weights] = await Promise.all([target.fleet.list(), target.router.readWeights()]);
    return timelineFromTarget(record, fleets, weights, ctx.clock.now());
  }
  throw new UserInputError(
    'DEPLOYMENT_UNKNOWN',
    `this runner's journal holds no deployment \`${id}\` of ${where}${remembers ? ', and the target remembers no such deploy' : ''}`,
    `\`cutover history artifact=${about.artifact} environment=${about.environment}\` lists the ones it holds`,
  );
}

/** The newer of this runner's latest deployment and the newest the target remembers. */
function newestOf(
  journaled: { deployment: string; startedAt: number } | undefined,
  records: TargetRecord[],
): string | undefined {
  const candidates = [...(journaled ? [journaled] : []), ...records];
  return candidates.reduce<{ deployment: string; startedAt: number } | undefined>(
    (a, b) => (a && a.startedAt >= b.startedAt ? a : b),
    undefined,
  )?.deployment;
}
