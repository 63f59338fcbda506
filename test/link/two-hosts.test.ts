/**
 * Claims 30, 40, 42 and 52 end to end: many processes on one host talk to many on another
 * through their proxies, which keep exactly one connection between them; the remote proxy
 * delivers into its processes' own slots.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { slotMappings } from '../helpers/claim-rig.js';
import { Mesh, tcpConnections } from '../helpers/mesh.js';
import type { Worker } from '../helpers/worker.js';

let mesh: Mesh;
before(async () => {
  mesh = await Mesh.start();
});
after(() => mesh.close());

test('claims 30, 40, 42, 52: processes on two hosts exchange messages and requests over one connection between their proxies', { timeout: 60_000 }, async () => {
  const names = { alpha: ['a0', 'a1', 'a2'], beta: ['b0', 'b1', 'b2'] };
  const side: Record<string, Worker> = {};
  for (const n of names.alpha) side[n] = await mesh.worker('alpha', n, { echo: true });
  for (const n of names.beta) side[n] = await mesh.worker('beta', n, { echo: true });
  const each = 2000;
  const sends: Array<Promise<unknown>> = [];
  for (const a of names.alpha) for (const b of names.beta) {
    sends.push(side[a]!.call('send', { to: `${b}@beta`, count: each, size: 100 }));
    sends.push(side[b]!.call('send', { to: `${a}@alpha`, count: each, size: 300 }));
  }
  await Promise.all(sends);
  for (const [host, mine, theirs] of [['alpha', names.alpha, names.beta], ['beta', names.beta, names.alpha]] as const) {
    for (const n of mine) {
      const r = await side[n]!.call('collect', { count: each * theirs.length });
      assert.deepEqual(r.bad, [], `${n}@${host}`);
      assert.equal(r.received, each * theirs.length);
      const senders = Object.keys(r.perSender).sort();
      assert.deepEqual(senders.map((s) => s.replace(/~.*@/, '@')), theirs.map((t) => `${t}@${host === 'alpha' ? 'beta' : 'alpha'}`).sort());
    }
  }
  // Requests both ways; the reply finds the process that asked.
  for (const a of names.alpha) for (const b of names.beta) {
    assert.equal((await side[a]!.call('request', { to: `${b}@beta`, data: `${a}->${b}` })).reply, `${a}->${b}`);
    assert.equal((await side[b]!.call('request', { to: `${a}@alpha`, data: `${b}->${a}` })).reply, `${b}->${a}`);
  }
  // One connection between the two proxies, carrying everything.
  const conns = tcpConnections(mesh.betaPort);
  assert.equal(conns.filter((c) => c.local === mesh.betaPort).length, 1, 'beta accepted exactly one connection');
  assert.equal(conns.filter((c) => c.remote === mesh.betaPort).length, 1, 'alpha opened exactly one connection');
  const [sa, sb] = await Promise.all([mesh.status('alpha'), mesh.status('beta')]);
  assert.equal(sa.links.length, 1);
  assert.equal(sa.links[0]!.status.state, 'up');
  assert.equal(sa.links[0]!.reconnects, 0);
  // Claim 52: the remote proxy delivered into each of its processes' own slots.
  for (const b of names.beta) {
    const s = sb.slots.find((x) => x.name === b)!;
    assert.ok(s.messagesOut >= each * names.alpha.length, `${b} got its messages through its slot`);
    assert.equal(slotMappings(side[b]!.pid).length, 1);
  }
  assert.ok(sb.router.fromLinks >= each * 9 && sa.router.toLinks >= each * 9);
});

test('a bare name resolves through the directory, and a group spanning the link is balanced', { timeout: 60_000 }, async () => {
  const members = [await mesh.worker('beta', 'pool', { group: true, echo: true }), await mesh.worker('beta', 'pool', { group: true, echo: true })];
  const asker = await mesh.worker('alpha', 'asker');
  await mesh.waitForRemoteName('alpha', 'pool');
  for (let i = 0; i < 10; i++) assert.equal((await asker.call('request', { to: 'pool', data: `q${i}` })).reply, `q${i}`);
  const sb = await mesh.status('beta');
  const served = sb.slots.filter((s) => s.name === 'pool').map((s) => s.messagesIn);
  assert.deepEqual(served, [5, 5], 'requests balanced over the group members');
  await Promise.all(members.map((m) => m.kill()));
});

test('unknown name, unknown node and request timeout are clear errors across the link', { timeout: 60_000 }, async () => {
  const asker = await mesh.worker('alpha', 'asker2');
  await mesh.worker('beta', 'mute', { consume: false });
  await assert.rejects(asker.call('request', { to: 'nobody@beta', timeout: 5000 }), { code: 'SLOTLINK_ERR_NO_ROUTE', message: /no process is registered as "nobody" on node "beta"/ });
  await assert.rejects(asker.call('request', { to: 'x@gamma', timeout: 5000 }), { code: 'SLOTLINK_ERR_NO_ROUTE', message: /node "gamma" is not a peer/ });
  await assert.rejects(asker.call('request', { to: 'mute@beta', timeout: 100 }), { code: 'SLOTLINK_ERR_REQUEST_TIMEOUT' });
  await asker.call('send', { to: 'ghost@beta', count: 1 });
  const u = await asker.waitFor((e) => e.event === 'undeliverable');
  assert.equal(u.to, 'ghost@beta');
  assert.equal(u.code, 'SLOTLINK_ERR_NO_ROUTE');
});
