/** Each way registration or start-up can go wrong gets its own clear error. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect } from '../src/client/connect.js';
import { register } from '../src/client/registration.js';
import { CLI_PATH, startProxyProcess } from '../src/cli/proxy-process.js';
import { ControlOp } from '../src/contract/registration.js';
import { Rig } from './helpers/rig.js';

let rig: Rig;
before(async () => {
  rig = await Rig.start(['--max-slots', '3']);
});
after(() => rig.close());

test('a name that is taken is refused with SLOTLINK_ERR_NAME_TAKEN', async () => {
  const first = await connect({ name: 'taken', socket: rig.socket });
  try {
    await assert.rejects(connect({ name: 'taken', socket: rig.socket }), { code: 'SLOTLINK_ERR_NAME_TAKEN', message: /"taken" is already registered/ });
    await assert.rejects(connect({ name: 'taken', socket: rig.socket, group: true }), { code: 'SLOTLINK_ERR_NAME_TAKEN' });
  } finally {
    await first.close();
  }
});

test('an unknown protocol version is refused with SLOTLINK_ERR_PROTOCOL_VERSION', async () => {
  await assert.rejects(register(rig.socket, { op: ControlOp.HELLO, version: 99, name: 'future' }, 5000), {
    code: 'SLOTLINK_ERR_PROTOCOL_VERSION',
    message: /protocol version 99 is not supported/,
  });
});

test('an invalid name is refused with SLOTLINK_ERR_INVALID_NAME', async () => {
  await assert.rejects(connect({ name: 'no spaces', socket: rig.socket }), { code: 'SLOTLINK_ERR_INVALID_NAME' });
  await assert.rejects(register(rig.socket, { op: ControlOp.HELLO, version: 1, name: '../x' }, 5000), { code: 'SLOTLINK_ERR_INVALID_NAME' });
});

test('a full proxy refuses with SLOTLINK_ERR_PROXY_FULL, and takes the next one once a slot frees', async () => {
  const eps = [];
  for (const n of ['f1', 'f2', 'f3']) eps.push(await connect({ name: n, socket: rig.socket }));
  await assert.rejects(connect({ name: 'f4', socket: rig.socket }), { code: 'SLOTLINK_ERR_PROXY_FULL', message: /maximum of 3 slots/ });
  await eps.pop()!.close();
  eps.push(await connect({ name: 'f4', socket: rig.socket }));
  await Promise.all(eps.map((e) => e.close()));
});

test('no proxy at the path: SLOTLINK_ERR_PROXY_UNAVAILABLE says how to start one', async () => {
  await assert.rejects(connect({ name: 'lonely', socket: join(rig.dir, 'nobody-here.sock') }), {
    code: 'SLOTLINK_ERR_PROXY_UNAVAILABLE',
    message: /start one with `slotlink proxy/,
  });
});

test('a socket path in use by a live proxy is refused; the live proxy keeps serving', () => {
  const r = spawnSync(process.execPath, [CLI_PATH, 'proxy', '--socket', rig.socket], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /another proxy is already serving .* \(SLOTLINK_ERR_SOCKET_IN_USE\)/);
  assert.ok(lstatSync(rig.socket).isSocket(), 'the live proxy\'s socket is left alone');
  return connect({ name: 'still-served', socket: rig.socket }).then((ep) => ep.close());
});

test('a stale socket file from a dead proxy is cleaned up at start', async () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-stale-'));
  const socket = join(dir, 'proxy.sock');
  try {
    const first = await startProxyProcess(socket);
    first.child.kill('SIGKILL'); // dies without removing its socket file
    await new Promise((r) => first.child.once('exit', r));
    assert.ok(existsSync(socket), 'the dead proxy left its socket behind');
    const second = await startProxyProcess(socket);
    assert.ok(second.logs.some((l) => l.includes('proxy listening')));
    const ep = await connect({ name: 'after-stale', socket });
    await ep.close();
    assert.equal(await second.stop(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a proxy stopped with SIGTERM exits 0 and removes its socket', async () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-term-'));
  const socket = join(dir, 'proxy.sock');
  try {
    const p = await startProxyProcess(socket);
    const ep = await connect({ name: 'leaving', socket });
    const status = ep.status();
    const stayed = await connect({ name: 'staying-put', socket, reconnect: false });
    assert.equal(await p.stop(), 0);
    assert.equal((await stayed.closed)?.code, 'SLOTLINK_ERR_PROXY_SHUTDOWN', 'a process that does not reconnect is told why it ends');
    const { value } = await status.next();
    assert.equal(value?.type, 'disconnected');
    assert.equal(value?.type === 'disconnected' && value.error.code, 'SLOTLINK_ERR_PROXY_SHUTDOWN', 'one that reconnects is told why it was disconnected');
    await ep.close();
    assert.equal(await ep.closed, null);
    assert.equal(existsSync(socket), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad flag is refused with a clear message and exit code 2', () => {
  const r = spawnSync(process.execPath, [CLI_PATH, 'proxy', '--cells', 'many'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /config "cells": expected a whole number/);
  const u = spawnSync(process.execPath, [CLI_PATH, 'proxy', '--no-such-flag'], { encoding: 'utf8' });
  assert.equal(u.status, 2);
  assert.match(u.stderr, /Unknown option '--no-such-flag'/);
});
