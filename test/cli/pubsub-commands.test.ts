/** `slotlink publish` and `slotlink subscribe` as a user runs them, against a real proxy. */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { CLI_PATH } from '../../src/cli/proxy-process.js';
import { Rig } from '../helpers/rig.js';

let rig: Rig;
const children: ChildProcess[] = [];
before(async () => {
  rig = await Rig.start();
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rig.close();
});

const cli = (...args: string[]) => spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: 'utf8', timeout: 30_000 });

/** Starts `slotlink subscribe ...` and resolves once it says its subscription is in effect. */
async function subscriber(...args: string[]) {
  const child = spawn(process.execPath, [CLI_PATH, 'subscribe', '--socket', rig.socket, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  child.stderr!.setEncoding('utf8');
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: string) => ((out.stderr += d), out.stderr.includes('subscribed to') && resolve()));
    void exited.then(([code]) => reject(new Error(`subscribe exited (${code}) before subscribing: ${out.stderr}`)));
  });
  return { child, out, exited };
}

test('subscribe with a wildcard prints what publish sends to the subjects it matches, and exits after --count', { timeout: 60_000 }, async () => {
  const sub = await subscriber('prices.>', '--count', '3');
  assert.match(sub.out.stderr, /^subscribed to prices\.> as subscribe-\d+~\d+\.\d+@test\n$/);
  for (const args of [['prices.eu', '101.5'], ['orders.eu', 'not for it'], ['prices.us.east', 'ninety nine', '--count', '2']]) {
    const r = cli('publish', '--socket', rig.socket, ...args);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
  }
  const [code] = await sub.exited;
  assert.equal(code, 0, sub.out.stderr);
  assert.equal(sub.out.stdout, 'prices.eu 101.5\nprices.us.east ninety nine\nprices.us.east ninety nine\n');
});

test('subscribe --json prints one JSON object per publication', { timeout: 60_000 }, async () => {
  const sub = await subscriber('prices.*', '--json', '--count', '1');
  const r = cli('publish', '--socket', rig.socket, 'prices.eu', 'a "quoted" text');
  assert.equal(r.status, 0, r.stderr);
  const [code] = await sub.exited;
  assert.equal(code, 0, sub.out.stderr);
  assert.deepEqual(sub.out.stdout.trimEnd().split('\n').map((l) => JSON.parse(l)), [{ subject: 'prices.eu', data: 'a "quoted" text' }]);
});

test('SIGTERM and SIGINT end subscribe cleanly: exit 0, its subscription gone from the proxy', { timeout: 60_000 }, async () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const sub = await subscriber('alerts.>');
    assert.ok((await rig.status()).subscriptions.some((s) => s.subject === 'alerts.>'));
    assert.equal(cli('publish', '--socket', rig.socket, 'alerts.disk', 'full').status, 0);
    while (!sub.out.stdout.includes('\n')) await new Promise((r) => setTimeout(r, 20));
    sub.child.kill(signal);
    const [code, sig] = await sub.exited;
    assert.deepEqual([code, sig], [0, null], `${signal}: ${sub.out.stderr}`);
    assert.equal(sub.out.stdout, 'alerts.disk full\n');
    assert.ok(!(await rig.status()).subscriptions.some((s) => s.subject === 'alerts.>'), `${signal}: the subscription ended`);
  }
});

test('an invalid subject is refused with the rule it breaks, before registering; a missing argument is a usage error', () => {
  const before = cli('status', '--socket', rig.socket, '--json');
  for (const args of [
    ['publish', 'prices.*', 'x'],
    ['publish', 'prices..eu', 'x'],
    ['publish', 'prices eu', 'x'],
    ['subscribe', 'prices.>.eu'],
    ['subscribe', '.prices'],
  ]) {
    const r = cli(...args, '--socket', rig.socket);
    assert.equal(r.status, 1, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^slotlink: invalid subject ".*": .+ \(SLOTLINK_ERR_INVALID_SUBJECT\)\n$/, args.join(' '));
  }
  assert.equal(JSON.parse(cli('status', '--socket', rig.socket, '--json').stdout).registrations, JSON.parse(before.stdout).registrations, 'nothing registered');
  for (const args of [['publish', 'prices.eu'], ['subscribe'], ['subscribe', 'a', 'b'], ['publish', 'prices.eu', 'x', '--count', '0']]) {
    const r = cli(...args, '--socket', rig.socket);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  }
});
