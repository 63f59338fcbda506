/** `slotlink send | request | listen`: talk to the mesh from a shell. */
import { parseAddress } from '../slot/address.js';
import { connect } from '../client/connect.js';
import { UsageError, intFlag, type Command } from './args.js';

const common = {
  socket: { type: 'string' },
  name: { type: 'string' },
} as const;

function shellName(prefix: string): string {
  return `${prefix}-${process.pid}`;
}

export const sendCommand: Command = {
  name: 'send',
  summary: 'send one message: slotlink send <to> <text>',
  usage: `Usage: slotlink send <to> <text> [--socket PATH] [--name NAME]

Registers with the local proxy, sends <text> to <to> ("name" or "name@node"), and exits
once the proxy has taken it. Reports an error if the destination is unknown.`,
  options: common,
  async run(v, args) {
    if (args.length !== 2) throw new UsageError('send needs exactly two arguments: <to> <text>');
    const [to, text] = args as [string, string];
    parseAddress(to); // a bad address is the user's error: said before registering anything
    const ep = await connect({ name: String(v.name ?? shellName('send')), socket: v.socket as string | undefined });
    let failed = false;
    ep.on('undeliverable', (u) => {
      failed = true;
      process.stderr.write(`slotlink send: ${u.error.message} (${u.error.code})\n`);
    });
    try {
      await ep.send(to, text);
      // A round trip to ourselves shows the proxy has routed everything we sent before it.
      ep.respond(() => '');
      await ep.request(ep.address, '', { timeout: 10_000 });
    } finally {
      await ep.close();
    }
    return failed ? 1 : 0;
  },
};

export const requestCommand: Command = {
  name: 'request',
  summary: 'send a request and print the reply: slotlink request <to> <text>',
  usage: `Usage: slotlink request <to> <text> [--timeout MS] [--socket PATH] [--name NAME]

Sends <text> as a request to <to> and prints the reply on stdout.`,
  options: { ...common, timeout: { type: 'string' } },
  async run(v, args) {
    if (args.length !== 2) throw new UsageError('request needs exactly two arguments: <to> <text>');
    const [to, text] = args as [string, string];
    parseAddress(to);
    const timeout = intFlag(v, 'timeout', 5000, 1);
    const ep = await connect({ name: String(v.name ?? shellName('request')), socket: v.socket as string | undefined });
    try {
      const reply = await ep.request(to, text, { timeout });
      process.stdout.write(reply.toString('utf8') + '\n');
    } finally {
      await ep.close();
    }
    return 0;
  },
};

export const listenCommand: Command = {
  name: 'listen',
  summary: 'register a name and print what arrives: slotlink listen --name NAME',
  usage: `Usage: slotlink listen --name NAME [--group] [--count N] [--reply TEXT] [--socket PATH]

Registers NAME and prints each message as a line: <from> <text>. Requests are answered
with TEXT (default: the request's own text). Exits after N messages when --count is given.`,
  options: { ...common, group: { type: 'boolean' }, count: { type: 'string' }, reply: { type: 'string' } },
  async run(v) {
    if (!v.name) throw new UsageError('listen needs --name NAME');
    const count = intFlag(v, 'count', 0, 0);
    const ep = await connect({ name: String(v.name), group: v.group === true, socket: v.socket as string | undefined });
    let seen = 0;
    const stop = () => void ep.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.stderr.write(`listening as ${ep.address}\n`);
    for await (const m of ep) {
      process.stdout.write(`${m.from} ${m.text()}\n`);
      if (m.isRequest) await m.reply(v.reply !== undefined ? String(v.reply) : m.data);
      if (count > 0 && ++seen >= count) break;
    }
    await ep.close();
    return 0;
  },
};
