/** The README's first command: the demo runs to completion, checks everything, and says so. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { CLI_PATH } from '../../src/cli/proxy-process.js';

test('slotlink demo runs two proxies, four streaming processes and a requester/responder pair, loses nothing, and exits 0 with its summary', { timeout: 90_000 }, async () => {
  const child = spawn(process.execPath, [CLI_PATH, 'demo', '--seconds', '1', '--workers', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 0, `demo failed:\n${out}\n${err}`);
  const sent = Number(out.match(/messages sent ([\d,]+)/)![1]!.replace(/,/g, ''));
  assert.ok(sent > 0);
  assert.match(out, new RegExp(`received ${sent.toLocaleString()}, lost 0, out of order or corrupt 0`));
  // Requests during the streams are timed by a process that streams nothing (issue 10).
  const during = out.match(/the same requests during the streams \(([\d,]+), one every millisecond from a process that does not stream/);
  assert.ok(during && Number(during[1]!.replace(/,/g, '')) > 0, out);
  assert.match(out, /link alpha <-> beta: up/);
  assert.match(out, /connections: 1 between the proxies/);
});
