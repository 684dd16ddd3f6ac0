import { describe, expect, it } from 'vitest';
import {
  counted,
  messagesBeforeStat,
  parseStat,
  serverRows,
  StatParseError,
} from '../../src/providers/haproxy/stat.js';
import { statAnswer, statHeader, statLine } from '../helpers/haproxy-stat.js';

/** The one `show stat` parser both the local `router: haproxy` and the hosts target read HAProxy with. */
describe('HAProxy show stat, as both targets read it', () => {
  it("GIVEN HAProxy 2.6's answer to `show stat` THEN each row's columns are found by name, the BACKEND row is not a server, and the CSV ends at its empty line", () => {
    const answer = statAnswer([
      { pxname: 'catalog', svname: '10.0.0.11-8001', scur: 3, stot: 40, hrsp_2xx: 40, uweight: 50 },
      { pxname: 'catalog', svname: '10.0.0.11-8002', scur: 0, stot: 0, uweight: 0, status: 'MAINT' },
      { pxname: 'catalog', svname: 'BACKEND', scur: 3, stot: 40 },
      { pxname: 'other', svname: 'x', scur: 9 },
    ]);
    const rows = parseStat(`${answer}trailing text after the table\n`);
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatchObject({ pxname: 'catalog', svname: '10.0.0.11-8001', scur: '3', uweight: '50' });
    expect(rows[1]?.status).toBe('MAINT');
    expect(serverRows(rows, 'catalog').map((r) => r.svname)).toEqual(['10.0.0.11-8001', '10.0.0.11-8002']);
  });

  it('GIVEN a batch whose answer ends with show stat THEN the table is the last one, and what HAProxy said before it is kept apart', () => {
    const answer = `New server registered.\n\n${statAnswer([{ pxname: 'fleets', svname: 'a', uweight: 1 }])}`;
    expect(parseStat(answer).map((r) => r.svname)).toEqual(['a']);
    expect(messagesBeforeStat(answer)).toEqual(['New server registered.']);
    // A table alone, header on the first line.
    expect(parseStat(`${statHeader}\n${statLine({ pxname: 'fleets', svname: 'b' })}\n\n`)[0]?.svname).toBe(
      'b',
    );
  });

  it('GIVEN an answer without the table (a refusal) THEN it is an error quoting the answer, not an empty table', () => {
    expect(() => parseStat('Permission denied\n\n')).toThrow(StatParseError);
    expect(() => parseStat('Permission denied\n\n')).toThrow(/Permission denied/);
  });

  it("GIVEN a server's counters THEN requests count every answer and every failure HAProxy wrote itself, errors the 5xx and those failures, and a cut-off answer once", () => {
    const [row] = parseStat(
      statAnswer([
        {
          pxname: 'catalog',
          svname: 'a',
          hrsp_2xx: 90,
          hrsp_4xx: 3,
          hrsp_5xx: 5,
          econ: 1, // refused: HAProxy's own 503
          eresp: 2, // one lost response, one cut off after its 200 went out
          srv_abrt: 1,
        },
      ]),
    );
    // 98 answers + 3 failures - 1 counted both as a 2xx and in eresp.
    expect(counted(row ?? {})).toEqual({ requests: 100, errors: 8 });
    // Empty columns (a server HAProxy never sent to) count as zero.
    expect(counted({ pxname: 'catalog', svname: 'b' })).toEqual({ requests: 0, errors: 0 });
  });
});
