/**
 * The link's scheduler (src/link/stream-scheduler.ts, pipe-window.ts): only a bounded pipe
 * of written, unacknowledged bytes lies between the scheduler and the peer; a request that
 * arrives while a bulk stream waits on the link leaves at once (its stream has nothing
 * waiting: link.ts, mayExpress), past the pipe by at most one quantum; requests beyond that
 * wait in their stream and leave with at most one quantum of the bulk between two. The bulk
 * stream keeps its order, each message once.
 *
 * The peer is played by the test (it acknowledges only when told), so what the proxy writes
 * and in which order is seen exactly; the sender and requester are real processes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXPRESS_BYTES } from '../../src/link/pipe-window.js';
import { QUANTUM_BYTES } from '../../src/link/stream-scheduler.js';
import { RecordKind } from '../../src/slot/record.js';
import { FakePeer } from '../helpers/fake-peer.js';
import { checkPayload } from '../helpers/payload.js';
import { Rig } from '../helpers/rig.js';

const BULK_BYTES = 1000;
const REQUEST_BYTES = 900;

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(what: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await what())) await new Promise((r) => setTimeout(r, 10));
}

test('a request leaves past a bulk stream waiting on the link, the pipe ahead of it bounded; requests beyond one quantum take turns with the bulk', { timeout: 60_000 }, async () => {
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

    // A request arrives while the bulk waits and the peer acknowledges nothing: its stream has
    // nothing waiting, so it leaves at once, past the full pipe by at most one quantum.
    const before = peer.received.length;
    // Unanswered (the played peer has no responder); it ends with the rig.
    asker.call('tryRequest', { to: 'resp@beta', data: 'are you there', timeout: 20_000 }).catch(() => {});
    await within(10_000, 'the request left while the pipe was full', peer.until(() => peer!.received.some((m) => m.dst === 'resp')));
    const at = peer.received.findIndex((m) => m.dst === 'resp');
    assert.equal(peer.received[at]!.kind, RecordKind.REQUEST);
    assert.equal(peer.received.slice(before, at).filter((m) => m.dst === 'sink').length, 0, 'no bulk left between the request\'s arrival and its departure');
    assert.equal((await link()).messagesExpressed, 1);

    // Many requests at once: those within the allowance leave, the rest wait in their stream
    // (written and unacknowledged stays within the pipe and one quantum); once the peer
    // acknowledges, they take turns with the bulk: at most one quantum of it between two.
    const many = 24;
    for (let i = 0; i < many; i++) asker.call('tryRequest', { to: 'resp@beta', data: `r${i} `.padEnd(REQUEST_BYTES, '.'), timeout: 20_000 }).catch(() => {});
    await until(async () => {
      const l = await link();
      return l.messagesExpressed + l.waitingMessages >= 1 + many + full.waitingMessages;
    });
    const waiting = await link();
    // Nothing was acknowledged yet: everything received is in the pipe (payload; the window also counts headers).
    const written = peer.received.reduce((n, m) => n + m.payload.length, 0);
    assert.ok(waiting.messagesExpressed > 1 && waiting.messagesExpressed < 1 + many, `some requests left at once, not all (${waiting.messagesExpressed - 1} of ${many})`);
    assert.ok(written <= waiting.pipeBytes + EXPRESS_BYTES, `written and unacknowledged: ${written} bytes, pipe ${waiting.pipeBytes} + ${EXPRESS_BYTES}`);
    peer.autoAck = true;
    peer.ackAll();
    await peer.until(() => peer!.received.filter((m) => m.dst === 'resp').length === 1 + many);
    const requests = peer.received.flatMap((m, i) => (m.dst === 'resp' ? [i] : []));
    for (let k = 1; k < requests.length; k++) {
      const between = peer.received.slice(requests[k - 1]! + 1, requests[k]).reduce((n, m) => n + m.payload.length, 0);
      assert.ok(between <= QUANTUM_BYTES, `${between} bytes of bulk between requests ${k - 1} and ${k} (quantum ${QUANTUM_BYTES})`);
    }

    // The bulk stream goes on in order, each message once, while the peer keeps acknowledging.
    const seen = peer.received.length;
    await peer.until(() => peer!.received.length > seen + 200);
    const sink = peer.received.filter((m) => m.dst === 'sink');
    sink.forEach((m, i) => assert.equal(checkPayload(m.payload, i), null, `bulk message ${i}`));
  } finally {
    peer?.close();
    await rig.close();
  }
});
