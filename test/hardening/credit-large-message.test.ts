/**
 * Regression (hardening #5): a message near or above the credit window, sent after other
 * traffic to the same destination, never crossed the link (64 B then 1 MiB: stuck). Every
 * message up to --max-message-bytes crosses, whatever came before it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mesh } from '../helpers/mesh.js';

test('64 B, then 1 MiB, then 16 MiB - 64 to the same remote destination all arrive, in order', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start();
  try {
    const sender = await mesh.worker('alpha', 'big-sender');
    const sink = await mesh.worker('beta', 'big-sink');
    await mesh.waitForRemoteName('alpha', 'big-sink');
    let start = 0;
    for (const size of [64, 1 << 20, 64, (1 << 20) - 64, (1 << 20) + 1, (16 << 20) - 64]) {
      await sender.call('send', { to: 'big-sink@beta', count: 1, size, start: start++ });
    }
    const r = await sink.call('collect', { count: start, timeout: 30_000 });
    assert.equal(r.received, start);
    assert.deepEqual(r.bad, []);
  } finally {
    await mesh.close();
  }
});
