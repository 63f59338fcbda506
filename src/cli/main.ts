#!/usr/bin/env node
/** The `slotlink` command line. */
import { SlotlinkError } from '../errors.js';
import { packageVersion } from '../util/package-version.js';
import { UsageError, parse, type Command } from './args.js';
import { benchCommand } from './bench-command.js';
import { demoCommand } from './demo-command.js';
import { listenCommand, publishCommand, requestCommand, sendCommand, subscribeCommand } from './messaging-commands.js';
import { proxyCommand } from './proxy-command.js';
import { statusCommand } from './status-command.js';
import { topCommand } from './top-command.js';

const commands: Command[] = [proxyCommand, demoCommand, statusCommand, topCommand, sendCommand, requestCommand, listenCommand, publishCommand, subscribeCommand, benchCommand];

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Usage: slotlink <command> [options]\n       slotlink --version\n\nCommands:\n${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}\n\nRun \`slotlink <command> --help\` for a command's options.`;
}

/** One line for the user: what went wrong, with the error's code when it has one. */
function describe(err: unknown): string {
  if (err instanceof SlotlinkError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`slotlink ${packageVersion()}\n`);
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`slotlink: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = parse(cmd, rest);
  } catch (err) {
    process.stderr.write(`slotlink ${name}: ${(err as Error).message}\nRun \`slotlink ${name} --help\` for usage.\n`);
    return 2;
  }
  if (!parsed) return 0;
  try {
    return await cmd.run(parsed.values, parsed.positionals);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`slotlink ${name}: ${err.message}\nRun \`slotlink ${name} --help\` for usage.\n`);
    return 2;
  }
}

/** Once a command is done, nothing it left behind (a socket, a timer) may keep the process alive for long. */
const LINGER_MS = 2000;

function exit(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), LINGER_MS).unref();
}

main(process.argv.slice(2)).then(exit, (err: unknown) => {
  process.stderr.write(`slotlink: ${describe(err)}\n`);
  if (process.env.SLOTLINK_LOG === 'debug' && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  exit(1);
});
