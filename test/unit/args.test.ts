import { describe, expect, it } from 'vitest';
import { parseArgs, splitCommand, type CommandSpec } from '../../src/cli/args.js';
import { UserInputError } from '../../src/errors.js';

const deploySpec: CommandSpec = {
  words: ['artifact', 'environment', 'version'],
  required: ['artifact', 'environment', 'version'],
  flags: ['keep-failed'],
  options: [],
};

function parse(argv: string[]) {
  const { command, rest } = splitCommand(argv);
  return parseArgs(command, rest, deploySpec);
}

describe('arguments', () => {
  it('reads key=value words and the command wherever flags stand', () => {
    const args = parse(['--json', 'deploy', 'artifact=catalog', 'environment=prod', 'version=ami-0abc123']);
    expect(args.command).toBe('deploy');
    expect(args.words).toEqual({ artifact: 'catalog', environment: 'prod', version: 'ami-0abc123' });
    expect(args.flags.has('json')).toBe(true);
  });

  it('takes the value of a global option before the command for that value, not for the command', () => {
    const args = parse([
      '--config',
      'cutover.prod.yaml',
      '--state-dir',
      '/var/lib/cutover',
      'deploy',
      'artifact=a',
      'environment=e',
      'version=v1',
    ]);
    expect(args.command).toBe('deploy');
    expect(args.options).toEqual({ config: 'cutover.prod.yaml', 'state-dir': '/var/lib/cutover' });
  });

  it('accepts --key value and --key=value as well as key=value', () => {
    const args = parse([
      'deploy',
      '--artifact',
      'catalog',
      '--environment=local',
      'version=v1',
      '--config',
      'x.yaml',
    ]);
    expect(args.words).toEqual({ artifact: 'catalog', environment: 'local', version: 'v1' });
    expect(args.options.config).toBe('x.yaml');
  });

  it.each([
    [['deploy', 'artifact=catalog', 'environment=local', 'version=v1', 'region=eu'], 'ARG_UNKNOWN'],
    [['deploy', 'artifact=catalog', 'environment=local', 'version=v1', '--force'], 'ARG_UNKNOWN'],
    [['deploy', 'artifact=catalog', 'environment=local'], 'ARG_MISSING'],
    [['deploy', 'artifact=catalog', 'environment=local', 'version='], 'ARG_MISSING'],
    [['deploy', 'artifact=a', 'artifact=b', 'environment=local', 'version=v1'], 'ARG_REPEATED'],
    [['deploy', 'artifact=catalog', 'environment=local', 'version=v1', 'stray'], 'ARG_UNKNOWN'],
    [['deploy', 'artifact=catalog', 'environment=local', 'version=v1', '--config'], 'ARG_MISSING_VALUE'],
    [['deploy', 'artifact=catalog', 'environment=local', 'version=v1', '--json=yes'], 'ARG_FLAG_VALUE'],
  ])('rejects %j with %s', (argv, code) => {
    expect(() => parse(argv)).toThrowError(expect.objectContaining({ code }));
    expect(() => parse(argv)).toThrowError(UserInputError);
  });

  it('lets --help through without the required words', () => {
    expect(parse(['deploy', '--help']).flags.has('help')).toBe(true);
  });
});
