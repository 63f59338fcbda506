/**
 * Conformance: kill -9 of a client mid-stream, for every client. The proxy reclaims its slot
 * and withdraws its name at once; the name can be registered again right away; what it had
 * committed before dying still arrives, whole and in order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestStatus } from '../../src/client/registration.js';
import type { ProxyStats } from '../../src/proxy/stats.js';
import { KINDS } from './driver.js';
import { Host } from './rig.js';

for (const kind of KINDS) {
  test(`${kind}: kill -9 mid-stream frees the name at once`, async () => {
    const host = await Host.start();
    try {
      const sink = await host.worker('node', 'sink');
      const victim = await host.worker(kind, `victim-${kind}`);
      await victim.call('sendForever', { to: 'sink', size: 256, report: 5000 });
      const progress = await victim.waitFor((e) => e.event === 'progress');
      const closed = host.proxy.waitForLog((l) => l.includes('"slot closed"') && l.includes(`"victim-${kind}"`));
      await victim.kill('SIGKILL');
      await closed;

      const status = (await requestStatus(host.socket)) as ProxyStats;
      assert.equal(status.directory.some((d) => d.name === `victim-${kind}`), false, 'name withdrawn');
      const again = await host.worker(kind, `victim-${kind}`, { respond: 'echo' });
      const asker = await host.worker('node', 'asker');
      assert.equal((await asker.call('request', { to: `victim-${kind}`, data: 'back' })).reply, 'back');
      await again.end();

      const r = await sink.call('collect', { count: progress.sent as number });
      assert.deepEqual(r.bad, [], 'what the victim committed arrived whole and in order');
      assert.ok(r.received >= (progress.sent as number), `${r.received} of at least ${progress.sent} arrived`);
    } finally {
      await host.close();
    }
  });
}
