import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { UserInputError } from '../errors.js';
import { defaults } from './defaults.js';
import { interpolate } from './interpolate.js';
import { configSchema, type Config } from './schema.js';

export interface LoadedConfig {
  file: string;
  /** Relative paths in the config (state folder, commands) are relative to the file's folder. */
  baseDir: string;
  config: Readonly<Config>;
}

/** `environment`: the one the command acts on; only its variables (and top-level ones) must be set. */
export function loadConfig(
  path: string | undefined,
  env: Record<string, string | undefined> = process.env,
  environment?: string,
): LoadedConfig {
  const file = resolve(path ?? defaults.configFile);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new UserInputError(
      'CONFIG_UNREADABLE',
      missing ? `config file \`${file}\` does not exist` : `config file \`${file}\` cannot be read`,
      missing
        ? `run cutover in the folder that holds ${defaults.configFile}, or pass --config FILE`
        : undefined,
      { cause: error },
    );
  }
  let raw: unknown;
  try {
    raw = parse(text, { prettyErrors: true });
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}` : '';
    throw new UserInputError(
      'CONFIG_PARSE',
      `config \`${file}\` is not valid YAML${where}: ${firstLine(error)}`,
    );
  }
  const parsed = configSchema.safeParse(interpolate(raw ?? {}, env, file, environment));
  if (!parsed.success) throw schemaError(file, parsed.error);
  return { file, baseDir: dirname(file), config: deepFreeze(parsed.data) };
}

function schemaError(file: string, error: z.ZodError): UserInputError {
  const lines = error.issues.slice(0, 5).map((issue) => {
    const key = issue.path.length ? issue.path.join('.') : '(top level)';
    // A bad name is reported by zod as "Invalid key in record"; what is wrong with it is one level down.
    const message =
      issue.code === 'invalid_key' ? issue.issues.map((inner) => inner.message).join('; ') : issue.message;
    return `\`${key}\`: ${message}`;
  });
  const more = error.issues.length > 5 ? `\n  … and ${error.issues.length - 5} more` : '';
  return new UserInputError(
    'CONFIG_INVALID',
    `config \`${file}\` is invalid:\n  ${lines.join('\n  ')}${more}`,
  );
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
