/**
 * Structured logs: one JSON object per line on stderr, or a readable line when `pretty`.
 * Level from SLOTLINK_LOG (debug|info|warn|error|silent), default info.
 */
export const LogLevel = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 } as const;
export type LogLevel = keyof typeof LogLevel;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(options: { level?: LogLevel; pretty?: boolean; base?: Record<string, unknown>; write?: (line: string) => void } = {}): Logger {
  const envLevel = process.env.SLOTLINK_LOG as LogLevel | undefined;
  const threshold = LogLevel[options.level ?? (envLevel && envLevel in LogLevel ? envLevel : 'info')];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const base = options.base ?? {};
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LogLevel[level] < threshold) return;
    const record = { time: new Date().toISOString(), level, msg, ...base, ...fields };
    if (options.pretty) {
      const extra = Object.entries({ ...base, ...fields }).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
      write(`${record.time.slice(11, 23)} ${level.padEnd(5)} ${msg}${extra ? ' ' + extra : ''}`);
    } else {
      write(JSON.stringify(record, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message, code: (v as { code?: string }).code } : v)));
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...options, base: { ...base, ...fields } }),
  };
}
