import { UserInputError } from '../errors.js';

/**
 * Replaces `${NAME}` and `${NAME:-fallback}` in every string of a parsed config with the environment's
 * values, so secrets stay out of the file. `$${` writes a literal `${`.
 *
 * `only`: the environment the command acts on. A variable another environment needs is then not
 * required (it reads as empty): a runner deploying to staging does not hold prod's Slack token.
 */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  file: string,
  only?: string,
  path: string[] = [],
): unknown {
  if (typeof value === 'string') {
    const elsewhere = only !== undefined && path[0] === 'environments' && path[1] !== only;
    return interpolateString(value, env, file, path, elsewhere);
  }
  if (Array.isArray(value))
    return value.map((item, i) => interpolate(item, env, file, only, [...path, String(i)]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, env, file, only, [...path, key])]),
    );
  }
  return value;
}

function interpolateString(
  text: string,
  env: NodeJS.ProcessEnv,
  file: string,
  path: string[],
  optional: boolean,
): string {
  return text.replace(
    /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (whole, escape, name, fallback) => {
      if (escape) return whole.slice(1);
      // An artifact's package names its version's tarball: `${version}` is filled in per deploy.
      if (name === 'version' && path[0] === 'artifacts' && path[2] === 'package') return whole;
      const found = env[name as string];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback as string;
      if (optional) return '';
      throw new UserInputError(
        'CONFIG_ENV_MISSING',
        `config \`${file}\`: \`${path.join('.')}\` uses \`\${${name}}\`, which is not set in the environment`,
        `set ${name}, or write \`\${${name}:-default}\``,
      );
    },
  );
}
