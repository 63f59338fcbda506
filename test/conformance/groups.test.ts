/**
 * Conformance: groups. One member of each kind joins "pool"; requests from each kind are
 * balanced over all members (each reply names the member that answered); a name held as a
 * group cannot be taken alone, and vice versa.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KINDS } from './driver.js';
import { Host } from './rig.js';

let host: Host;
let members: string[];
before(async () => {
  host = await Host.start();
  members = [];
  for (const kind of KINDS) {
    const m = await host.start(kind);
    members.push((await m.call('connect', { socket: host.socket, name: 'pool', group: true, respond: 'address' })).address);
  }
});
after(() => host.close());

for (const kind of KINDS) {
  test(`${kind}: joins a group, and requests to a group reach every member`, async () => {
    const d = await host.start(kind);
    assert.equal((await d.callError('connect', { socket: host.socket, name: 'pool' })).code, 'SLOTLINK_ERR_NAME_TAKEN', 'a group name is not free for a single process');
    await d.call('connect', { socket: host.socket, name: `asker-${kind}` });
    const answered = new Set<string>();
    for (let i = 0; i < 3 * members.length; i++) answered.add((await d.call('request', { to: 'pool' })).reply);
    assert.deepEqual([...answered].sort(), [...members].sort(), 'every member answered some requests');

    const solo = await host.worker('node', `solo-${kind}`);
    assert.ok(solo);
    const joiner = await host.start(kind);
    assert.equal((await joiner.callError('connect', { socket: host.socket, name: `solo-${kind}`, group: true })).code, 'SLOTLINK_ERR_NAME_TAKEN');
    await Promise.all([d.end(), joiner.end()]);
  });
}
