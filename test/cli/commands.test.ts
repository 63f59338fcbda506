/** The CLI commands as a user runs them: real subprocesses against a real proxy. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { CLI_PATH } from '../../src/cli/proxy-process.js';
import { Rig } from '../helpers/rig.js';

let rig: Rig;
before(async () => {
  rig = await Rig.start();
});
after(() => rig.close());

const cli = (...args: string[]) => spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: 'utf8', timeout: 30_000 });

test('the README tour: listen, send, request, status', { timeout: 60_000 }, async () => {
  const listener = spawn(process.execPath, [CLI_PATH, 'listen', '--socket', rig.socket, '--name', 'greeter', '--count', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  listener.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  await new Promise<void>((resolve) => listener.stderr.on('data', (d: Buffer) => String(d).includes('listening as') && resolve()));
  const sent = cli('send', '--socket', rig.socket, 'greeter', 'hello');
  assert.equal(sent.status, 0, sent.stderr);
  const req = cli('request', '--socket', rig.socket, 'greeter', 'ping');
  assert.equal(req.status, 0, req.stderr);
  assert.equal(req.stdout, 'ping\n');
  await new Promise((r) => listener.once('exit', r));
  assert.match(out, /^send-\d+~\d+\.\d+@test hello\nrequest-\d+~\d+\.\d+@test ping\n$/);
  const status = cli('status', '--socket', rig.socket);
  assert.equal(status.status, 0);
  assert.match(status.stdout, /^node test {2}pid \d+/);
  const json = JSON.parse(cli('status', '--socket', rig.socket, '--json').stdout);
  assert.equal(json.node, 'test');
  assert.ok(json.registrations >= 3);
});

test('send to an unknown name fails with the error; status without a proxy says how to start one', () => {
  const r = cli('send', '--socket', rig.socket, 'nobody', 'x');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no route to "nobody".*SLOTLINK_ERR_NO_ROUTE/);
  const s = cli('status', '--socket', `${rig.dir}/none.sock`);
  assert.equal(s.status, 1);
  assert.match(s.stderr, /no slotlink proxy is listening at .*none\.sock: start one with `slotlink proxy/);
});

test('status asks the proxy without registering a slot, and shows the proxy process and its error counters', async () => {
  const before = await rig.status();
  const text = cli('status', '--socket', rig.socket);
  const json = cli('status', '--socket', rig.socket, '--json');
  assert.equal(text.status, 0, text.stderr);
  assert.equal(json.status, 0, json.stderr);
  const after = await rig.status();
  assert.equal(after.registrations, before.registrations, 'no registration');
  assert.equal(after.slots.length, before.slots.length);
  assert.match(text.stdout, /^slotlink \d+\.\d+\.\d+ {2}node\.js v\d+\S* {2}cpu \d+\.\d\d s {2}rss \d+\.\d MiB {2}fds \d+\/(\d+|-)$/m);
  assert.match(text.stdout, /replies-dropped \d+ {2}replies-refused \d+ {2}requests-refused \d+ {2}peer-connections-refused \d+$/m);
  const s = JSON.parse(json.stdout);
  assert.ok(s.process.residentBytes > 0 && s.process.openFds > 0);
  assert.deepEqual(Object.keys(s.requestRoundTrips), ['boundsSeconds', 'byName']);
});

test('every command has --help; unknown commands and flags fail with usage', () => {
  for (const c of ['proxy', 'demo', 'status', 'top', 'send', 'request', 'listen', 'publish', 'subscribe', 'bench']) {
    const r = cli(c, '--help');
    assert.equal(r.status, 0, c);
    assert.match(r.stdout, new RegExp(`^Usage: slotlink ${c}`), c);
  }
  const u = cli('frobnicate');
  assert.equal(u.status, 2);
  assert.match(u.stderr, /unknown command "frobnicate"/);
  const f = cli('status', '--bogus');
  assert.equal(f.status, 2);
  assert.match(f.stderr, /Unknown option '--bogus'/);
});

// Regression (hardening #13): a bad address left `send` hanging; a missing argument printed a stack trace.
test('every command ends with one line and a non-zero exit on error; --version', () => {
  const bad = cli('send', '--socket', rig.socket, 'not an address!', 'x');
  assert.equal(bad.status, 1, 'send to an invalid address exits');
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /invalid address "not an address!".*SLOTLINK_ERR_INVALID_ADDRESS/);
  for (const args of [['send', 'only-one'], ['request'], ['listen']]) {
    const r = cli(...args, '--socket', rig.socket);
    assert.equal(r.status, 2, args.join(' '));
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.match(r.stderr, new RegExp(`^slotlink ${args[0]}: .+\\nRun \`slotlink ${args[0]} --help\` for usage\\.\\n$`));
  }
  const noReply = cli('request', '--socket', rig.socket, 'nobody', 'x');
  assert.equal(noReply.status, 1);
  assert.match(noReply.stderr, /^slotlink: no route to "nobody".*\(SLOTLINK_ERR_NO_ROUTE\)\n$/);
  const v = cli('--version');
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^slotlink \d+\.\d+\.\d+\n$/);
});
