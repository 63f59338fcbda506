/**
 * The README's C and Python examples ("Workers in C and Python"), run as written against a
 * real proxy: each registers as "billing", sends "started" to "audit", answers requests with
 * "ok" (the Python one first asks "ledger"), and ends when the proxy shuts down.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { C_LIBRARY, ROOT } from './driver.js';
import { Host } from './rig.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Workers in C and Python'), readme.indexOf('## Two hosts'));
const block = (lang: string) => {
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  assert.ok(m, `the README's C and Python section has a ${lang} block`);
  return m[1]!;
};

/** Runs `worker` (registering as "billing") and checks it as the README says it behaves. */
async function exercise(host: Host, worker: () => ChildProcess): Promise<void> {
  const audit = await host.worker('node', 'audit', { verify: false });
  const ledger = await host.worker('node', 'ledger', { respond: 'echo' });
  assert.ok(ledger);
  const child = worker();
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const got = await audit.call('collect', { count: 1, timeout: 20_000 });
    assert.equal(got.received, 1, `"started" reached audit; the example printed:\n${output}`);
    const asker = await host.worker('node', 'asker');
    assert.equal((await asker.call('request', { to: 'billing', data: 'pay?' })).reply, 'ok');
    assert.equal(await host.proxy.stop(), 0);
    assert.equal(await exited, 0, `the example ends cleanly when the proxy shuts down:\n${output}`);
  } finally {
    child.kill('SIGKILL');
  }
}

test('README: the C worker example', async () => {
  const host = await Host.start();
  try {
    const src = join(host.dir, 'worker.c');
    const body = block('c').replaceAll('/tmp/sl.sock', host.socket);
    writeFileSync(src, `#include <stdio.h>\n#include "slotlink.h"\nint main(void) {\n${body}return 0;\n}\n`);
    const cc = spawnSync('cc', ['-std=c11', '-Wall', '-Wextra', '-Werror', `-I${join(ROOT, 'clients/c')}`, '-o', join(host.dir, 'worker'), src, join(ROOT, 'clients/c/libslotlink.a'), '-pthread'], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    await exercise(host, () => spawn(join(host.dir, 'worker'), [], { stdio: ['ignore', 'pipe', 'pipe'] }));
  } finally {
    await host.close();
  }
});

test('README: the Python worker example', async () => {
  const host = await Host.start();
  try {
    const src = join(host.dir, 'worker.py');
    writeFileSync(src, block('python').replaceAll('/tmp/sl.sock', host.socket));
    const python = process.env.SLOTLINK_TEST_PYTHON ?? 'python3';
    const env = process.env.SLOTLINK_TEST_PYTHON ? process.env : { ...process.env, PYTHONPATH: join(ROOT, 'clients/python'), SLOTLINK_LIBRARY: C_LIBRARY };
    await exercise(host, () => spawn(python, [src], { stdio: ['ignore', 'pipe', 'pipe'], env }));
  } finally {
    await host.close();
  }
});
