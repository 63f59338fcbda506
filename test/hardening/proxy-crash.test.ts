/**
 * Regression (hardening #7): a proxy killed with -9 lost what it had queued for its
 * processes silently (the link had acknowledged it on arrival; 1 065 of 4.36 M in one run),
 * and requests pending at the crash waited for their timeout. Now every message is either
 * in its receiver's slot or failed back to its sender with SLOTLINK_ERR_PEER_RESTARTED, and
 * pending requests fail as soon as the new session starts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startProxyProcess } from '../../src/cli/proxy-process.js';
import { Mesh } from '../helpers/mesh.js';

test('kill -9 of the receiving proxy under traffic: every message is delivered or failed back, none lost silently', { timeout: 90_000 }, async () => {
  const mesh = await Mesh.start();
  try {
    const sender = await mesh.worker('alpha', 'sender', { quiet: true });
    // A slow receiver: the receiving proxy queues what it cannot yet put into its slot.
    // reconnect: false: its endpoint ends with beta, so consumeAll below takes what it got and returns.
    const sink = await mesh.worker('beta', 'sink', { consume: false, maxInboxBytes: 16 * 1024, reconnect: false });
    await mesh.waitForRemoteName('alpha', 'sink');
    const total = 4000;
    const sending = sender.call('send', { to: 'sink@beta', count: total, size: 1024 }).then(
      () => null,
      (err: Error) => err,
    );
    // Wait until beta holds a good part of a credit window queued for the sink.
    for (;;) {
      const s = await mesh.status('beta');
      if ((s.slots.find((x) => x.name === 'sink')?.queuedBytes ?? 0) > 256 * 1024) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    // A request from another process, on its way to the receiver that is not reading.
    const asker = await mesh.worker('alpha', 'asker');
    const request = asker.call('tryRequest', { to: 'sink@beta', timeout: 30_000 }).catch((err: Error) => ({ code: 'call failed', message: err.message }));
    for (;;) {
      if ((await mesh.status('alpha')).slots.find((x) => x.name === 'asker')!.messagesIn > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const betaArgs = mesh.beta.child.spawnargs.slice(mesh.beta.child.spawnargs.indexOf('proxy') + 1);
    process.kill(mesh.beta.pid, 'SIGKILL');
    await new Promise((r) => mesh.beta.child.once('exit', r));
    // What beta put into the sink's slot before it died was delivered: the sink reads it all
    // once its endpoint has closed (with the proxy gone).
    const { received, bad } = (await sink.call('consumeAll', {})) as { received: number; bad: string[] };
    assert.deepEqual(bad, []);
    const startedAt = Date.now();
    mesh.beta = await startProxyProcess(join(mesh.dir, 'beta.sock'), betaArgs.slice(2).map((a) => (a === '127.0.0.1:0' ? `127.0.0.1:${mesh.betaPort}` : a)));
    await mesh.alpha.waitForLog((l) => l.includes('peer restarted: new session'));

    const r = await request;
    assert.equal(r.code, 'SLOTLINK_ERR_PEER_RESTARTED', `the pending request fails with the new session: ${JSON.stringify(r)}`);
    assert.ok(Date.now() - startedAt < 20_000, 'not at its 30 s timeout');
    assert.equal(await sending, null); // whatever was still in the sender's slot is answered too (no receiver on the new beta)
    let u: Record<string, number> = {};
    for (;;) {
      u = await sender.call('undeliverable');
      const answered = received + (u.SLOTLINK_ERR_PEER_RESTARTED ?? 0) + (u.SLOTLINK_ERR_NO_ROUTE ?? 0);
      if (answered >= total) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok((u.SLOTLINK_ERR_PEER_RESTARTED ?? 0) > 0, `messages queued at beta were failed back: ${JSON.stringify(u)}, received ${received}`);
    assert.ok(received <= total);
  } finally {
    await mesh.close();
  }
});
