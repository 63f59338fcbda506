/**
 * Publish/subscribe across two real proxies: every publication reaches every matching
 * subscriber on both hosts, in order per publisher, and crosses the link once however many
 * subscribers the other host has (the proxies' counters).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Mesh } from '../helpers/mesh.js';
import { startPubsubWorker, type Worker } from '../helpers/worker.js';
import type { Side } from '../../src/cli/mesh.js';

const COUNT = 10_000;
const PATTERNS = ['prices.>', 'prices.*', 'prices.eu'];

let mesh: Mesh;
const workers: Worker[] = [];

async function pubsubWorker(side: Side, name: string): Promise<Worker> {
  const w = await startPubsubWorker();
  workers.push(w);
  await w.call('connect', { socket: mesh.socket(side), name });
  return w;
}

before(async () => {
  mesh = await Mesh.start({ security: () => ['--insecure-plaintext'] });
});

after(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await mesh.close();
});

test('two publishers, three subscribers on each host: each publication reaches all six once, in order, and crosses the link once', async () => {
  const subscribers: Worker[] = [];
  for (const side of ['alpha', 'beta'] as const) {
    for (const [i, pattern] of PATTERNS.entries()) {
      const w = await pubsubWorker(side, `sub-${side}-${i}`);
      assert.ok(typeof (await w.call('subscribe', { subject: pattern, key: 's' })).id === 'number');
      subscribers.push(w);
    }
  }
  for (const p of PATTERNS) await Promise.all([mesh.waitForRemoteSubject('alpha', p), mesh.waitForRemoteSubject('beta', p)]);
  const before = await Promise.all([mesh.status('alpha'), mesh.status('beta')]);

  const pubA = await pubsubWorker('alpha', 'pub-alpha');
  const pubB = await pubsubWorker('beta', 'pub-beta');
  await Promise.all([pubA.call('publish', { subject: 'prices.eu', count: COUNT, publisher: 1 }), pubB.call('publish', { subject: 'prices.eu', count: COUNT, publisher: 2 })]);

  for (const w of subscribers) {
    const r = await w.call('received', { key: 's', count: 2 * COUNT });
    assert.deepEqual(r.bad, [], 'in order per publisher');
    assert.equal(r.received, 2 * COUNT, 'every publication of both publishers, once');
    assert.deepEqual(r.last, { 1: COUNT - 1, 2: COUNT - 1 });
    assert.deepEqual(r.subjects, ['prices.eu']);
  }

  const [alpha, beta] = await Promise.all([mesh.status('alpha'), mesh.status('beta')]);
  // Each publication went over the link once, however many subscribers the other side has.
  assert.equal(alpha.publications.sentToPeers - before[0].publications.sentToPeers, COUNT);
  assert.equal(beta.publications.sentToPeers - before[1].publications.sentToPeers, COUNT);
  assert.equal(beta.publications.received - before[1].publications.received, COUNT);
  assert.equal(alpha.publications.received - before[0].publications.received, COUNT);
  assert.equal(alpha.links[0]!.messagesOut - before[0].links[0]!.messagesOut, COUNT);
  assert.equal(beta.links[0]!.messagesIn - before[1].links[0]!.messagesIn, COUNT);
  // ... and was copied into the three local subscribers' slots on each side.
  assert.equal(alpha.publications.delivered - before[0].publications.delivered, 3 * 2 * COUNT);
  assert.equal(beta.publications.delivered - before[1].publications.delivered, 3 * 2 * COUNT);
  assert.equal(alpha.subscriptions.length, 3);
  for (const s of alpha.subscriptions) assert.equal(s.delivered, 2 * COUNT);
});

test('a publication nobody subscribed to goes nowhere, counted; one to a subject only a peer has crosses the link alone', async () => {
  const pub = await pubsubWorker('alpha', 'pub-lonely');
  const sub = await pubsubWorker('beta', 'sub-orders');
  await sub.call('subscribe', { subject: 'orders.*.created', key: 'o' });
  await mesh.waitForRemoteSubject('alpha', 'orders.*.created');
  const before = await mesh.status('alpha');
  await pub.call('publish', { subject: 'nobody.listens', count: 100 });
  await pub.call('publish', { subject: ['orders.eu.created', 'orders.eu.deleted', 'orders.us.created'], count: 300, publisher: 7 });
  const r = await sub.call('received', { key: 'o', count: 200 });
  assert.equal(r.received, 200, 'the two subjects that match, 100 each');
  assert.deepEqual(r.subjects, ['orders.eu.created', 'orders.us.created']);
  const after = await mesh.status('alpha');
  assert.equal(after.publications.published - before.publications.published, 400);
  assert.equal(after.publications.unheard - before.publications.unheard, 200, 'nobody.listens and orders.eu.deleted');
  assert.equal(after.publications.sentToPeers - before.publications.sentToPeers, 200);
});

test('publications of every size cross the link intact: within a cell (sent from the record itself) and larger than a cell (reassembled, then copied)', async () => {
  const pub = await pubsubWorker('alpha', 'pub-sizes');
  const subs = [await pubsubWorker('beta', 'sub-sizes-beta'), await pubsubWorker('alpha', 'sub-sizes-alpha')];
  for (const s of subs) await s.call('subscribe', { subject: 'sizes.*', key: 'z' });
  await mesh.waitForRemoteSubject('alpha', 'sizes.*');
  const sizes = [8, 64, 4096, 65_000, 70_000, 300_000];
  for (const [i, size] of sizes.entries()) await pub.call('publish', { subject: `sizes.s${i}`, count: 5, size, publisher: 3, start: 5 * i });
  for (const s of subs) {
    const r = await s.call('received', { key: 'z', count: 5 * sizes.length });
    assert.equal(r.received, 5 * sizes.length);
    assert.deepEqual(r.bad, [], 'in order');
    assert.deepEqual(r.sizes, sizes);
    assert.equal(r.intact, true, 'every byte as published');
  }
});
