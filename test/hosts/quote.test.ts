import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../src/errors.js';
import { commandLine, shellQuote } from '../../src/providers/hosts/quote.js';

/** Runs a command line in a local shell, as sshd has the login shell run it; returns the NUL-separated argv. */
function parsedBy(shell: string, line: string): string[] {
  const result = spawnSync(shell, ['-c', line], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${shell} failed (${result.status}): ${result.stderr}`);
  return result.stdout.split('\0').slice(0, -1);
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
      fc.assert(
        fc.property(fc.array(argument, { maxLength: 5 }), (args) => {
          expect(parsedBy(shell, commandLine(['printf', '%s\\0', ...args]))).toEqual(
            args.length ? args : [''],
          );
        }),
        { numRuns: 60 },
      );
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
