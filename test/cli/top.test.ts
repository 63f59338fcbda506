/**
 * `slotlink top` as a user runs it, against a real proxy with real worker processes: its
 * columns, small traffic in bytes with units, the proxy's CPU and memory, error counters,
 * request latency, sorting by any column (flags, and keys on a terminal).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { after, before, test } from 'node:test';
import { CLI_PATH } from '../../src/cli/proxy-process.js';
import { SORTABLE_COLUMNS } from '../../src/cli/top-view.js';
import { connect } from '../../src/client/connect.js';
import { rssBytes } from '../helpers/proc.js';
import { Rig } from '../helpers/rig.js';
import type { Worker } from '../helpers/worker.js';

let rig: Rig;
let big: Worker;
let small: Worker;
before(async () => {
  rig = await Rig.start();
  big = await rig.worker('top-big');
  small = await rig.worker('top-small');
  await rig.worker('top-echo', { echo: true });
});
after(() => rig.close());

/** A running `slotlink top`: its output so far, and a promise of each screen as it comes. */
class Top {
  readonly child: ChildProcessWithoutNullStreams;
  out = '';
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(args: string[], command: [string, string[]] = [process.execPath, [CLI_PATH, 'top', '--socket', rig.socket, ...args]]) {
    this.child = spawn(command[0], command[1], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.out += d;
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Resolves once the output so far matches `re`; fails, showing the output, after 20 s without. */
  async waitFor(re: RegExp): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!re.test(this.out)) {
      assert.ok(Date.now() < deadline, `top printed no ${re} in 20 s; it printed:\n${this.out}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 1000).unref();
      });
    }
  }

  screens(): string[] {
    return this.out.split('slotlink top — ').slice(1);
  }
}

/** A table of a screen, by the title of its first column: rows of cells by column title (the sort marks * and ^ taken off). */
function tableOf(screen: string, first: string): Array<Record<string, string>> {
  const lines = screen.split('\n');
  const at = lines.findIndex((l) => l.startsWith(first));
  assert.ok(at >= 0, `a table starting with ${first} in:\n${screen}`);
  const header = lines[at]!;
  // Titles hold single spaces; columns are two spaces apart; all but the first are right-aligned.
  const titles = header.trim().split(/\s{2,}/);
  let cursor = 0;
  const ends = titles.map((t) => (cursor = header.indexOf(t, cursor) + t.length));
  const rows: Array<Record<string, string>> = [];
  for (const line of lines.slice(at + 1)) {
    if (line.trim() === '') break;
    const row: Record<string, string> = {};
    const name = line.split(/\s/)[0]!;
    titles.forEach((t, i) => (row[t.replace(/[*^]$/, '')] = i === 0 ? name : line.slice(i === 1 ? name.length : ends[i - 1]!, ends[i]).trim()));
    rows.push(row);
  }
  return rows;
}

test('top: small traffic in bytes with units, the proxy\'s CPU and memory, request latency, error counters', { timeout: 60_000 }, async () => {
  // A registration refused (the name is taken): top counts it among the errors.
  await assert.rejects(connect({ name: 'top-big', socket: rig.socket }), { code: 'SLOTLINK_ERR_NAME_TAKEN' });
  const top = new Top(['--iterations', '2', '--interval', '1000']);
  await top.waitFor(/slotlink top — /);
  // Between the two screens: 5 messages of 20 bytes (100 B in about a second), and requests.
  await small.call('send', { to: 'top-big', count: 5, size: 20 });
  for (let i = 0; i < 20; i++) await small.call('request', { to: 'top-echo' });
  assert.equal(await top.exited, 0, top.out);
  const [first, second] = top.screens();
  assert.ok(first && second, top.out);
  const row = tableOf(second, 'SLOT').find((r) => r.SLOT!.startsWith('top-small~'))!;
  assert.deepEqual(Object.keys(row), ['SLOT', 'PID', 'SENT/S', 'RECV/S', 'SENT B/S', 'RECV B/S', 'BATCH/S', 'QUEUED', 'PAUSED', 'BP WAITS']);
  const sent = /^(\d+(?:\.\d)?) B$/.exec(row['SENT B/S']!);
  assert.ok(sent && Number(sent[1]) >= 30 && Number(sent[1]) <= 400, `about 100 B/s of messages and requests, not 0: "${row['SENT B/S']}"`);
  assert.notEqual(row['SENT/S'], '0');
  assert.equal(tableOf(first, 'SLOT').find((r) => r.SLOT!.startsWith('top-small~'))!['SENT B/S'], '-', 'no rate on the first screen');
  // The proxy: CPU in % of a core, resident memory near what the kernel says.
  const proxy = /^proxy: cpu (\d+\.\d) %  rss (\d+\.\d) MiB  heap \S+ \S+  fds (\d+)\/(\d+|-)  event-loop lag p99 /m.exec(second);
  assert.ok(proxy, second);
  assert.ok(Number(proxy[1]) >= 0 && Number(proxy[1]) <= 200, `cpu ${proxy[1]} %`);
  const rss = Number(proxy[2]) * 1024 * 1024;
  assert.ok(Math.abs(rss - rssBytes(rig.proxy.pid)) / rss < 0.5, `rss ${proxy[2]} MiB`);
  assert.match(second, /^errors: registrations refused 1 {2}registration timeouts 0 {2}peer connections refused 0 {2}requests refused 0 {2}replies refused 0 {2}replies dropped 0 {2}undeliverable \(no route\) 0 {2}evictions 0$/m);
  const echo = tableOf(second, 'DESTINATION').find((r) => r.DESTINATION === 'top-echo')!;
  assert.ok(echo, second);
  assert.equal(echo.REQUESTS, '20');
  assert.match(echo.P50!, /^\d+(\.\d+)? (µs|ms)$/);
  assert.match(echo.P99!, /^\d+(\.\d+)? (µs|ms)$/);
  assert.notEqual(echo['REQ/S'], '-');
});

test('top --sort orders every table that has the column; --reverse the other way; an unknown column is refused', { timeout: 60_000 }, async () => {
  const bySent = new Top(['--iterations', '2', '--interval', '800', '--sort', 'sent-b/s']);
  const reversed = new Top(['--iterations', '2', '--interval', '800', '--sort', 'SENT B/S', '--reverse']);
  const byPid = new Top(['--iterations', '1', '--sort', 'pid']);
  await Promise.all([bySent.waitFor(/slotlink top — /), reversed.waitFor(/slotlink top — /)]);
  await big.call('send', { to: 'top-small', count: 1000, size: 100 });
  await small.call('send', { to: 'top-big', count: 10, size: 10 });
  for (const t of [bySent, reversed, byPid]) assert.equal(await t.exited, 0, t.out);
  const order = (t: Top) => tableOf(t.screens().at(-1)!, 'SLOT').map((r) => r.SLOT!.split('~')[0]);
  assert.deepEqual(order(bySent), ['top-big', 'top-small', 'top-echo']);
  assert.deepEqual(order(reversed), ['top-echo', 'top-small', 'top-big']);
  assert.match(bySent.out, /SENT B\/S\*/, 'the sorted column is marked');
  const pids = tableOf(byPid.screens()[0]!, 'SLOT').map((r) => Number(r.PID));
  assert.deepEqual(pids, [...pids].sort((a, b) => b - a));
  const bad = spawnSync(process.execPath, [CLI_PATH, 'top', '--socket', rig.socket, '--sort', 'colour'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--sort: no column "colour"; the columns are SLOT, PID, SENT\/S/);
});

const script = spawnSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' }).stdout.trim();

test('on a terminal, < and > choose the sort column, r reverses, q quits at once', { timeout: 60_000, skip: script ? false : 'script(1) (util-linux) is not installed to give top a terminal' }, async () => {
  // script(1) runs top on a pseudo-terminal and passes our keys to it.
  const command = `${process.execPath} ${CLI_PATH} top --socket ${rig.socket} --interval 60000`;
  const top = new Top([], [script, ['-qfec', command, '/dev/null']]);
  await top.waitFor(/sort: SENT\/S \(numbers largest first, names A to Z\) — keys: < > column, r reverse, q quit/);
  top.child.stdin.write('>');
  await top.waitFor(/sort: RECV\/S \(/);
  top.child.stdin.write('r');
  await top.waitFor(/sort: RECV\/S, reversed/);
  assert.match(top.out, /RECV\/S\^/);
  // Three columns back from RECV/S: the first, SLOT.
  top.child.stdin.write('<<<');
  await top.waitFor(new RegExp(`sort: ${SORTABLE_COLUMNS[0]}, reversed`));
  const asked = Date.now();
  top.child.stdin.write('q');
  assert.equal(await top.exited, 0, top.out);
  assert.ok(Date.now() - asked < 10_000, 'q ends top without waiting for the next screen');
});
