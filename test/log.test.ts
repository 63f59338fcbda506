/** Logs in the shape log pipelines expect (pino's): numeric level, time, the proxy's pid and host, err with its stack. */
import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { connect } from '../src/client/connect.js';
import { SlotlinkError } from '../src/errors.js';
import { createLogger } from '../src/log.js';
import { Rig } from './helpers/rig.js';

test('a log line: pino core fields, which other fields cannot overwrite; errors with their stack and cause', () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', write: (l) => lines.push(l), base: { node: 'alpha' } });
  log.debug('not shown');
  log.warn('something', { msg: 'sneaky', level: 'fatal', pid: 1, name: 'x', hostname: 'y', time: 0, clientPid: 42 });
  log.error('failed', { err: new SlotlinkError('SLOTLINK_ERR_CONFIG', 'bad', { cause: new Error('root') }) });
  assert.equal(lines.length, 2, 'debug is below the threshold');
  const a = JSON.parse(lines[0]!);
  assert.deepEqual({ level: a.level, msg: a.msg, pid: a.pid, hostname: a.hostname, name: a.name, node: a.node, clientPid: a.clientPid }, { level: 40, msg: 'something', pid: process.pid, hostname: os.hostname(), name: 'slotlink', node: 'alpha', clientPid: 42 });
  assert.equal(typeof a.time, 'number');
  assert.ok(Math.abs(a.time - Date.now()) < 60_000);
  const b = JSON.parse(lines[1]!);
  assert.equal(b.level, 50);
  assert.equal(b.err.type, 'SlotlinkError');
  assert.equal(b.err.code, 'SLOTLINK_ERR_CONFIG');
  assert.match(b.err.stack, /SlotlinkError: bad\n\s+at /);
  assert.equal(b.err.cause.message, 'root');
  log.setLevel('error');
  log.child({ peer: 'beta' }).warn('now hidden');
  assert.equal(lines.length, 2, 'a level set on the logger holds for its children');
});

test("the proxy's lines carry its own pid and the registering process's as clientPid and clientName", { timeout: 30_000 }, async () => {
  const rig = await Rig.start();
  try {
    const ep = await connect({ name: 'logged', socket: rig.socket });
    const line = JSON.parse(await rig.proxy.waitForLog((l) => l.includes('"slot registered"')));
    assert.equal(line.pid, rig.proxy.pid);
    assert.equal(line.clientPid, process.pid);
    assert.equal(line.clientName, 'logged');
    assert.equal(line.level, 30);
    await ep.close();
  } finally {
    await rig.close();
  }
});
