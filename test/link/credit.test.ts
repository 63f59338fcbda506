/**
 * Flow control without head-of-line blocking: a stopped receiver on one host makes only
 * its own senders wait (their slots stay full, send() waits) while another pair on the
 * same link keeps going; memory stays within the credit window.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mesh } from '../helpers/mesh.js';

test('a stopped receiver slows only its own senders; the other pair on the same link keeps its speed', { timeout: 120_000 }, async () => {
  const window = 256 * 1024;
  const mesh = await Mesh.start({ args: ['--credit-window', String(window), '--cells', '4', '--cell-bytes', '16384'] });
  try {
    const stopped = await mesh.worker('beta', 'stopped', { consume: false, maxInboxBytes: 32 * 1024 });
    const fast = await mesh.worker('beta', 'fast');
    const toStopped = await mesh.worker('alpha', 'to-stopped');
    const toFast = await mesh.worker('alpha', 'to-fast');
    const n = 8000; // 8 MB: far beyond every buffer and window on the way
    const blocked = toStopped.call('send', { to: 'stopped@beta', count: n, size: 1000 });
    let blockedDone = false;
    void blocked.then(() => (blockedDone = true));
    // Wait until the stopped receiver's sender is held back by credit.
    for (;;) {
      const s = await mesh.status('alpha');
      if (s.links[0]!.creditStalls > 0 && s.slots.find((x) => x.name === 'to-stopped')!.readingPaused) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    // The other pair streams through the same link meanwhile.
    await toFast.call('send', { to: 'fast@beta', count: n, size: 1000 });
    const r = await fast.call('collect', { count: n });
    assert.equal(r.received, n);
    assert.deepEqual(r.bad, []);
    assert.equal(blockedDone, false, 'the stopped receiver\'s sender is still waiting');

    const [sa, sb] = await Promise.all([mesh.status('alpha'), mesh.status('beta')]);
    const queued = sb.slots.find((x) => x.name === 'stopped')!.queuedBytes;
    assert.ok(queued <= window + 16384, `beta holds at most one credit window for the stopped receiver (${queued} bytes)`);
    assert.ok(sa.links[0]!.unackedBytes <= 2 * window, `alpha's resend buffer stays small (${sa.links[0]!.unackedBytes} bytes)`);
    assert.equal(sa.slots.find((x) => x.name === 'to-stopped')!.readingPaused, true, 'alpha holds off reading the blocked sender');
    assert.equal(sa.slots.find((x) => x.name === 'to-fast')!.readingPaused, false);

    // The receiver reads again: everything arrives, in order.
    await stopped.call('resume');
    await blocked;
    const all = await stopped.call('collect', { count: n });
    assert.equal(all.received, n);
    assert.deepEqual(all.bad, []);
  } finally {
    await mesh.close();
  }
});
