/**
 * Regression (hardening #2): a process could resolve another process's pending request by
 * writing a REPLY (or ERROR) to the requester's address with a guessed requestId, locally
 * and from another host. A reply reaches a requester only from the process the request was
 * delivered to, once; anything else is dropped, counted, and its writer hears why.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mayAnswer } from '../../src/slot/address.js';
import { RecordKind } from '../../src/slot/record.js';
import { FakePeer } from '../helpers/fake-peer.js';
import { Mesh, linkPort } from '../helpers/mesh.js';

const plaintext = () => ['--insecure-plaintext'];

test('forged replies, local and from another host, are refused; the real answer still settles the request', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start({ security: plaintext });
  try {
    const requester = await mesh.worker('alpha', 'requester');
    const { address } = (await requester.call('stats')) as { address: string };
    // A responder that never answers: the request stays pending while others try to answer it.
    await mesh.worker('alpha', 'silent', { consume: false });
    const pending = requester.call('tryRequest', { to: 'silent', data: 'real question', timeout: 2000 });
    const localForger = await mesh.worker('alpha', 'local-forger');
    const remoteForger = await mesh.worker('beta', 'remote-forger');
    for (let id = 1; id <= 5; id++) {
      await localForger.call('forgeReply', { to: address, requestId: id, data: 'forged locally' });
      await remoteForger.call('forgeReply', { to: address, requestId: id, data: 'forged remotely', error: id % 2 === 0 });
    }
    const outcome = await pending;
    assert.equal(outcome.code, 'SLOTLINK_ERR_REQUEST_TIMEOUT', `no forged answer settled the request: ${JSON.stringify(outcome)}`);
    // Each forger heard why, and each proxy counted what it refused.
    for (const forger of [localForger, remoteForger]) {
      await forger.waitFor((e) => e.event === 'undeliverable' && e.code === 'SLOTLINK_ERR_UNEXPECTED_REPLY');
      const u = await forger.call('undeliverable');
      assert.equal(u.SLOTLINK_ERR_UNEXPECTED_REPLY, 5);
    }
    const [sa, sb] = await Promise.all([mesh.status('alpha'), mesh.status('beta')]);
    assert.equal(sa.router.repliesRefused, 5);
    assert.equal(sb.router.repliesRefused, 5);

    // A legitimate answer still works, once: a second answer to the same request is refused.
    const echo = await mesh.worker('beta', 'echo', { echo: true });
    assert.equal((await requester.call('request', { to: 'echo@beta', data: 'real' })).reply, 'real');
    assert.ok(echo);
  } finally {
    await mesh.close();
  }
});

test('a peer proxy cannot answer a request that did not go to it, nor under another name than the one asked', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start({ security: plaintext });
  let mallory: FakePeer | null = null;
  try {
    const requester = await mesh.worker('alpha', 'asker');
    const { address } = (await requester.call('stats')) as { address: string };
    const instance = address.slice(0, address.indexOf('@'));
    mallory = await FakePeer.connect(linkPort(mesh.alpha), 'mallory');
    // 1. An answer to a request never sent over this link: refused at the proxy.
    const toBeta = requester.call('tryRequest', { to: 'nobody-answers@beta', timeout: 1500 });
    mallory.data('m~1.1@mallory', instance, [{ kind: RecordKind.REPLY, requestId: 1, payload: Buffer.from('forged') }]);
    await mallory.until(() => mallory!.received.some((r) => r.kind === RecordKind.ERROR && r.payload.toString().includes('SLOTLINK_ERR_UNEXPECTED_REPLY')));
    assert.notEqual((await toBeta).reply, 'forged');
    // 2. A request that did go to mallory, answered under another name: the client ignores it.
    const asked = requester.call('tryRequest', { to: 'svc@mallory', data: 'q', timeout: 3000 });
    await mallory.until(() => mallory!.received.some((r) => r.kind === RecordKind.REQUEST));
    const req = mallory.received.find((r) => r.kind === RecordKind.REQUEST)!;
    assert.equal(req.dst, 'svc');
    mallory.data('impostor~9.9@mallory', instance, [{ kind: RecordKind.REPLY, requestId: req.requestId, payload: Buffer.from('from an impostor') }]);
    // 3. The same request answered by the name it was sent to: that one settles it.
    mallory.data('svc~1.1@mallory', instance, [{ kind: RecordKind.REPLY, requestId: req.requestId, payload: Buffer.from('genuine') }]);
    assert.deepEqual(await asked, { reply: 'genuine' });
    assert.equal((await mesh.status('alpha')).router.repliesRefused, 2, 'the unasked answer and the impostor\'s were refused');
    // 4. A second answer to the same request finds nothing to answer.
    mallory.data('svc~1.1@mallory', instance, [{ kind: RecordKind.REPLY, requestId: req.requestId, payload: Buffer.from('again') }]);
    await mallory.until(() => mallory!.received.filter((r) => r.kind === RecordKind.ERROR && r.payload.toString().includes('SLOTLINK_ERR_UNEXPECTED_REPLY')).length === 3);
  } finally {
    mallory?.close();
    await mesh.close();
  }
});

test('the client takes an answer only from the destination it asked (unit: mayAnswer)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['svc', 'svc~3.7@beta', true], // a bare name: any node
    ['svc@beta', 'svc~3.7@beta', true],
    ['svc@beta', 'svc~3.7@gamma', false], // the node asked for
    ['svc@beta', 'svc@beta', true], // the proxy's own errors name the destination as written
    ['svc', 'other~1.1@beta', false], // another name
    ['svc~3.7@beta', 'svc~3.8@beta', false], // another instance
    ['svc~3.7@beta', 'svc~3.7@beta', true],
    ['~proxy', '~proxy', true],
    ['~proxy', 'svc~1.1@alpha', false],
    ['svc', '~proxy', false],
  ];
  for (const [to, from, ok] of cases) assert.equal(mayAnswer(to, from), ok, `${from} answering ${to}`);
});
