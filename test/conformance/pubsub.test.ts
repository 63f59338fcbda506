/**
 * Conformance: publish/subscribe (docs/slot-layout.md §8) between every pair of clients
 * (Node, C, Python), publisher and subscriber in different processes, through one real
 * proxy and across two linked ones. A subscriber with two wildcard subscriptions that both
 * match gets one copy per subscription, exactly the matching publications, in order; after
 * unsubscribe nothing more comes out of that one; a pattern or subject that breaks the rules
 * is refused with SLOTLINK_ERR_INVALID_SUBJECT by every client.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KINDS, PAIRS, type Driver } from './driver.js';
import { Host, TwoHosts } from './rig.js';

const COUNT = 500;

/** Five subjects published in turn: `p.*.new` matches the 1st and 5th, `p.>` also the 2nd. */
function subjectsOf(p: string): string[] {
  return [`${p}.eu.new`, `${p}.eu.old`, p, `other.${p}.new`, `${p}.us.new`];
}

/** The log a subscription should have: [subject, publisher, sequence] of the matching publications, in order. */
function expected(p: string, publisher: number, from: number, to: number, match: (i: number) => boolean): Array<[string, number, number]> {
  const subjects = subjectsOf(p);
  const out: Array<[string, number, number]> = [];
  for (let i = from; i < to; i++) if (match(i)) out.push([subjects[i % subjects.length]!, publisher, i]);
  return out;
}

const star = (i: number) => i % 5 === 0 || i % 5 === 4;
const rest = (i: number) => star(i) || i % 5 === 1;

async function publications(d: Driver, key: string, count = 0) {
  return d.call('publications', { key, count });
}

let host: Host;
let hosts: TwoHosts;
before(async () => {
  [host, hosts] = await Promise.all([Host.start(), TwoHosts.start()]);
});
after(() => Promise.all([host?.close(), hosts?.close()]));

for (const [a, b] of PAIRS) {
  test(`${a} publishes, ${b} subscribes: wildcards, a copy per matching subscription, in order; nothing after unsubscribe`, async () => {
    const p = `conf${a}${b}`;
    const sub = await host.worker(b, `sub-${a}-${b}`);
    const pub = await host.worker(a, `pub-${a}-${b}`);
    const ids = [(await sub.call('subscribe', { subject: `${p}.*.new`, key: 'star' })).id, (await sub.call('subscribe', { subject: `${p}.>`, key: 'rest' })).id];
    assert.notEqual(ids[0], ids[1], 'two subscriptions, two ids');

    await pub.call('publish', { subject: subjectsOf(p).join(' '), count: COUNT, publisher: 1 });
    const s = await publications(sub, 'star', (COUNT * 2) / 5);
    const r = await publications(sub, 'rest', (COUNT * 3) / 5);
    assert.deepEqual(s.log, expected(p, 1, 0, COUNT, star), `${p}.*.new: exactly the matching publications, in order`);
    assert.deepEqual(r.log, expected(p, 1, 0, COUNT, rest), `${p}.>: exactly the matching publications, in order`);
    assert.deepEqual([s.bad, r.bad], [[], []]);

    await sub.call('unsubscribe', { key: 'star' });
    await pub.call('publish', { subject: subjectsOf(p).join(' '), count: COUNT, publisher: 1, start: COUNT });
    // Both subscriptions share the subscriber's slot, in publication order: once `rest` has
    // the second run, whatever the proxy wrote for `star` meanwhile has been read, and dropped.
    const r2 = await publications(sub, 'rest', (COUNT * 6) / 5);
    assert.deepEqual(r2.log, expected(p, 1, 0, 2 * COUNT, rest), `${p}.>: the second run too`);
    assert.equal((await publications(sub, 'star')).received, (COUNT * 2) / 5, 'nothing more after unsubscribe');
    await Promise.all([sub.end(), pub.end()]);
  });
}

for (const kind of KINDS) {
  test(`${kind}: a pattern or subject that breaks the rules is refused with SLOTLINK_ERR_INVALID_SUBJECT`, async () => {
    const d = await host.worker(kind, `rules-${kind}`);
    for (const subject of ['', 'a..b', '.a', 'a.', 'a.>.b', 'a.b*', 'a.>b', 'x'.repeat(256)])
      assert.equal((await d.callError('subscribe', { subject, key: `bad ${subject}` })).code, 'SLOTLINK_ERR_INVALID_SUBJECT', `subscribe to ${JSON.stringify(subject)}`);
    for (const subject of ['', 'a.*', 'a.>', 'a..b'])
      assert.equal((await d.callError('publish', { subject })).code, 'SLOTLINK_ERR_INVALID_SUBJECT', `publish to ${JSON.stringify(subject)}`);
    // What the rules allow is taken: the longest subject, every printable character but the wildcards.
    await d.call('subscribe', { subject: `${'x'.repeat(251)}.>`, key: 'long' });
    await d.call('publish', { subject: `${'x'.repeat(251)}.!#~`, count: 1 });
    assert.deepEqual((await publications(d, 'long', 1)).subjects, [`${'x'.repeat(251)}.!#~`]);
    await d.end();
  });
}

for (const [a, b] of PAIRS) {
  test(`${a}@alpha publishes, ${b}@beta subscribes: across the link, in order`, async () => {
    const p = `far${a}${b}`;
    const sub = await hosts.worker(b, 'beta', `far-sub-${a}-${b}`);
    await sub.call('subscribe', { subject: `${p}.>`, key: 'rest' });
    await sub.call('subscribe', { subject: `${p}.*.new`, key: 'star' });
    // alpha sends a publication over the link only once beta has announced a matching pattern.
    await Promise.all([hosts.mesh.waitForRemoteSubject('alpha', `${p}.>`), hosts.mesh.waitForRemoteSubject('alpha', `${p}.*.new`)]);
    const pub = await hosts.worker(a, 'alpha', `far-pub-${a}-${b}`);
    await pub.call('publish', { subject: subjectsOf(p).join(' '), count: COUNT, publisher: 2 });
    const r = await publications(sub, 'rest', (COUNT * 3) / 5);
    const s = await publications(sub, 'star', (COUNT * 2) / 5);
    assert.deepEqual(r.log, expected(p, 2, 0, COUNT, rest));
    assert.deepEqual(s.log, expected(p, 2, 0, COUNT, star));
    await Promise.all([sub.end(), pub.end()]);
  });
}
