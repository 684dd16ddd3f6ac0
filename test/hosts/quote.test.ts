import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../src/errors.js';
import { commandLine, shellQuote } from '../../src/providers/hosts/quote.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Runs command lines in one local shell, as sshd has the login shell run a command; returns each line's
 * NUL-separated output. One shell for all the samples keeps the test fast on a loaded machine.
 */
function parsedBy(shell: string, lines: string[]): string[][] {
  const end = '--end-of-sample--';
  const script = lines.map((line) => `${line}; printf '%s\\0' ${end}`).join('\n');
  // In a folder of its own: were the quoting broken, a `>` in a sample would create files where it runs.
  const scratch = tempDir('cutover-quote-');
  const result = spawnSync(shell, ['-c', script], { encoding: 'utf8', cwd: scratch.path });
  scratch.remove();
  if (result.status !== 0) throw new Error(`${shell} failed (${result.status}): ${result.stderr}`);
  const samples: string[][] = [[]];
  for (const word of result.stdout.split('\0').slice(0, -1)) {
    if (word === end) samples.push([]);
    else samples.at(-1)?.push(word);
  }
  return samples.slice(0, -1);
}

const tricky = fc.constantFrom(
  "'",
  '"',
  '\\',
  '$(id)',
  '`id`',
  ';',
  '&&',
  '|',
  '>',
  '<',
  '\n',
  '\r',
  '\t',
  ' ',
  '*',
  '?',
  '~',
  '$HOME',
  '${PATH}',
  '!',
  '#',
  '=',
  '-e',
  "'\\''",
  'é',
  '🙂',
);
const argument = fc
  .oneof(
    fc.string({ unit: 'binary-ascii' }),
    fc.string({ unit: 'grapheme' }),
    fc.array(tricky, { maxLength: 6 }).map((parts) => parts.join('')),
  )
  .filter((s) => !s.includes('\0'));

describe('shellQuote', () => {
  it('single-quotes every argument, writing a single quote as a quote outside the quotes', () => {
    expect(shellQuote('plain')).toBe("'plain'");
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('$(id) `id` "x"\n')).toBe('\'$(id) `id` "x"\n\'');
  });

  it('refuses a NUL, which no argument can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(UserInputError);
  });
});

describe('commandLine', () => {
  for (const shell of ['sh', 'bash']) {
    it(`gives ${shell} back exactly the arguments it was given, whatever they hold`, () => {
      const samples = fc.sample(fc.array(argument, { minLength: 1, maxLength: 5 }), 300);
      const parsed = parsedBy(
        shell,
        samples.map((args) => commandLine(['printf', '%s\\0', ...args])),
      );
      expect(parsed).toHaveLength(samples.length);
      samples.forEach((args, index) => expect(parsed[index], JSON.stringify(args)).toEqual(args));
    });
  }

  it('quotes even the program, so that a word like A=b cannot become an assignment', () => {
    expect(commandLine(['A=b', 'x'])).toBe("'A=b' 'x'");
    expect(spawnSync('sh', ['-c', commandLine(['A=b'])]).status).toBe(127); // run as a command: not found
  });

  it('refuses an empty argv or program', () => {
    expect(() => commandLine([])).toThrow(UserInputError);
    expect(() => commandLine([''])).toThrow(UserInputError);
  });
});
