import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkServiceOptions, serviceRuntime, type ServiceOptions } from '../controller/runtime.js';
import { UserInputError } from '../errors.js';
import { reportHtml } from '../report/html.js';
import { timelineOf } from '../report/timeline.js';
import { perform, type CommandOptions, type Host } from './perform.js';
import type { ReportResult } from './results.js';

export interface ReportOptions extends ServiceOptions, CommandOptions {
  /** The deployment to draw (default: the latest this runner's journal holds). */
  deployment?: string | undefined;
  /** Where to write it (default `cutover-report-<deployment>.html` in the current folder). */
  out?: string | undefined;
}

/**
 * Writes one self-contained HTML page of a deployment's timeline, from this runner's journal: each
 * fleet's share of traffic over time, the checks' readings, the phases, and what failed.
 */
export function report(options: ReportOptions & Host): Promise<ReportResult> {
  return perform(options, async (io, scope) => {
    checkServiceOptions(options);
    const runtime = await serviceRuntime(options, io.events, io.signal, io.clock, io.stopsOnSignal);
    scope.runtime = runtime;
    const { journal, service } = runtime;
    const id = options.deployment ?? journal.latest()?.deployment;
    if (id === undefined) {
      throw new UserInputError(
        'NOTHING_TO_REPORT',
        `this runner's journal holds no deployment of \`${service.artifact}\` in \`${service.environment}\``,
        'run the report where the deploy ran (its journal is there), or deploy first',
      );
    }
    scope.deployment = id;
    const timeline = timelineOf(journal.entries(id));
    if (!timeline) {
      throw new UserInputError(
        'DEPLOYMENT_UNKNOWN',
        `this runner's journal holds no deployment \`${id}\` of \`${service.artifact}\` in \`${service.environment}\``,
        `\`cutover history artifact=${service.artifact} environment=${service.environment}\` lists the ones it holds`,
      );
    }
    const path = resolve(options.out ?? `cutover-report-${id}.html`);
    writeFileSync(path, reportHtml(timeline, service));
    return { type: 'report', deployment: id, path, result: timeline.result };
  });
}
