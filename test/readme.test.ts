/**
 * Every `sh` block of README.md runs here as written, so the README cannot rot. The first
 * block (install + demo, then the tests) is what `.ci/run` runs itself; this test checks
 * that it does. Only three things change when a block runs: `/tmp` is a fresh directory,
 * each `127.0.0.1:PORT` gets a free port, and `npx slotlink` is this checkout's CLI. A
 * command ending in `&` runs in the background, and the next line starts once it has said
 * it is ready ("proxy listening", "listening as", "subscribed to"); background commands are stopped (SIGTERM) at
 * the end of their block, and their output is shown with the block's.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI_PATH } from '../src/cli/proxy-process.js';
import { freePort } from './helpers/mesh.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-readme-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What each block must print (after its own commands and its background commands' logs). */
const expected: Array<{ about: RegExp; prints: RegExp[] }> = [
  { about: /--name greeter/, prints: [/^ping$/m, /^are you there$/m, /~\d+\.\d+@\S+ hello$/m, /^node \S+ +pid \d+/m] },
  { about: /--name inventory/, prints: [/^count\?$/m, /@alpha restock 12$/m, /beta.*up/] },
  { about: /openssl req -x509/, prints: [/^over mutual TLS$/m] },
  { about: /--config/, prints: [/^slotlink_slots\{node="beta"\} \d+$/m] },
  {
    about: /slotlink bench --quick/,
    prints: [/^\{/m, /slotlink top — /, /\| measure \| slotlink \|/, /\| contender \| bulk size \| responder \|/, /\| contender \| size \| publications \| delivered msg\/s \|/, /^prices\.eu 101\.5\nprices\.us 99$/m],
  },
];

test('the first README block is what .ci/run runs: install and demo, then the tests', () => {
  const first = blocks[0]!;
  assert.match(first, /^npm install && npx slotlink demo$/m);
  assert.match(first, /^npm test$/m);
  const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
  assert.match(ci, /^npx slotlink demo$/m);
  assert.match(ci, /^npm test$/m);
});

test('every other sh block of the README runs and prints what it says', { timeout: 240_000 }, async () => {
  assert.equal(blocks.length - 1, expected.length, 'each README block has its expectations here');
  const ports = new Map<string, number>();
  for (const m of readme.matchAll(/127\.0\.0\.1:(\d{4,5})/g)) {
    if (ports.has(m[1]!)) continue;
    let port: number;
    do port = await freePort();
    while ([...ports.values()].includes(port)); // a port just released can come back
    ports.set(m[1]!, port);
  }
  for (const [i, block] of blocks.slice(1).entries()) {
    const want = expected[i]!;
    assert.match(block, want.about, `block ${i + 2} is the one these expectations are for`);
    const script = [
      'set -eu',
      `wait_listening() { for _ in $(seq 400); do grep -qE 'proxy listening|listening as|subscribed to' "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "no 'listening' from $1:" >&2; cat "$1" >&2; return 1; }`,
      `stop_background() { for p in $(jobs -p); do kill -TERM "$p" 2>/dev/null || true; done; wait || true; cat "${dir}"/bg-*.log 2>/dev/null || true; rm -f "${dir}"/bg-*.log; }`,
      'trap stop_background EXIT',
      ...block.split('\n').map((line, n) => {
        // /tmp first: the checkout itself may live under /tmp.
        let l = line
          .replace(/\/tmp\b/g, dir)
          .replace(/127\.0\.0\.1:(\d{4,5})/g, (_m, p: string) => `127.0.0.1:${ports.get(p)}`)
          .replace(/npx slotlink/g, `node ${CLI_PATH}`);
        const bg = /^(.*[^&])&\s*(#.*)?$/.exec(l);
        if (bg) l = `${bg[1]!.trim()} > "${dir}/bg-${i}-${n}.log" 2>&1 & wait_listening "${dir}/bg-${i}-${n}.log"`;
        return l;
      }),
    ].join('\n');
    const r = spawnSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const out = r.stdout + r.stderr;
    if (process.env.SHOW_README_OUTPUT) console.log(out);
    assert.equal(r.status, 0, `README block ${i + 2} failed:\n${block}\n--- output:\n${out}`);
    for (const p of want.prints) assert.match(out, p, `README block ${i + 2} should print ${p}; it printed:\n${out}`);
  }
});
