import type { Clock } from '../src/clock.js';
import { systemClock } from '../src/clock.js';
import type { AlarmReading, Alarms } from '../src/providers/types.js';
import type { Judgement, ShiftCheck } from './shift-types.js';

/** CloudWatch's state reasons run long (every datapoint); a reading needs the gist. */
const reasonLimit = 200;

/**
 * Any alarm in ALARM fails, naming it; one that cannot be read fails too unless `ignoreReadErrors`
 * (a check that cannot run counts as failed). INSUFFICIENT_DATA passes, as CodeDeploy counts it: an
 * alarm on a metric a canary at 10% barely feeds would otherwise stop every deploy.
 */
export function assessAlarms(readings: readonly AlarmReading[], ignoreReadErrors: boolean): Judgement {
  const alarming = readings.filter((r) => 'state' in r && r.state === 'ALARM');
  if (alarming.length > 0) {
    const [first] = alarming;
    const reason = first && 'state' in first && first.reason ? `: ${clip(first.reason)}` : '';
    const names = alarming.map((r) => `\`${r.name}\``).join(', ');
    return {
      outcome: 'fail',
      detail: `alarm${alarming.length > 1 ? 's' : ''} ${names} in ALARM${reason}`,
      value: alarming.length,
      threshold: 0,
    };
  }
  const unreadable = readings.filter((r) => 'unreadable' in r);
  if (unreadable.length > 0 && !ignoreReadErrors) {
    const words = unreadable.map((r) => `\`${r.name}\` (${'unreadable' in r ? clip(r.unreadable) : ''})`);
    return {
      outcome: 'fail',
      detail: `cannot read alarm${unreadable.length > 1 ? 's' : ''} ${words.join(', ')}; set ignoreAlarmReadErrors: true to let unreadable alarms pass`,
    };
  }
  const states = readings.map((r) => `${r.name} ${'state' in r ? r.state : 'unreadable (ignored)'}`);
  return { outcome: 'pass', detail: `no alarm in ALARM: ${states.join(', ')}`, value: 0, threshold: 0 };
}

export interface AlarmsCheckOptions {
  alarms: Alarms;
  names: string[];
  ignoreReadErrors: boolean;
  interval: number;
  clock?: Clock;
}

export function alarmsCheck(options: AlarmsCheckOptions): ShiftCheck {
  const clock = options.clock ?? systemClock;
  return {
    name: 'alarms',
    interval: options.interval,
    async read() {
      const answered = await options.alarms.read(options.names);
      // One reading per name asked, whatever came back: a name missing from the answer was not read.
      const readings = options.names.map(
        (name): AlarmReading =>
          answered.find((r) => r.name === name) ?? { name, unreadable: 'no reading returned for it' },
      );
      return { check: 'alarms', ...assessAlarms(readings, options.ignoreReadErrors), at: clock.now() };
    },
  };
}

function clip(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > reasonLimit ? `${line.slice(0, reasonLimit - 1)}…` : line;
}
