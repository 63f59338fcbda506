/** kill -9 of a process in the middle of writing: the proxy and every other process go on. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestStatus } from '../src/client/registration.js';
import type { ProxyStats } from '../src/proxy/stats.js';
import { Rig } from './helpers/rig.js';

test('kill -9 of a process mid-write: its slot and name are reclaimed at once, others are unaffected', async () => {
  const rig = await Rig.start();
  try {
    const sink = await rig.worker('sink');
    const a = await rig.worker('steady-a');
    const b = await rig.worker('steady-b');
    const victim = await rig.worker('victim');
    await victim.call('sendForever', { to: 'sink', size: 256, report: 20_000 });
    const progress = await victim.waitFor((e) => e.event === 'progress'); // it is writing as fast as it can
    const closed = rig.proxy.waitForLog((l) => l.includes('"slot closed"') && l.includes('"victim"'));
    await victim.kill('SIGKILL');
    await closed;

    const status = (await requestStatus(rig.socket)) as ProxyStats;
    assert.equal(status.slots.some((s) => s.name === 'victim'), false, 'slot reclaimed');
    assert.equal(status.directory.some((d) => d.name === 'victim'), false, 'name withdrawn');

    // The name is free again, and sending to the dead process's name is a clear error.
    const err = await a.call('request', { to: 'victim', timeout: 2000 }).catch((e: Error & { code: string }) => e);
    assert.equal((err as { code: string }).code, 'SLOTLINK_ERR_NO_ROUTE');
    const again = await rig.worker('victim', { echo: true });
    assert.equal((await a.call('request', { to: 'victim', data: 'back' })).reply, 'back');

    // The others never noticed.
    await a.call('send', { to: 'steady-b', count: 5000, size: 100 });
    await b.call('send', { to: 'steady-a', count: 5000, size: 100 });
    const [ra, rb] = await Promise.all([a.call('collect', { count: 5000 }), b.call('collect', { count: 5000 })]);
    assert.deepEqual([ra.bad, rb.bad], [[], []]);
    assert.equal(ra.received + rb.received, 10_000);
    // What the victim had committed to its slot before dying arrived whole and in order.
    const rs = await sink.call('collect', { count: progress.sent });
    assert.deepEqual(rs.bad, []);
    assert.ok(rs.received >= (progress.sent as number), `${rs.received} of at least ${progress.sent} arrived`);
    await again.kill();
  } finally {
    await rig.close();
  }
});
