#!/usr/bin/env node
/** The `slotlink` command line. */
import { SlotlinkError } from '../errors.js';
import { parse, type Command } from './args.js';
import { benchCommand } from './bench-command.js';
import { demoCommand } from './demo-command.js';
import { listenCommand, requestCommand, sendCommand } from './messaging-commands.js';
import { proxyCommand } from './proxy-command.js';
import { statusCommand } from './status-command.js';
import { topCommand } from './top-command.js';

const commands: Command[] = [proxyCommand, demoCommand, statusCommand, topCommand, sendCommand, requestCommand, listenCommand, benchCommand];

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Usage: slotlink <command> [options]\n\nCommands:\n${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}\n\nRun \`slotlink <command> --help\` for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
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
  return cmd.run(parsed.values, parsed.positionals);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as Error;
    process.stderr.write(`slotlink: ${e instanceof SlotlinkError ? `${e.message} (${e.code})` : e.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
