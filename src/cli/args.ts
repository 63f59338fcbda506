/** Flag parsing shared by every command: strict (unknown flags are errors), with --help. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** The command line itself is wrong (a missing argument, a bad value): exit code 2 and a hint. */
export class UsageError extends Error {}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Options;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

export function parse(cmd: Command, argv: string[]): { values: Record<string, string | boolean | undefined>; positionals: string[] } | null {
  const options: Options = { ...cmd.options, help: { type: 'boolean', short: 'h' } };
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  if (values.help) {
    process.stdout.write(`${cmd.usage}\n`);
    return null;
  }
  return { values: values as Record<string, string | boolean | undefined>, positionals };
}

/** A flag that must be a whole number within bounds; the error names the flag. */
export function intFlag(values: Record<string, unknown>, key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = values[key];
  if (raw === undefined) return fallback;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(key, `expected a whole number in ${min}..${max}, got ${JSON.stringify(raw)}`);
  return n;
}
