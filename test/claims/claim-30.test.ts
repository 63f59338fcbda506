/**
 * Claim 30 (and 42, its medium form), host side: many processes exchange data with their
 * proxy through shared memory, each in its own region with its own mark devices, the
 * proxy reading and writing each region under those devices. The part across the network
 * connection between two proxies is shown end to end in
 * test/link/two-hosts.test.ts ("claims 30, 40, 42, 52").
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestStatus } from '../../src/client/registration.js';
import type { ProxyStats } from '../../src/proxy/stats.js';
import { slotMappings } from '../helpers/claim-rig.js';
import { Rig } from '../helpers/rig.js';

test('claim 30: each of many processes exchanges data with the proxy through its own region of shared memory, under its mark devices', async () => {
  const rig = await Rig.start();
  try {
    const names = ['p0', 'p1', 'p2', 'p3', 'p4'];
    const workers = await Promise.all(names.map((n) => rig.worker(n)));
    // A unique region per process: each maps exactly one slot memfd, all different, and
    // the proxy maps every one of them.
    const regions = workers.map((w) => slotMappings(w.pid));
    for (const r of regions) assert.equal(r.length, 1, 'a process maps its own slot and no other');
    const inodes = new Set(regions.map((r) => r[0]!.inode));
    assert.equal(inodes.size, names.length, 'no two processes share a region');
    const proxyInodes = new Set(slotMappings(rig.proxy.pid).map((m) => m.inode));
    for (const i of inodes) assert.ok(proxyInodes.has(i), 'the proxy maps each region');

    const each = 400;
    await Promise.all(workers.map((w, i) => Promise.all(names.filter((_, j) => j !== i).map((to) => w.call('send', { to, count: each, size: 128 })))));
    const results = await Promise.all(workers.map((w) => w.call('collect', { count: each * (names.length - 1) })));
    for (const r of results) {
      assert.deepEqual(r.bad, []);
      assert.equal(r.received, each * (names.length - 1));
    }
    // Every byte went in through one region and out through another, cell by cell.
    const stats = (await requestStatus(rig.socket)) as ProxyStats;
    for (const n of names) {
      const s = stats.slots.find((x) => x.name === n)!;
      assert.equal(s.messagesIn, each * (names.length - 1), `${n}: proxy read its writes from its region`);
      assert.equal(s.messagesOut, each * (names.length - 1), `${n}: proxy wrote its messages into its region`);
      assert.ok(s.cellsIn > 0 && s.cellsOut > 0);
    }
  } finally {
    await rig.close();
  }
});
