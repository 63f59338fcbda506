/**
 * Regression (hardening #6): the receiving side's credit ledger emptied itself after 65 536
 * destinations; rebuilt from zero, its grants fell below the sender's limits and every stream
 * on the link stopped for good. Credit stays right for any number of destinations, and the
 * ledgers on both sides stay bounded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LEDGER_SWEEP_AT } from '../../src/link/credit.js';
import { Mesh } from '../helpers/mesh.js';

test('a stream keeps its credit while 70 000 other destinations come and go; ledgers stay bounded', { timeout: 120_000 }, async () => {
  const mesh = await Mesh.start();
  try {
    const streamer = await mesh.worker('alpha', 'streamer');
    const sprayer = await mesh.worker('alpha', 'sprayer', { quiet: true });
    const sink = await mesh.worker('beta', 'sink');
    await mesh.waitForRemoteName('alpha', 'sink');
    const each = 20_000;
    // A first part of the stream, so the sink's ledgers on both sides have history.
    await streamer.call('send', { to: 'sink@beta', count: each, size: 512 });
    // Then 70 000 destinations, each new to both proxies (unknown names: each answered with an error).
    const names = 70_000;
    await sprayer.call('sendToMany', { prefix: 'n', count: names, node: 'beta' });
    // The stream goes on, needing many more grants.
    await streamer.call('send', { to: 'sink@beta', count: 2 * each, size: 512, start: each });
    const r = await sink.call('collect', { count: 3 * each, timeout: 60_000 });
    assert.equal(r.received, 3 * each);
    assert.deepEqual(r.bad, []);
    // Every one of the 70 000 was answered: nothing lost silently.
    for (;;) {
      const u = await sprayer.call('undeliverable');
      if ((u.SLOTLINK_ERR_NO_ROUTE ?? 0) >= names) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const [sa, sb] = await Promise.all([mesh.status('alpha'), mesh.status('beta')]);
    const bound = 3 * LEDGER_SWEEP_AT;
    for (const [side, s] of [['alpha', sa], ['beta', sb]] as const) {
      const { out, in: inbound } = s.links[0]!.creditLedgers;
      assert.ok(out <= bound && inbound <= bound, `${side}: ${out} ledgers out, ${inbound} in (bound ${bound})`);
    }
  } finally {
    await mesh.close();
  }
});
