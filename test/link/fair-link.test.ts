/**
 * The link's scheduler (src/link/stream-scheduler.ts, pipe-window.ts): only a bounded pipe
 * of written, unacknowledged bytes lies between the scheduler and the peer, and a request
 * that arrives while a bulk stream waits on the link leaves after at most one quantum of
 * that stream, not after its queue. The bulk stream keeps its order, each message once.
 *
 * The peer is played by the test (it acknowledges only when told), so what the proxy writes
 * and in which order is seen exactly; the sender and requester are real processes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QUANTUM_BYTES } from '../../src/link/stream-scheduler.js';
import { RecordKind } from '../../src/slot/record.js';
import { FakePeer } from '../helpers/fake-peer.js';
import { checkPayload } from '../helpers/payload.js';
import { Rig } from '../helpers/rig.js';

const BULK_BYTES = 1000;

async function until(what: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await what())) await new Promise((r) => setTimeout(r, 10));
}

test('a request leaves after at most one quantum of a bulk stream waiting on the link; the pipe ahead of it is bounded', { timeout: 60_000 }, async () => {
  const rig = await Rig.start(['--listen', '127.0.0.1:0', '--insecure-plaintext']);
  let peer: FakePeer | null = null;
  try {
    peer = await FakePeer.connect(rig.proxy.ready.linkPort!, 'beta');
    peer.announce(['sink', 'resp']);
    await until(async () => (await rig.status()).remoteDirectory.some((d) => d.names.includes('resp')));
    const link = async () => (await rig.status()).links.find((l) => l.peer === 'beta')!;
    const bulkBytes = () => peer!.received.filter((m) => m.dst === 'sink').reduce((n, m) => n + m.payload.length, 0);

    // The peer acknowledges nothing: the pipe fills, then the stream, then its sender is paused.
    const bulk = await rig.worker('bulk', { quiet: true });
    const asker = await rig.worker('asker');
    await bulk.call('sendForever', { to: 'sink@beta', size: BULK_BYTES, report: 1 });
    await until(async () => {
      const s = await rig.status();
      const l = s.links.find((x) => x.peer === 'beta')!;
      return s.slots.find((x) => x.name === 'bulk')!.readingPaused && l.waitingBytes > 0 && bulkBytes() === l.bytesOut;
    });
    const full = await link();
    assert.ok(full.waitingBytes > 8 * QUANTUM_BYTES, `the bulk stream has more than a few quanta waiting (${full.waitingBytes} bytes)`);
    assert.ok(bulkBytes() <= full.pipeBytes + BULK_BYTES, `written and unacknowledged: ${bulkBytes()} bytes, pipe ${full.pipeBytes}`);
    assert.ok(full.pipeBytes < 1 << 20, `the pipe (${full.pipeBytes} bytes) is smaller than a credit window: the scheduler, not the socket, holds the rest`);

    // A request arrives while the bulk waits; then the peer acknowledges everything.
    const before = peer.received.length;
    // Unanswered (the played peer has no responder); it ends with the rig.
    asker.call('tryRequest', { to: 'resp@beta', data: 'are you there', timeout: 20_000 }).catch(() => {});
    await until(async () => (await link()).waitingMessages > full.waitingMessages || peer!.received.some((m) => m.dst === 'resp'));
    peer.ackAll();
    await peer.until(() => peer!.received.some((m) => m.dst === 'resp'));
    const at = peer.received.findIndex((m) => m.dst === 'resp');
    const ahead = peer.received.slice(before, at).filter((m) => m.dst === 'sink').reduce((n, m) => n + m.payload.length, 0);
    assert.ok(ahead <= QUANTUM_BYTES, `${ahead} bytes of the bulk stream left between the request's arrival and its departure (quantum ${QUANTUM_BYTES})`);
    assert.equal(peer.received[at]!.kind, RecordKind.REQUEST);

    // The bulk stream goes on in order, each message once, while the peer keeps acknowledging.
    const seen = peer.received.length;
    peer.autoAck = true;
    peer.ackAll();
    await peer.until(() => peer!.received.length > seen + 200);
    const sink = peer.received.filter((m) => m.dst === 'sink');
    sink.forEach((m, i) => assert.equal(checkPayload(m.payload, i), null, `bulk message ${i}`));
  } finally {
    peer?.close();
    await rig.close();
  }
});
