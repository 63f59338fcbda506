/**
 * A peer that goes silent (frozen, not disconnected) is detected by heartbeats; once it has
 * been away longer than the unreachable period, sends to it fail at once with a clear error;
 * when it comes back the session resumes and what was accepted before arrives exactly once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitForState } from '../helpers/claim-rig.js';
import { Mesh } from '../helpers/mesh.js';

test('heartbeats detect a silent peer; an unreachable node is a clear error; the link resumes without loss', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start({ args: ['--heartbeat-ms', '100', '--unreachable-after-ms', '600'] });
  try {
    const sink = await mesh.worker('beta', 'sink');
    const sender = await mesh.worker('alpha', 'sender');
    await sender.call('send', { to: 'sink@beta', count: 1000, size: 64 });
    process.kill(mesh.beta.pid, 'SIGSTOP');
    await waitForState(mesh.beta.pid, 'T');
    // Accepted while the peer is silent: held for it.
    await sender.call('send', { to: 'sink@beta', count: 1000, size: 64, start: 1000 });
    await mesh.alpha.waitForLog((l) => l.includes('peer silent: dropping the connection'));
    await mesh.alpha.waitForLog((l) => l.includes('"peer unreachable"'));
    await assert.rejects(sender.call('request', { to: 'sink@beta', timeout: 5000 }), {
      code: 'SLOTLINK_ERR_UNREACHABLE',
      message: /node "beta" is unreachable \(link down since/,
    });
    const s = await mesh.status('alpha');
    assert.equal(s.links[0]!.status.state, 'down');
    process.kill(mesh.beta.pid, 'SIGCONT');
    for (;;) {
      const st = await mesh.status('alpha');
      if (st.links[0]!.status.state === 'up') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const r = await sink.call('collect', { count: 2000 });
    assert.equal(r.received, 2000, 'everything accepted before and during the silence arrived once');
    assert.deepEqual(r.bad, []);
    await sender.call('send', { to: 'sink@beta', count: 100, size: 64, start: 2000 });
    assert.equal((await sink.call('collect', { count: 2100 })).received, 2100, 'and new messages flow again');
  } finally {
    try {
      process.kill(mesh.beta.pid, 'SIGCONT');
    } catch {
      // gone
    }
    await mesh.close();
  }
});
