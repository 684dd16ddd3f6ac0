import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { killGroupCommandLine, LeaderLine, leaderCommandLine } from '../../src/providers/hosts/command.js';

describe('leaderCommandLine', () => {
  it('prints the shell pid on a tagged line, then execs the command with its arguments as they are', () => {
    const result = spawnSync(
      'sh',
      ['-c', leaderCommandLine(['sh', '-c', 'echo "$$ $1"; exit 7', 'x', "a'b c"], 'tag1')],
      {
        encoding: 'utf8',
      },
    );
    const [leader, own] = result.stdout.split('\n');
    expect(leader).toMatch(/^tag1:\d+$/);
    // exec: the command runs as the leader itself, and its exit status is the command line's.
    expect(own).toBe(`${leader?.split(':')[1]} a'b c`);
    expect(result.status).toBe(7);
  });

  it('refuses a process group that is not a plain number above 1', () => {
    expect(killGroupCommandLine(1234)).toBe('kill -s KILL -- -1234');
    expect(() => killGroupCommandLine(1)).toThrow();
    expect(() => killGroupCommandLine(Number.NaN)).toThrow();
  });
});

describe('LeaderLine', () => {
  it('takes the leader line out of stdout, even split across chunks, and passes the rest through', () => {
    const leader = new LeaderLine('cutover-ab12');
    const out = ['cutover-a', 'b12:4', '321\nfirst line\n', 'second\n'].map((chunk) =>
      leader.push(Buffer.from(chunk)).toString(),
    );
    expect(out.join('')).toBe('first line\nsecond\n');
    expect(leader.group).toBe(4321);
  });

  it('keeps what a login shell printed before the line as output', () => {
    const leader = new LeaderLine('t');
    expect(leader.push(Buffer.from('motd says hi\nt:99\nout')).toString()).toBe('motd says hi\nout');
    expect(leader.group).toBe(99);
    expect(leader.push(Buffer.from('t:5\n')).toString()).toBe('t:5\n'); // only the first one is ours
  });

  it('gives up on a stdout without the line, losing nothing', () => {
    const leader = new LeaderLine('t');
    expect(leader.push(Buffer.from('no newline yet')).toString()).toBe('');
    expect(leader.end().toString()).toBe('no newline yet');
    const long = new LeaderLine('t');
    const big = Buffer.alloc(70_000, 'x');
    expect(long.push(big).length).toBe(70_000);
    expect(long.group).toBeUndefined();
  });
});
