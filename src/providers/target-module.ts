import type { z } from 'zod';
import type { Clock } from '../clock.js';
import type { LoadedConfig } from '../config/load.js';
import type { ArtifactConfig } from '../config/schema.js';
import type { Events } from '../events.js';
import type { RetryNotice } from './aws/retry.js';
import type { Target } from './types.js';

/** What creating a target is given: the config, the selected service, where state lives, the clock. */
export interface TargetDeps<Env = unknown> {
  loaded: LoadedConfig;
  service: { artifact: string; environment: string; artifactConfig: ArtifactConfig; env: Env };
  stateDir: string;
  clock: Clock;
  note?: (message: string) => void;
  /** Told of each call to the target's API about to be retried (throttling, a lost response), with the wait. */
  retried?: (notice: RetryNotice) => void;
  /** The command's abort signal: retry waits end when it fires. */
  signal?: AbortSignal;
}

/**
 * A target is one module: its name as `target:` says it, the schema of an environment that uses it, what
 * a version looks like there, and how to build it. The rest of cutover knows targets only through this.
 */
export interface TargetModule<Schema extends z.ZodType<{ target: string }>> {
  name: z.output<Schema>['target'];
  configSchema: Schema;
  /**
   * Refuses a version this target cannot deploy (bad input, before anything changes) with a
   * UserInputError; returns it as the target names it.
   */
  validateVersion(version: string, service: { artifact: string; artifactConfig: ArtifactConfig }): string;
  /** Builds the target; its heavy code (SDK clients, the agent client) is loaded only here. */
  create(deps: TargetDeps<z.output<Schema>>): Promise<Target>;
  /** Where users reach the environment, when the config alone says (GitHub's environment_url). */
  publicUrl?(env: z.output<Schema>): string | undefined;
  /** Problems across the environments of this target (two routers on one address), as config errors. */
  checkEnvironments?(
    environments: [string, z.output<Schema>][],
  ): { environment: string; key: string; message: string }[];
  /** The config the user includes in the load balancer they own (hosts: `cutover haproxy-config`). */
  routerConfig?(env: z.output<Schema>, about: { artifact: string; environment: string }): string;
  /** What `cutover down` says where the target runs nothing on this machine: how to stop it where it runs. */
  downElsewhere?: string;
  /** `cutover down`: stops everything the environment runs, where the target runs it on this machine. */
  down?(deps: { loaded: LoadedConfig; environment: string; stateDir: string; events: Events }): Promise<void>;
}
