import { UserInputError } from '../errors.js';

/** What one command accepts: its `key=value` words (also accepted as `--key value`) and its boolean flags. */
export interface CommandSpec {
  words: readonly string[];
  required: readonly string[];
  flags: readonly string[];
  /** Flags that take a value, such as `--config FILE`. */
  options: readonly string[];
}

export interface ParsedArgs {
  command: string | undefined;
  words: Record<string, string>;
  flags: Set<string>;
  options: Record<string, string>;
}

const globalFlags = ['help', 'json'];
const globalOptions = ['config', 'state-dir'];

/** Splits argv into the command name and the rest, so the rest can be checked against that command's spec. */
export function splitCommand(argv: readonly string[]): { command: string | undefined; rest: string[] } {
  // `--config FILE deploy …`: FILE is the option's value, not the command.
  const index = argv.findIndex(
    (arg, i) =>
      !arg.startsWith('-') && !arg.includes('=') && !globalOptions.includes(argv[i - 1]?.slice(2) ?? ''),
  );
  if (index === -1) return { command: undefined, rest: [...argv] };
  return { command: argv[index], rest: [...argv.slice(0, index), ...argv.slice(index + 1)] };
}

export function parseArgs(
  command: string | undefined,
  rest: readonly string[],
  spec: CommandSpec,
): ParsedArgs {
  const words: Record<string, string> = {};
  const flags = new Set<string>();
  const options: Record<string, string> = {};
  const knownFlags = new Set([...globalFlags, ...spec.flags]);
  const knownOptions = new Set([...globalOptions, ...spec.options]);
  const knownWords = new Set(spec.words);
  const label = command ? `cutover ${command}` : 'cutover';

  const setWord = (key: string, value: string, raw: string) => {
    if (!knownWords.has(key)) {
      const accepted = spec.words.length ? `it accepts ${spec.words.map((w) => `${w}=`).join(', ')}` : '';
      throw new UserInputError('ARG_UNKNOWN', `unknown argument \`${raw}\` for \`${label}\``, accepted);
    }
    if (key in words) throw new UserInputError('ARG_REPEATED', `\`${key}\` is given twice`);
    words[key] = value;
  };

  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      const inline = eq === -1 ? undefined : arg.slice(eq + 1);
      if (knownFlags.has(name)) {
        if (inline !== undefined) throw new UserInputError('ARG_FLAG_VALUE', `\`--${name}\` takes no value`);
        flags.add(name);
        continue;
      }
      const isOption = knownOptions.has(name);
      if (!isOption && !knownWords.has(name)) {
        throw new UserInputError(
          'ARG_UNKNOWN',
          `unknown flag \`--${name}\` for \`${label}\``,
          `see \`${label} --help\``,
        );
      }
      const value = inline ?? rest[++i];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) {
        throw new UserInputError('ARG_MISSING_VALUE', `\`--${name}\` needs a value`);
      }
      if (isOption) options[name] = value;
      else setWord(name, value, arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      throw new UserInputError(
        'ARG_UNKNOWN',
        `unexpected argument \`${arg}\` for \`${label}\``,
        `see \`${label} --help\``,
      );
    }
    setWord(arg.slice(0, eq), arg.slice(eq + 1), arg);
  }

  if (!flags.has('help')) {
    for (const key of spec.required) {
      if (words[key] === undefined || words[key] === '') {
        throw new UserInputError(
          'ARG_MISSING',
          `\`${label}\` needs \`${key}=…\``,
          `for example: ${label} ${spec.required.map((k) => `${k}=…`).join(' ')}`,
        );
      }
    }
  }
  return { command, words, flags, options };
}
