import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkServiceOptions, serviceRuntime, type ServiceOptions } from '../controller/runtime.js';
import { reportHtml } from '../report/html.js';
import { timelineFor } from '../controller/report.js';
import { livenessOf } from '../controller/history.js';
import { describeCause, UserInputError } from '../errors.js';
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
 * fleet's share of traffic over time, the checks' readings, the phases, and what failed. A deploy only
 * the target remembers (aws, from another runner) gets the page of what the target still holds.
 */
export function report(options: ReportOptions & Host): Promise<ReportResult> {
  return perform(options, async (io, scope) => {
    checkServiceOptions(options);
    const runtime = await serviceRuntime(options, io.events, io.signal, io.clock, io.stopsOnSignal);
    scope.runtime = runtime;
    const { service, stateDir } = runtime;
    const liveness = livenessOf(stateDir, service.environment, service.artifact, runtime.ctx.clock.now());
    const timeline = await timelineFor(runtime.ctx, service, options.deployment, liveness);
    const id = timeline.deployment;
    scope.deployment = id;
    scope.version = timeline.version ?? undefined;
    const path = resolve(options.out ?? `cutover-report-${id}.html`);
    try {
      writeFileSync(path, reportHtml(timeline, service));
    } catch (error) {
      // Nothing changed anywhere: a page that cannot be written is bad input, not a failed deploy.
      throw new UserInputError(
        'REPORT_UNWRITABLE',
        `cannot write the report to ${path}: ${(error as NodeJS.ErrnoException).code ?? describeCause(error)}`,
        '--out FILE names a file in a folder that exists and can be written',
      );
    }
    return { type: 'report', deployment: id, version: timeline.version, path, result: timeline.result };
  });
}
