import { UserInputError } from '../../errors.js';

/**
 * SSH carries one command string, which the remote user's login shell parses. To pass an argv through
 * it unchanged, each argument is single-quoted: inside single quotes a POSIX shell (sh, dash, bash, ksh,
 * zsh) treats every character literally, newlines included, and the only character that needs care is
 * the single quote itself, written as `'\''` (end the quotes, an escaped quote, quote again). Every
 * argument is quoted, even a plain word, so that none can turn into an assignment, a glob, a keyword or
 * a redirection. Login shells that are not POSIX (csh, fish) would parse it differently: the hosts
 * target needs a POSIX login shell for its SSH user.
 */
export function shellQuote(argument: string): string {
  if (argument.includes('\0')) {
    // No process can receive a NUL inside an argument; a shell would cut the string there.
    throw new UserInputError(
      'ARGUMENT_INVALID',
      'a command argument holds a NUL character, which no remote command can receive',
      'remove the NUL from the argument',
    );
  }
  return `'${argument.replaceAll("'", `'\\''`)}'`;
}

/** The command line that runs `argv` as it is: each argument quoted with `shellQuote`, joined by spaces. */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0 || argv[0] === '') {
    throw new UserInputError('ARGUMENT_INVALID', 'a remote command needs a program to run: `argv` is empty');
  }
  return argv.map(shellQuote).join(' ');
}
