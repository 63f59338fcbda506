/**
 * Conformance: the proxy dies (kill -9) while a client of each kind waits for a reply. The
 * registration connection's end is the endpoint's end: the waiting request fails at once
 * with SLOTLINK_ERR_CLOSED (not at its timeout), and the client reports its end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KINDS } from './driver.js';
import { Host } from './rig.js';

for (const kind of KINDS) {
  test(`${kind}: kill -9 of the proxy fails a waiting request with SLOTLINK_ERR_CLOSED`, async () => {
    const host = await Host.start();
    try {
      const silent = await host.worker('node', 'silent'); // counts requests, never answers
      const asker = await host.worker(kind, `asker-${kind}`);
      const waiting = asker.callError('request', { to: 'silent', data: 'anyone?', timeout: 60_000 });
      await silent.call('collect', { count: 1 }); // the request is there, unanswered
      host.proxy.child.kill('SIGKILL');
      const err = await waiting;
      assert.equal(err.code, 'SLOTLINK_ERR_CLOSED', err.message);
      const closed = await asker.waitFor((e) => e.event === 'close');
      assert.equal(closed.code, 'SLOTLINK_ERR_CLOSED');
    } finally {
      await host.close();
    }
  });
}
