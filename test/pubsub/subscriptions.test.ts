/** Subscriptions through one real proxy: iteration, unsubscribe, several per endpoint, refusals, hostile input. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect } from '../../src/client/connect.js';
import type { Endpoint } from '../../src/client/endpoint.js';
import { ControlOp, MAX_SUBSCRIPTIONS } from '../../src/contract/registration.js';
import { RecordKind } from '../../src/slot/record.js';
import { Rig } from '../helpers/rig.js';

let rig: Rig;
let pub: Endpoint;
before(async () => {
  rig = await Rig.start();
  pub = await connect({ name: 'publisher', socket: rig.socket });
});
after(async () => {
  await pub.close();
  await rig.close();
});

async function take(sub: AsyncIterable<{ subject: string; data: Buffer; kind: string; from: string }>, n: number) {
  const got: Array<{ subject: string; text: string; kind: string; from: string }> = [];
  if (n === 0) return got;
  for await (const m of sub) {
    got.push({ subject: m.subject, text: m.data.toString(), kind: m.kind, from: m.from });
    if (got.length === n) break;
  }
  return got;
}

test('a subscription iterates over what matches; two that match get one copy each; unsubscribe ends it', async () => {
  const ep = await connect({ name: 'watcher', socket: rig.socket });
  try {
    const all = ep.subscribe('news.>');
    const sport = ep.subscribe('news.sport');
    await Promise.all([all.ready, sport.ready]);
    await pub.publish('news.sport', 'goal');
    await pub.publish('news.weather', 'rain');
    await pub.publish('gossip', 'none of your business');
    assert.deepEqual(await take(sport, 1), [{ subject: 'news.sport', text: 'goal', kind: 'publish', from: '' }]);
    // Breaking out of for-await unsubscribes: the iterator's return() ends it.
    assert.equal(sport.isOpen, false);
    const got = await take(all, 2);
    assert.deepEqual(got.map((m) => `${m.subject} ${m.text}`), ['news.sport goal', 'news.weather rain']);
    const iterating = all[Symbol.asyncIterator]();
    const next = iterating.next();
    all.unsubscribe();
    assert.deepEqual(await next, { value: undefined, done: true }, 'a waiting iterator ends');
    assert.equal(await all.closed, null);
    await pub.publish('news.sport', 'after');
    // The proxy lets both go (the unsubscribes travel on the registration connection, the status on its own).
    while ((await rig.status()).subscriptions.some((s) => s.name === 'watcher')) await new Promise((r) => setTimeout(r, 20));
    assert.equal(ep.stats().subscriptions, 0);
  } finally {
    await ep.close();
  }
});

test('bad subjects are refused before they leave; the proxy refuses past its limit of subscriptions', async () => {
  const ep = await connect({ name: 'greedy', socket: rig.socket });
  try {
    assert.throws(() => ep.subscribe('a..b'), { code: 'SLOTLINK_ERR_INVALID_SUBJECT' });
    assert.throws(() => ep.subscribe('a.>.b'), { code: 'SLOTLINK_ERR_INVALID_SUBJECT' });
    await assert.rejects(ep.publish('a.*', 'x'), { code: 'SLOTLINK_ERR_INVALID_SUBJECT' });
    const subs = Array.from({ length: MAX_SUBSCRIPTIONS }, (_, i) => ep.subscribe(`many.${i}`));
    const extra = ep.subscribe('one.too.many');
    await Promise.all(subs.map((s) => s.ready));
    await assert.rejects(extra.ready, { code: 'SLOTLINK_ERR_TOO_MANY_SUBSCRIPTIONS' });
    await assert.rejects(extra[Symbol.asyncIterator]().next(), { code: 'SLOTLINK_ERR_TOO_MANY_SUBSCRIPTIONS' }, 'its iterator says why');
    // The endpoint goes on: the others work.
    await pub.publish('many.7', 'seven');
    assert.deepEqual((await take(subs[7]!, 1)).map((m) => m.text), ['seven']);
  } finally {
    await ep.close();
  }
});

test('a malformed subscribe frame ends that one slot, naming the field; a PUBLISH record to a wildcard ends it as a bad record', async () => {
  const bad = await connect({ name: 'bad-frame', socket: rig.socket });
  (bad as unknown as { attachment: { control(f: unknown): void } }).attachment.control({ op: ControlOp.SUBSCRIBE, id: 0, subject: 'a' });
  const why = await bad.closed;
  assert.equal(why?.code, 'SLOTLINK_ERR_REGISTRATION');
  assert.match(why!.message, /subscribe: id 0 is not an integer 1\.\.4294967295/);

  const hostile = await connect({ name: 'bad-record', socket: rig.socket });
  const outbox = (hostile as unknown as { outbox: { put(k: number, a: Uint8Array, id: number, b: Uint8Array): Promise<void> } }).outbox;
  await outbox.put(RecordKind.PUBLISH, Buffer.from('prices.*'), 0, Buffer.from('x'));
  const reason = await hostile.closed;
  assert.equal(reason?.code, 'SLOTLINK_ERR_BAD_RECORD');
  assert.match(reason!.message, /PUBLISH to "prices\.\*": not a subject: byte 7 is "\*", a wildcard/);
  // Everyone else goes on.
  const ep = await connect({ name: 'fine', socket: rig.socket });
  try {
    const sub = ep.subscribe('still.works');
    await sub.ready;
    await pub.publish('still.works', 'yes');
    assert.deepEqual((await take(sub, 1)).map((m) => m.text), ['yes']);
  } finally {
    await ep.close();
  }
});
