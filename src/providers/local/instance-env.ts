/**
 * What a local instance finds in its environment. Only this: the agent was started by whichever CLI
 * came first, and that shell's variables (cloud credentials, tokens) are no business of an instance.
 */

/** Enough for a program to find its tools, its home, its locale and its time zone. */
const baseVariables = ['PATH', 'HOME', 'LANG', 'TZ'] as const;

export function baseEnvironment(from: NodeJS.ProcessEnv): Record<string, string> {
  const base: Record<string, string> = {};
  for (const name of baseVariables) {
    const value = from[name];
    if (value !== undefined) base[name] = value;
  }
  return base;
}

export function instanceEnvironment(options: {
  base: NodeJS.ProcessEnv;
  /** The environment's `env:` map from the config. */
  configured: Readonly<Record<string, string>> | undefined;
  port: number;
  version: string;
}): Record<string, string> {
  return {
    ...baseEnvironment(options.base),
    ...options.configured,
    // Last, so that no configured value can move an instance off the port the router sends to.
    PORT: String(options.port),
    VERSION: options.version,
    HOST: '127.0.0.1',
  };
}
