import { z } from 'zod';
import { UserInputError } from '../errors.js';
import { awsTarget } from './aws/module.js';
import { hostsTarget } from './hosts/module.js';
import { localTarget } from './local/module.js';
import type { TargetDeps, TargetModule } from './target-module.js';
import type { Target } from './types.js';

/**
 * Maps a config's `target:` to its module. Each module's heavy code is imported only when an
 * environment uses it. A new target is one more module here and one more schema in the union.
 */
export const environmentSchema = z.discriminatedUnion('target', [
  localTarget.configSchema,
  awsTarget.configSchema,
  hostsTarget.configSchema,
]);

export type EnvironmentConfig = z.output<typeof environmentSchema>;

// The registry holds modules of different environment types; each is only ever given an environment its
// own schema parsed (the union is discriminated on `target`), which this one cast stands for.
type AnyModule = TargetModule<z.ZodType<EnvironmentConfig>>;
const modules = [localTarget, awsTarget, hostsTarget] as unknown as AnyModule[];

export const targetNames: readonly string[] = modules.map((m) => m.name);

export function targetModule(name: string): AnyModule {
  const found = modules.find((m) => m.name === name);
  if (!found) {
    throw new UserInputError(
      'TARGET_UNKNOWN',
      `target \`${name}\` is not known`,
      `known targets: ${targetNames.join(', ')}`,
    );
  }
  return found;
}

/** The environment's target module. */
export function moduleOf(env: EnvironmentConfig): AnyModule {
  return targetModule(env.target);
}

export function createTarget(deps: TargetDeps<EnvironmentConfig>): Promise<Target> {
  return moduleOf(deps.service.env).create(deps);
}

/** Every module's problems across its environments, for the config schema to report. */
export function crossEnvironmentIssues(
  environments: Record<string, EnvironmentConfig>,
): { environment: string; key: string; message: string }[] {
  return modules.flatMap((m) =>
    m.checkEnvironments
      ? m.checkEnvironments(Object.entries(environments).filter(([, env]) => env.target === m.name))
      : [],
  );
}
