import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The compiled script `name` beside the module at `moduleUrl`, for starting it as its own Node process.
 * Under vitest modules run from their .ts source, which a plain Node process cannot load, so the script
 * is taken from dist/.
 */
export function compiledEntry(moduleUrl: string, name: string): string {
  const here = fileURLToPath(moduleUrl);
  if (here.endsWith('.js')) return join(dirname(here), name);
  let root = dirname(here);
  while (!existsSync(join(root, 'package.json'))) root = dirname(root);
  return join(root, 'dist', relative(root, dirname(here)), name);
}

/** The `--state-dir` a process started by compiledEntry was given: how the CLI names its folder. */
export function stateDirArgument(argv: string[]): string {
  const flag = argv.indexOf('--state-dir');
  return resolve(flag > 0 ? (argv[flag + 1] ?? '.cutover') : '.cutover');
}
