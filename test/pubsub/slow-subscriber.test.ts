/**
 * A subscriber that falls behind, under each policy: `block` holds its publisher back and
 * loses nothing; `drop-oldest` holds nobody back, drops the oldest (in the client, or at the
 * proxy when the process stops reading its slot) and counts every drop where the subscriber,
 * the proxy's status and its metrics see it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLI_PATH } from '../../src/cli/proxy-process.js';
import { after, before, test } from 'node:test';
import { Rig } from '../helpers/rig.js';
import { startPubsubWorker, type Worker } from '../helpers/worker.js';

let rig: Rig;
const workers: Worker[] = [];

async function pubsubWorker(name: string, extra: Record<string, unknown> = {}): Promise<Worker> {
  const w = await startPubsubWorker();
  workers.push(w);
  await w.call('connect', { socket: rig.socket, name, ...extra });
  return w;
}

async function until(what: () => Promise<boolean>): Promise<void> {
  while (!(await what())) await new Promise((r) => setTimeout(r, 20));
}

before(async () => {
  rig = await Rig.start(['--metrics', '127.0.0.1:0']);
});

after(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await rig.close();
});

test('block: a subscriber that stops taking holds its publisher back, and then receives everything in order', async () => {
  const sub = await pubsubWorker('slow-blocking', { maxInboxBytes: 64 * 1024 });
  await sub.call('subscribe', { subject: 'feed.block', key: 'f', paused: true });
  const pub = await pubsubWorker('pub-block');
  let done = false;
  const publishing = pub.call('publish', { subject: 'feed.block', count: 2000, size: 4096, publisher: 1 }).then(() => (done = true));
  // The publisher's slot is paused for the subscriber: it waits, it is not refused.
  await until(async () => (await rig.status()).slots.some((s) => s.name === 'pub-block' && s.backPressureWaits > 0));
  assert.equal(done, false, 'the publisher cannot finish while its subscriber holds everything');
  await sub.call('resume', { key: 'f' });
  await publishing;
  const r = await sub.call('received', { key: 'f', count: 2000 });
  // Regression: a publication the proxy queued and wrote before enqueue() returned ended the subscriber's slot.
  assert.deepEqual(sub.events.filter((e) => e.event === 'close'), [], 'the subscriber is still registered');
  assert.deepEqual(r.bad, []);
  assert.equal(r.received, 2000);
  assert.equal(r.dropped, 0);
});

test('drop-oldest in the client: the publisher goes on; the subscriber keeps the newest and counts the rest', async () => {
  const sub = await pubsubWorker('slow-dropping');
  await sub.call('subscribe', { subject: 'feed.drop', key: 'f', paused: true, policy: 'drop-oldest', maxQueuedBytes: 64 * 1024 });
  const pub = await pubsubWorker('pub-drop');
  await pub.call('publish', { subject: 'feed.drop', count: 2000, size: 1024, publisher: 1 }); // finishes: nobody holds it back
  await sub.waitFor((e) => e.event === 'slow');
  await sub.call('resume', { key: 'f' });
  const r = await sub.call('received', { key: 'f', count: 2000, countDropped: true });
  assert.deepEqual(r.bad, [], 'what arrives is still in order');
  assert.ok(r.dropped > 0, 'some were dropped');
  assert.equal(r.received + r.dropped, 2000, 'every publication was received or counted as dropped');
  assert.equal(r.skipped, r.dropped, 'the ones missing are the ones counted');
  assert.equal(r.last[1], 1999, 'the newest is kept');
});

test('drop-oldest at the proxy: a subscriber that stops reading its slot costs its publisher nothing; the drops reach it, status and metrics', async () => {
  const sub = await pubsubWorker('stuck-dropping');
  await sub.call('subscribe', { subject: 'feed.stuck', key: 'f', policy: 'drop-oldest', maxQueuedBytes: 64 * 1024 });
  await sub.call('reading', { on: false });
  const pub = await pubsubWorker('pub-stuck');
  const published = (await rig.status()).publications.published;
  await pub.call('publish', { subject: 'feed.stuck', count: 3000, size: 1024, publisher: 1 });
  // The publisher is done once all is in its slot; the proxy reads a slot a slice per turn, so
  // wait until it has routed (and dropped) every one before comparing status and metrics.
  await until(async () => (await rig.status()).publications.published - published === 3000);
  const s = (await rig.status()).subscriptions.find((x) => x.name === 'stuck-dropping')!;
  assert.equal(s.policy, 'drop-oldest');
  assert.ok(s.dropped > 0, 'the proxy dropped the oldest');
  assert.ok(s.queuedBytes <= 64 * 1024, `what waits stays within the bound (${s.queuedBytes})`);
  const metrics = await (await fetch(`http://127.0.0.1:${rig.proxy.ready.metricsPort}/metrics`)).text();
  assert.match(metrics, new RegExp(`^slotlink_subscription_dropped_messages_total\\{node="test",name="stuck-dropping",subject="feed.stuck"\\} ${s.dropped}$`, 'm'));
  const shown = spawnSync(process.execPath, [CLI_PATH, 'status', '--socket', rig.socket], { encoding: 'utf8', timeout: 30_000 });
  assert.match(shown.stdout, new RegExp(`stuck-dropping~\\S+ +1 +feed\\.stuck +drop-oldest +\\d+ +${s.dropped} `), 'slotlink status lists the subscription and its drops');
  await sub.call('reading', { on: true });
  const r = await sub.call('received', { key: 'f', count: 3000, countDropped: true });
  assert.deepEqual(r.bad, []);
  assert.equal(r.received + r.dropped, 3000, 'the proxy told the subscriber of every drop');
  assert.ok(r.dropped >= s.dropped);
  assert.equal(r.last[1], 2999);
});
