/**
 * What happens when a proxy itself restarts: its processes lost their slots with it, and
 * its peer cannot know what it had delivered. The peer starts a new session with the new
 * incarnation and fails back everything the old one had not acknowledged: a pending
 * request rejects with SLOTLINK_ERR_PEER_RESTARTED, a sent message is reported
 * undeliverable with that code. Nothing is silently dropped; traffic then flows again.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startProxyProcess } from '../../src/cli/proxy-process.js';
import { waitForState } from '../helpers/claim-rig.js';
import { Mesh } from '../helpers/mesh.js';

test('a restarted peer proxy: what it had not acknowledged is failed back to its senders, then traffic resumes', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start();
  try {
    const sender = await mesh.worker('alpha', 'sender');
    await mesh.worker('beta', 'sink', { reconnect: false }); // a new process takes the name on the new beta
    // Freeze beta so it acknowledges nothing, put messages and a request in flight, then kill it.
    process.kill(mesh.beta.pid, 'SIGSTOP');
    await waitForState(mesh.beta.pid, 'T');
    await sender.call('send', { to: 'sink@beta', count: 20, size: 64 });
    const request = sender.call('request', { to: 'sink@beta', timeout: 30_000 }).catch((e: Error & { code: string }) => e);
    for (;;) {
      const s = await mesh.status('alpha');
      if (s.links[0]!.messagesOut >= 21 && s.links[0]!.unackedBytes > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const betaArgs = mesh.beta.child.spawnargs.slice(mesh.beta.child.spawnargs.indexOf('proxy') + 1);
    process.kill(mesh.beta.pid, 'SIGKILL');
    await new Promise((r) => mesh.beta.child.once('exit', r));
    mesh.beta = await startProxyProcess(join(mesh.dir, 'beta.sock'), betaArgs.slice(2).map((a) => (a === '127.0.0.1:0' ? `127.0.0.1:${mesh.betaPort}` : a)));
    await mesh.alpha.waitForLog((l) => l.includes('peer restarted: new session'));

    const err = (await request) as { code: string; message: string };
    assert.equal(err.code, 'SLOTLINK_ERR_PEER_RESTARTED', 'the pending request is rejected at once, not left to time out');
    assert.match(err.message, /proxy "beta" restarted before this message was known to be in its receiver.s slot; it may not have been delivered/);
    for (;;) {
      if (sender.events.filter((e) => e.event === 'undeliverable').length >= 20) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const undeliverable = sender.events.filter((e) => e.event === 'undeliverable');
    assert.equal(undeliverable.length, 20, 'each unacknowledged message is reported to its sender');
    assert.ok(undeliverable.every((e) => e.code === 'SLOTLINK_ERR_PEER_RESTARTED' && e.to === 'sink@beta'));
    const s = await mesh.status('alpha');
    assert.equal(s.links[0]!.peerRestarts, 1);
    assert.equal(s.links[0]!.unackedBytes, 0);

    // The new beta serves again once its processes register.
    const sink = await mesh.worker('beta', 'sink', { echo: true });
    assert.equal((await sender.call('request', { to: 'sink@beta', data: 'again' })).reply, 'again');
    await sender.call('send', { to: 'sink@beta', count: 500, size: 64 });
    const r = await sink.call('collect', { count: 500 });
    assert.equal(r.received, 500);
    assert.deepEqual(r.bad, []);
  } finally {
    try {
      process.kill(mesh.beta.pid, 'SIGCONT');
    } catch {
      // gone
    }
    await mesh.close();
  }
});
