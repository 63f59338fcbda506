/**
 * A proxy killed and restarted under traffic: its subscribers' endpoints register again and
 * restore their subscriptions, the peer hears of them again, and the publications of a
 * publisher on the other host, which never stopped, reach them again, in order.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, secretFlags } from '../../src/cli/mesh.js';
import { startProxyProcess, type ProxyProcess } from '../../src/cli/proxy-process.js';
import { requestStatus } from '../../src/client/registration.js';
import type { ProxyStats } from '../../src/proxy/stats.js';
import { startPubsubWorker, type Worker } from '../helpers/worker.js';

const status = (socket: string) => requestStatus(socket) as Promise<ProxyStats>;

async function until(what: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('subscribers outlive a kill -9 of their proxy: they come back, subscribe again, and receive the publisher that went on', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-pubsub-restart-'));
  const [pa, pb] = await Promise.all([freePort(), freePort()]);
  const security = secretFlags(dir);
  const sockA = join(dir, 'alpha.sock');
  const sockB = join(dir, 'beta.sock');
  const betaArgs = ['--node', 'beta', '--listen', `127.0.0.1:${pb}`, '--peer', `alpha=127.0.0.1:${pa}`, '--heartbeat-ms', '200', ...security];
  const alpha = await startProxyProcess(sockA, ['--node', 'alpha', '--listen', `127.0.0.1:${pa}`, '--peer', `beta=127.0.0.1:${pb}`, '--heartbeat-ms', '200', ...security]);
  let beta: ProxyProcess = await startProxyProcess(sockB, betaArgs);
  const workers: Worker[] = [];
  try {
    const subs: Worker[] = [];
    for (let i = 0; i < 3; i++) {
      const w = await startPubsubWorker();
      workers.push(w);
      await w.call('connect', { socket: sockB, name: `sub${i}` });
      await w.call('subscribe', { subject: 'quotes.*', key: 'q', gaps: true });
      subs.push(w);
    }
    await until(async () => (await status(sockA)).remoteDirectory.some((r) => r.subjects.includes('quotes.*')));
    const pub = await startPubsubWorker();
    workers.push(pub);
    await pub.call('connect', { socket: sockA, name: 'quoter' });
    await pub.call('publishForever', { subject: 'quotes.eur', size: 64, publisher: 1 });
    for (const s of subs) await s.call('received', { key: 'q', count: 2000 });

    const killed = new Promise((r) => beta.child.once('exit', r));
    process.kill(beta.pid, 'SIGKILL');
    await killed;
    const before = await Promise.all(subs.map((s) => s.call('report', { key: 'q' })));
    beta = await startProxyProcess(sockB, betaArgs);

    // Each subscriber registers again and subscribes again; alpha hears of it and sends again.
    for (const s of subs) await s.waitFor((e) => e.event === 'status' && e.type === 'reconnected');
    await until(async () => (await status(sockB)).subscriptions.length === 3);
    await until(async () => (await status(sockA)).remoteDirectory.some((r) => r.subjects.includes('quotes.*')));
    for (const [i, s] of subs.entries()) {
      const r = await s.call('received', { key: 'q', count: before[i].received + 2000 });
      assert.ok(r.received >= before[i].received + 2000, `sub${i} receives again (${before[i].received} before the kill, ${r.received} now)`);
      assert.deepEqual(r.bad, [], 'in order: nothing twice, nothing backwards');
      assert.ok(r.last[1] > before[i].last[1], 'newer publications than before the kill');
      assert.deepEqual(s.events.filter((e) => e.event === 'close'), [], 'the endpoint never closed');
    }
    const { published } = await pub.call('stopPublishing');
    assert.ok(published > 0);
    assert.deepEqual(pub.events.filter((e) => e.event === 'close'), [], 'the publisher went on throughout');
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await Promise.all([alpha.stop(), beta.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
});
