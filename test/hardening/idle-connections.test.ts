/**
 * Regression (hardening #11): connections that never say who they are used to be held for
 * ever (registration) or for Node's 120 s default (TLS link port). Both are dropped after a
 * few seconds, counted, and every refused registration leaves a log line.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { HELLO_TIMEOUT_MS } from '../../src/contract/registration.js';
import { Mesh } from '../helpers/mesh.js';

/** Connects and says nothing (or `bytes`); resolves with how long the other side kept it. */
function idle(connectTo: net.NetConnectOpts, bytes?: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = net.connect(connectTo, () => bytes && s.write(bytes));
    s.resume();
    s.on('error', () => {});
    s.on('close', () => resolve(Date.now() - started));
  });
}

test('silent and garbage connections are dropped within seconds, counted and logged', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start();
  try {
    const socket = mesh.socket('beta');
    const garbage = Buffer.alloc(8, 0xff); // a length far over the limit
    const held = await Promise.all([
      ...Array.from({ length: 10 }, () => idle({ path: socket })),
      ...Array.from({ length: 10 }, () => idle({ path: socket }, garbage)),
      ...Array.from({ length: 5 }, () => idle({ host: '127.0.0.1', port: mesh.betaPort })),
    ]);
    // Every one was closed by the proxy (none of them ever closes itself).
    assert.equal(held.length, 25);
    assert.ok(held.every((ms) => ms < HELLO_TIMEOUT_MS * 3), `all dropped in a few seconds: ${held.join(' ')}`);
    const s = await mesh.status('beta');
    assert.equal(s.registrationTimeouts, 10);
    assert.ok(s.registrationsRefused >= 20, `refused: ${s.registrationsRefused}`);
    assert.ok(s.links[0]!.connectionsRefused >= 5, `link connections refused: ${s.links[0]!.connectionsRefused}`);
    const refusedLines = mesh.beta.logs.filter((l) => l.includes('"registration refused"'));
    assert.ok(refusedLines.length >= 20, `every refused registration is logged (${refusedLines.length} lines)`);
    assert.ok(refusedLines.some((l) => l.includes('no hello within')));
    // The link itself was not disturbed.
    assert.equal(s.links[0]!.status.state, 'up');
  } finally {
    await mesh.close();
  }
});
