/**
 * Regression (hardening #3): what a proxy holds on behalf of one source grew without bound
 * (a process that sent to `~proxy` or to unknown names and never read its slot: 805 MB, then
 * 1.5 GB; a plaintext peer that ignored credit and flooded unknown names: 1.5 GB in 4 s).
 * Everything held for one source is bounded and turns into back pressure on that source.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecordKind } from '../../src/slot/record.js';
import { FakePeer } from '../helpers/fake-peer.js';
import { Mesh, linkPort } from '../helpers/mesh.js';
import { rssBytes } from '../helpers/proc.js';
import { Rig } from '../helpers/rig.js';

const MAX_QUEUED = 256 * 1024;

for (const to of ['~proxy', 'nobody-here']) {
  test(`a process that sends to ${to} and never reads its slot is paused, not buffered`, { timeout: 60_000 }, async () => {
    const rig = await Rig.start(['--max-queued-bytes', String(MAX_QUEUED)]);
    try {
      const w = await rig.worker('deaf', { quiet: true });
      await w.call('stopReading');
      await w.call('sendForever', { to, size: 64, report: 1 });
      // The proxy's answers wait in this process's slot and queue; past the limit it stops reading the process.
      let slot;
      for (;;) {
        const s = await rig.status();
        slot = s.slots.find((x) => x.name === 'deaf')!;
        if (slot.readingPaused) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(slot.queuedBytes <= MAX_QUEUED + 64 * 1024, `queued for it: ${slot.queuedBytes} bytes`);
      const { sent } = await w.call('stopSending', { wait: false });
      const after = (await rig.status()).slots.find((x) => x.name === 'deaf')!;
      assert.equal(after.readingPaused, true, 'still paused: nothing more is taken from it');
      assert.equal(after.messagesIn, slot.messagesIn, 'and nothing more was read');
      assert.ok(sent > after.messagesIn, 'the process holds the rest in its own slot and queue');
      assert.ok(rssBytes(rig.proxy.pid) < 300 * 1024 * 1024, `proxy RSS ${(rssBytes(rig.proxy.pid) / 1e6).toFixed(0)} MB`);
    } finally {
      await rig.close();
    }
  });
}

test('a peer that ignores credit and floods unknown names loses its connection; the proxy stays small and serves its other peer', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start({ security: () => ['--insecure-plaintext'] });
  let mallory: FakePeer | null = null;
  try {
    const rssBefore = rssBytes(mesh.alpha.pid);
    mallory = await FakePeer.connect(linkPort(mesh.alpha), 'mallory');
    mallory.pause(); // reads nothing back: no ACK, no CREDIT, no answers are taken
    const payload = Buffer.alloc(1024, 1);
    let frames = 0;
    let open = true;
    void mallory.closed.then(() => (open = false));
    while (open) {
      for (let i = 0; i < 64; i++) mallory.data('m~1.1@mallory', `nobody${frames++ % 8}`, [{ kind: RecordKind.SEND, payload }]);
      await new Promise((r) => setImmediate(r));
    }
    const log = await mesh.alpha.waitForLog((l) => l.includes('exceed the credit window') || l.includes('exceed its limit'));
    assert.match(log, /DATA frame for \\"nobody\d\\": \d+ units with \d+ already held exceed/);
    assert.ok(frames * payload.length > 1024 * 1024, `it flooded past a credit window (${frames} frames) before the proxy closed it`);
    const grown = rssBytes(mesh.alpha.pid) - rssBefore;
    assert.ok(grown < 150 * 1024 * 1024, `proxy grew by ${(grown / 1e6).toFixed(0)} MB`);
    // The link to beta never noticed.
    const a = await mesh.worker('alpha', 'still');
    await mesh.worker('beta', 'there', { echo: true });
    assert.equal((await a.call('request', { to: 'there@beta', data: 'ok' })).reply, 'ok');
  } finally {
    mallory?.close();
    await mesh.close();
  }
});
