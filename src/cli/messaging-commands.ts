/** `slotlink send | request | listen | publish | subscribe`: talk to the mesh from a shell. */
import { parseAddress } from '../slot/address.js';
import { checkPattern, checkSubject } from '../slot/subject.js';
import { connect } from '../client/connect.js';
import type { Endpoint } from '../client/endpoint.js';
import { UsageError, intFlag, type Command } from './args.js';

const common = {
  socket: { type: 'string' },
  name: { type: 'string' },
} as const;

function shellName(prefix: string): string {
  return `${prefix}-${process.pid}`;
}

/** Registers as --name (default `<prefix>-<pid>`) with the proxy at --socket, runs `use`, and closes the endpoint. */
async function withEndpoint<T>(v: Record<string, string | boolean | undefined>, prefix: string, use: (ep: Endpoint) => Promise<T>): Promise<T> {
  const ep = await connect({ name: String(v.name ?? shellName(prefix)), socket: v.socket as string | undefined });
  try {
    return await use(ep);
  } finally {
    await ep.close();
  }
}

/**
 * Resolves once the proxy has routed everything this endpoint wrote before: it reads a slot
 * in order, so the answer to a request to ourselves comes after all of it.
 */
async function routed(ep: Endpoint): Promise<void> {
  ep.respond(() => '');
  await ep.request(ep.address, '', { timeout: 10_000 });
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
    return withEndpoint(v, 'send', async (ep) => {
      let failed = false;
      ep.on('undeliverable', (u) => {
        failed = true;
        process.stderr.write(`slotlink send: ${u.error.message} (${u.error.code})\n`);
      });
      await ep.send(to, text);
      await routed(ep);
      return failed ? 1 : 0;
    });
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
    return withEndpoint(v, 'request', async (ep) => {
      const reply = await ep.request(to, text, { timeout });
      process.stdout.write(reply.toString('utf8') + '\n');
      return 0;
    });
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

export const publishCommand: Command = {
  name: 'publish',
  summary: 'publish one message to a subject: slotlink publish <subject> <text>',
  usage: `Usage: slotlink publish <subject> <text> [--count N] [--socket PATH] [--name NAME]

Registers with the local proxy, publishes <text> to <subject> (tokens separated by dots,
like "prices.eu.fr"; no wildcards) N times (default 1), and exits once the proxy has routed
it: to every subscription that matches, on this host and on its peers. Nobody subscribed is
not an error.`,
  options: { ...common, count: { type: 'string' } },
  async run(v, args) {
    if (args.length !== 2) throw new UsageError('publish needs exactly two arguments: <subject> <text>');
    const [subject, text] = args as [string, string];
    checkSubject(subject); // a bad subject is the user's error: said before registering anything
    const count = intFlag(v, 'count', 1, 1);
    return withEndpoint(v, 'publish', async (ep) => {
      for (let i = 0; i < count; i++) await ep.publish(subject, text);
      await routed(ep);
      return 0;
    });
  },
};

export const subscribeCommand: Command = {
  name: 'subscribe',
  summary: 'print what is published to a subject: slotlink subscribe <subject>',
  usage: `Usage: slotlink subscribe <subject> [--json] [--count N] [--socket PATH] [--name NAME]

Subscribes to <subject>, where "*" matches one token and a last ">" the rest ("prices.>"),
and prints each publication as it arrives, one line each: <subject> <text>; with --json, a
JSON object per line: {"subject": ..., "data": ...} (data as UTF-8 text). Says on stderr
once the subscription is in effect. Exits after N publications when --count is given, and
on Ctrl-C or SIGTERM.`,
  options: { ...common, json: { type: 'boolean' }, count: { type: 'string' } },
  async run(v, args) {
    if (args.length !== 1) throw new UsageError('subscribe needs exactly one argument: <subject>');
    const [pattern] = args as [string];
    checkPattern(pattern);
    const count = intFlag(v, 'count', 0, 0);
    const json = v.json === true;
    return withEndpoint(v, 'subscribe', async (ep) => {
      const sub = ep.subscribe(pattern);
      let stopped = false;
      const stop = () => {
        stopped = true;
        sub.unsubscribe();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        try {
          await sub.ready;
        } catch (err) {
          if (stopped) return 0; // stopped before the proxy confirmed it
          throw err;
        }
        process.stderr.write(`subscribed to ${pattern} as ${ep.address}\n`);
        let seen = 0;
        for await (const m of sub) {
          process.stdout.write(json ? JSON.stringify({ subject: m.subject, data: m.text() }) + '\n' : `${m.subject} ${m.text()}\n`);
          if (count > 0 && ++seen >= count) break;
        }
        // Ended without being asked to (by a signal or --count): the proxy went away, and says why.
        const why = await sub.closed;
        if (why && !stopped) throw why;
        return 0;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
  },
};
