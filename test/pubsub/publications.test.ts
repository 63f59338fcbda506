/**
 * Regression: a publication that finds its subscriber's slot full is queued, and the mailbox
 * may write it before enqueue() returns (the subscriber freed a cell on the other core in
 * between: Mailbox.write() then finds room after all). Its callbacks ran before the queued
 * message was known, threw, and the proxy ended the subscriber's slot ("Cannot access 'p'
 * before initialization"); under bench/pubsub.ts one subscriber in three runs lost its slot.
 * Here the mailbox writes every queued message at once, as it does in that race.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SubscriptionPolicy } from '../../src/contract/registration.js';
import type { Directory } from '../../src/proxy/directory.js';
import { Publications } from '../../src/proxy/publications.js';
import type { RegisteredProcess } from '../../src/proxy/registered-process.js';
import { Subscription } from '../../src/proxy/subscriptions.js';
import { RecordKind, type MessageView } from '../../src/slot/record.js';
import type { Pending } from '../../src/slot/send-queue.js';

function scene(policy: SubscriptionPolicy) {
  const held: unknown[] = [];
  const mailbox = {
    pendingBytes: 0,
    trySend: () => false, // full when tried...
    // ...and room again by the time the message is queued: written before enqueue returns.
    enqueue(_kind: RecordKind, _address: Uint8Array, _requestId: number, _source: Uint8Array, done: () => void): Pending | null {
      done();
      return null; // as Mailbox.enqueue() says of a message it wrote before returning
    },
    cancel: () => false,
  };
  const owner = { closed: false, mailbox, queueGate: { hold: (src: unknown) => held.push(src) } } as unknown as RegisteredProcess;
  const sub = new Subscription(owner, 1, 'prices.eu', policy, 1 << 20);
  const directory = { epoch: 1, subscriptions: { match: () => [sub] }, nodesSubscribedTo: () => [] } as unknown as Directory;
  const publications = new Publications(directory, 256 * 1024, () => assert.fail('nothing is dropped'));
  const buffer = Buffer.from('prices.eu' + 'x'.repeat(64), 'latin1');
  const view: MessageView = { kind: RecordKind.PUBLISH, requestId: 0, buffer, addressStart: 0, addressBytes: 9, payloadStart: 9, payloadBytes: 64 };
  const src = { addressBytes: Buffer.from('pub~0.1@test') } as unknown as RegisteredProcess;
  return { publications, sub, view, src, held };
}

for (const policy of [SubscriptionPolicy.BLOCK, SubscriptionPolicy.DROP_OLDEST])
  test(`a ${policy} subscription's publication written inside enqueue() counts as delivered, once, and waits for nothing`, () => {
    const { publications, sub, view, src, held } = scene(policy);
    for (let i = 0; i < 3; i++) publications.fromProcess(src, view);
    assert.equal(sub.delivered, 3);
    assert.equal(publications.counters.delivered, 3);
    assert.equal(sub.queuedBytes, 0, 'nothing counted as waiting');
    assert.deepEqual(held, [], 'the publisher is not held back');
  });
