/**
 * libslotlink's own behaviour that only C reaches (clients/c/tests/library-test.c), against
 * a real proxy: fork (an inherited endpoint refuses; the child connects anew), the event-loop
 * form (try_send until full, slotlink_fd() wakes for room and messages), asynchronous
 * requests, one endpoint used from five threads at once, the commit rule (a batched cell
 * is committed before the endpoint blocks), hostile input in its own down direction, and
 * publish/subscribe (copies per subscription, subject rules, waiting for the proxy's answer,
 * unsubscribe, drop-oldest in the library, 4 096 subscriptions and the one refused after, a
 * subscription giving up on a stopped proxy).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './driver.js';
import { Host } from './rig.js';

test('c: fork, event loop, async requests, threads, the commit rule, hostile input and publish/subscribe (library-test.c)', async () => {
  const host = await Host.start();
  try {
    // The proxy's pid: one check stops it (SIGSTOP) to see a subscription give up waiting.
    const r = spawnSync(join(ROOT, 'clients/c/build/library-test'), [host.socket, String(host.proxy.pid)], { encoding: 'utf8', timeout: 60_000 });
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.filter((l) => !l.startsWith('ok ')), [], r.stderr);
    assert.equal(lines.length, 21, `twenty-one checks ran:\n${r.stdout}`);
    assert.equal(r.status, 0, r.stderr);
  } finally {
    await host.close();
  }
});
