/**
 * `slotlink top`: a live view of the proxy's slots, links and request round trips with
 * rates, refreshed in place; on a terminal, keys change the sort (see top-view.ts).
 */
import { requestStatus } from '../client/registration.js';
import { defaultSocketPath } from '../contract/defaults.js';
import type { ProxyStats } from '../proxy/stats.js';
import { UsageError, intFlag, type Command } from './args.js';
import { DEFAULT_SORT, SORTABLE_COLUMNS, findColumn, renderTop, type TopSort } from './top-view.js';

/** `text` broken at spaces into lines of at most `width` characters. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

/** Keys read from a terminal: raw mode while top runs, restored when it ends. */
function readKeys(onKey: (key: string) => void): () => void {
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => {};
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  const listener = (d: string) => {
    for (const k of d) onKey(k);
  };
  stdin.on('data', listener);
  stdin.resume();
  return () => {
    stdin.off('data', listener);
    stdin.setRawMode(false);
    stdin.pause();
  };
}

export const topCommand: Command = {
  name: 'top',
  summary: 'live view of slots, links and request latency, with rates per second',
  usage: `Usage: slotlink top [--socket PATH] [--interval MS] [--iterations N] [--sort COLUMN] [--reverse]

Shows the proxy's CPU (% of one core), memory, descriptors and event-loop lag; its error
counters; its slots (messages and bytes per second each way, batches, queued bytes, back
pressure), links (state, round trip, rates, frames in flight, unacknowledged bytes,
resends, reconnects, credit stalls) and request round trips by destination (requests per
second, p50, p99), refreshed every MS (default 1000). Exits after N screens when
--iterations is given, else on q or Ctrl-C.

--sort COLUMN sorts every table that has the column (numbers largest first, names A to Z;
--reverse the other way); default ${DEFAULT_SORT.column}. On a terminal, < and > choose the
column, r reverses. Case, spaces and dashes aside (sent-b/s is SENT B/S), the columns are:
${wrap(SORTABLE_COLUMNS.join(', '), 88)}.`,
  options: { socket: { type: 'string' }, interval: { type: 'string' }, iterations: { type: 'string' }, sort: { type: 'string' }, reverse: { type: 'boolean' } },
  async run(v) {
    const socket = String(v.socket ?? defaultSocketPath());
    const interval = intFlag(v, 'interval', 1000, 50);
    const iterations = intFlag(v, 'iterations', 0, 0);
    let column = DEFAULT_SORT.column;
    if (v.sort !== undefined) {
      const found = findColumn(String(v.sort));
      if (!found) throw new UsageError(`--sort: no column "${String(v.sort)}"; the columns are ${SORTABLE_COLUMNS.join(', ')}`);
      column = found;
    }
    const sort: TopSort = { column, reverse: v.reverse === true };
    const tty = process.stdout.isTTY === true;
    const keys = tty && process.stdin.isTTY === true;
    let shown: { s: ProxyStats; prev: ProxyStats | null } | null = null;
    let stop = false;
    let wake: (() => void) | null = null;
    const draw = () => {
      if (!shown) return;
      const screen = renderTop(shown.s, shown.prev, sort, keys);
      process.stdout.write(tty ? `\x1b[H\x1b[2J${screen}` : `${screen}\n`);
    };
    const quit = () => {
      stop = true;
      wake?.();
    };
    const onSigint = () => quit();
    process.once('SIGINT', onSigint);
    const stopKeys = readKeys((k) => {
      const i = SORTABLE_COLUMNS.indexOf(sort.column);
      const n = SORTABLE_COLUMNS.length;
      if (k === 'q' || k === '\x03') return quit();
      if (k === '<' || k === ',') sort.column = SORTABLE_COLUMNS[(i - 1 + n) % n]!;
      else if (k === '>' || k === '.') sort.column = SORTABLE_COLUMNS[(i + 1) % n]!;
      else if (k === 'r') sort.reverse = !sort.reverse;
      else return;
      draw();
    });
    try {
      let prev: ProxyStats | null = null;
      for (let i = 0; !stop && (iterations === 0 || i < iterations); i++) {
        if (i > 0) {
          // A nap that a key (q) can end early.
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              wake = null;
              resolve();
            };
            const timer = setTimeout(done, interval);
            wake = done;
          });
          if (stop) break;
        }
        const s = (await requestStatus(socket)) as ProxyStats;
        shown = { s, prev };
        draw();
        prev = s;
      }
    } finally {
      stopKeys();
      process.off('SIGINT', onSigint);
    }
    return 0;
  },
};
