/**
 * Conformance: between every pair of clients (Node, C, Python, same kind and mixed) through
 * one real proxy: sends arrive in order and intact, 1 MiB messages are fragmented and
 * reassembled in both directions, requests get their replies.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PAIRS } from './driver.js';
import { Host } from './rig.js';

const SMALL = 2000;
const MiB = 1024 * 1024;

let host: Host;
before(async () => {
  host = await Host.start();
});
after(() => host.close());

for (const [a, b] of PAIRS) {
  test(`${a} -> ${b}: order, 1 MiB fragments, requests and replies`, async () => {
    const rx = await host.worker(b, `rx-${a}-${b}`, { respond: 'echo' });
    const tx = await host.start(a);
    const { address } = await tx.call('connect', { socket: host.socket, name: `tx-${a}-${b}` });

    await tx.call('send', { to: `rx-${a}-${b}`, count: SMALL, size: 100 });
    await tx.call('send', { to: `rx-${a}-${b}`, count: 3, size: MiB, start: SMALL });
    const r = await rx.call('collect', { count: SMALL + 3 });
    assert.deepEqual(r.bad, [], 'every message intact and in order');
    assert.equal(r.perSender[address], SMALL + 3, `all ${SMALL} small and 3 large messages from ${address}`);

    assert.equal((await tx.call('request', { to: `rx-${a}-${b}`, data: `hello ${b}` })).reply, `hello ${b}`);
    const big = await tx.call('request', { to: `rx-${a}-${b}`, size: MiB });
    assert.deepEqual(big, { bytes: MiB, intact: true }, 'a 1 MiB request and its 1 MiB reply');
    await Promise.all([tx.end(), rx.end()]);
  });
}
