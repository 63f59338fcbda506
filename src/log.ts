/**
 * Structured logs in the shape log pipelines expect of Node services (pino's): one JSON
 * object per line on stderr with a numeric `level`, `time` (ms since the epoch), the proxy's
 * own `pid` and `hostname`, the logger's `name`, and `msg`; fields about a process that
 * registered are `clientPid`, `clientName`; an error goes under `err` with its stack. Fields
 * never overwrite those core ones. `pretty` prints a readable line instead.
 */
import os from 'node:os';

/** pino's numbers. */
export const LogLevel = { debug: 20, info: 30, warn: 40, error: 50, silent: Infinity } as const;
export type LogLevel = keyof typeof LogLevel;

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && v in LogLevel;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** Changes the threshold of this logger and every child of it (a reload). */
  setLevel(level: LogLevel): void;
  /** The threshold in force. */
  readonly level: LogLevel;
}

export interface LoggerOptions {
  /** Default: $SLOTLINK_LOG if it names a level, else info. */
  level?: LogLevel;
  pretty?: boolean;
  /** Fields on every line. */
  base?: Record<string, unknown>;
  write?: (line: string) => void;
  /** The logger's name (pino's `name`). Default "slotlink". */
  name?: string;
}

const CORE = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

/** An error as log pipelines read it: type, message, code, stack, and its cause. */
function serializeError(e: Error, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = { type: e.name, message: e.message, stack: e.stack };
  const code = (e as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (e.cause instanceof Error && depth < 3) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

/** $SLOTLINK_LOG if it names a level, else info. */
export function defaultLogLevel(): LogLevel {
  const env = process.env.SLOTLINK_LOG;
  return isLogLevel(env) ? env : 'info';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const state = { threshold: LogLevel[options.level ?? defaultLogLevel()] as number };
  return makeLogger(options, state, options.base ?? {});
}

function makeLogger(options: LoggerOptions, state: { threshold: number }, base: Record<string, unknown>): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const core = { pid: process.pid, hostname: os.hostname(), name: options.name ?? 'slotlink' };
  const emit = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (LogLevel[level] < state.threshold) return;
    const record: Record<string, unknown> = { level: LogLevel[level], time: Date.now(), ...core, msg };
    for (const source of [base, fields ?? {}]) {
      for (const [k, v] of Object.entries(source)) {
        if (CORE.has(k)) continue; // the core fields say what they always say
        record[k === 'error' ? 'err' : k] = v instanceof Error ? serializeError(v) : v;
      }
    }
    if (options.pretty) {
      const extra = Object.entries(record)
        .filter(([k]) => !CORE.has(k))
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      write(`${new Date(record.time as number).toISOString().slice(11, 23)} ${level.padEnd(5)} ${msg}${extra ? ' ' + extra : ''}`);
    } else {
      write(JSON.stringify(record));
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => makeLogger(options, state, { ...base, ...fields }),
    setLevel: (level) => void (state.threshold = LogLevel[level]),
    get level() {
      return (Object.keys(LogLevel) as LogLevel[]).find((l) => LogLevel[l] === state.threshold)!;
    },
  };
}
