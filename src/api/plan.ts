import { planDeploy } from '../controller/plan.js';
import { checkServiceOptions, serviceRuntime, type ServiceOptions } from '../controller/runtime.js';
import { validateVersion } from '../config/select.js';
import { perform, type CommandOptions, type Host } from './perform.js';
import type { PlanResult } from './results.js';

export interface PlanOptions extends ServiceOptions, CommandOptions {
  version: string;
}

/** Every call a deploy of `version` would make from here, in order; changes nothing. */
export function plan(options: PlanOptions & Host): Promise<PlanResult> {
  return perform(options, async (io, scope) => {
    checkServiceOptions(options, ['version']);
    const runtime = await serviceRuntime(options, io.events, io.signal, io.clock, io.stopsOnSignal);
    scope.runtime = runtime;
    const version = validateVersion(runtime.service, options.version);
    return { type: 'planned', version, calls: await planDeploy(runtime.ctx, version) };
  });
}
