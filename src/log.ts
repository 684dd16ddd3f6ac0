import winston from 'winston';
import type { CutoverEvent, Listener } from './events.js';

export type LogFormat = 'human' | 'json';

/** Human lines on a terminal, JSON lines in CI, with `--json`, or when stderr is not a terminal. */
export function chooseFormat(json: boolean, stream: NodeJS.WriteStream = process.stderr): LogFormat {
  return json || !stream.isTTY || process.env.CI === 'true' ? 'json' : 'human';
}

const marks: Record<string, string> = { error: '✖', warn: '!', info: '·', debug: ' ' };

/**
 * Logs go to stderr so that stdout carries only a command's result (`status --json`).
 * Returns the listener to subscribe to deployment events.
 */
export function createLogger(
  format: LogFormat,
  level = process.env.CUTOVER_LOG_LEVEL ?? 'info',
): winston.Logger {
  const human = winston.format.printf((info) => {
    const time = new Date(info.timestamp as string).toTimeString().slice(0, 8);
    const hint = info.hint ? `\n         next: ${String(info.hint)}` : '';
    return `${time} ${marks[info.level] ?? ' '} ${String(info.message)}${hint}`;
  });
  return winston.createLogger({
    level,
    format: winston.format.combine(
      winston.format.timestamp(),
      format === 'json' ? winston.format.json() : human,
    ),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}

export function logListener(logger: winston.Logger): Listener {
  return (event: CutoverEvent) => {
    // A command's failure is logged under its error's code (CONFIG_INVALID, LOCK_HELD, …): that is what
    // pipelines match on, and the last line of every failed command has always carried it.
    const code = event.code === 'command.failed' ? String(event.fields.error) : event.code;
    // Fixed fields last, so no event detail can overwrite the event's code or level.
    logger.log({ ...event.fields, level: event.level, message: event.message, code });
  };
}
