import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadStore, previousCopy, writeStore, type StoredState } from '../../src/providers/local/store.js';
import { tempDir } from '../helpers/tmp.js';

let dir: ReturnType<typeof tempDir>;
let file: string;
beforeEach(() => {
  dir = tempDir();
  file = join(dir.path, 'agent', 'state.json');
});
afterEach(() => dir.remove());

const stateWith = (listen: string): StoredState => ({
  services: [{ environment: 'local', artifact: 'catalog', listen, weights: {}, fleets: [] }],
});

describe("the agent's state file", () => {
  it('GIVEN two writes THEN the file holds the second and the previous copy the first, with no temporary file left', () => {
    writeStore(file, stateWith('127.0.0.1:1'));
    writeStore(file, stateWith('127.0.0.1:2'));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(stateWith('127.0.0.1:2'));
    expect(JSON.parse(readFileSync(previousCopy(file), 'utf8'))).toEqual(stateWith('127.0.0.1:1'));
    expect(readdirSync(join(dir.path, 'agent')).sort()).toEqual(['state.json', 'state.json.prev']);
  });

  it('GIVEN a corrupt state file WHEN read THEN the previous copy is used and the problem named', () => {
    writeStore(file, stateWith('127.0.0.1:1'));
    writeStore(file, stateWith('127.0.0.1:2'));
    writeFileSync(file, '{"services": [{"environ');
    const loaded = loadStore(file);
    expect(loaded.state).toEqual(stateWith('127.0.0.1:1'));
    expect(loaded.problem).toMatch(/state\.json` cannot be used .*; used the previous copy/);
    expect(loaded.lost).toBe(false);
  });

  it('GIVEN a corrupt state file WHEN the next write comes THEN the good previous copy is not replaced by it', () => {
    writeStore(file, stateWith('127.0.0.1:1'));
    writeStore(file, stateWith('127.0.0.1:2'));
    writeFileSync(file, 'garbage');
    writeStore(file, stateWith('127.0.0.1:3'));
    expect(JSON.parse(readFileSync(previousCopy(file), 'utf8'))).toEqual(stateWith('127.0.0.1:1'));
    expect(loadStore(file)).toEqual({ state: stateWith('127.0.0.1:3'), problem: undefined, lost: false });
  });

  it('GIVEN the state file and its previous copy are both unreadable WHEN read THEN it is empty and says why, without throwing', () => {
    writeStore(file, stateWith('127.0.0.1:1'));
    writeStore(file, stateWith('127.0.0.1:2'));
    writeFileSync(file, '');
    writeFileSync(previousCopy(file), '{"services": 3}');
    const loaded = loadStore(file);
    expect(loaded.state).toEqual({ services: [] });
    expect(loaded.lost).toBe(true);
    expect(loaded.problem).toMatch(
      /cannot be used .* and the previous copy cannot be used either \(no services list\)/,
    );
  });

  it('GIVEN no state file at all THEN it is empty and nothing is wrong', () => {
    expect(loadStore(file)).toEqual({ state: { services: [] }, problem: undefined, lost: false });
    expect(existsSync(file)).toBe(false);
  });
});
