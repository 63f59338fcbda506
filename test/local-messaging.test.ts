/**
 * Separate processes exchanging messages through one proxy, each through its own slot:
 * every message checked for content, and for order per sender.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Rig } from './helpers/rig.js';

let rig: Rig;
before(async () => {
  rig = await Rig.start();
});
after(() => rig.close());

test('two processes exchange messages both ways through one proxy', async () => {
  const a = await rig.worker('pair-a');
  const b = await rig.worker('pair-b');
  const n = 20_000;
  await Promise.all([a.call('send', { to: 'pair-b', count: n, size: 64 }), b.call('send', { to: 'pair-a', count: n, size: 200 })]);
  const [ra, rb] = await Promise.all([a.call('collect', { count: n }), b.call('collect', { count: n })]);
  for (const [r, from] of [[ra, 'pair-b'], [rb, 'pair-a']] as const) {
    assert.deepEqual(r.bad, []);
    assert.equal(r.received, n);
    const senders = Object.keys(r.perSender);
    assert.equal(senders.length, 1);
    assert.match(senders[0]!, new RegExp(`^${from}~\\d+\\.\\d+@test$`));
  }
});

test('32 processes all-to-all: every message arrives once, in order per sender', async () => {
  const n = 32;
  const each = 150;
  const names = Array.from({ length: n }, (_, i) => `mesh-${i}`);
  const workers = await Promise.all(names.map((name) => rig.worker(name)));
  await Promise.all(workers.map((w, i) => Promise.all(names.filter((_, j) => j !== i).map((to) => w.call('send', { to, count: each, size: 48 })))));
  const results = await Promise.all(workers.map((w) => w.call('collect', { count: each * (n - 1) })));
  results.forEach((r, i) => {
    assert.deepEqual(r.bad, [], `receiver ${names[i]}`);
    assert.equal(r.received, each * (n - 1), `receiver ${names[i]}`);
    const counts = Object.entries(r.perSender as Record<string, number>);
    assert.equal(counts.length, n - 1);
    for (const [from, count] of counts) {
      assert.equal(count, each, `${from} -> ${names[i]}`);
      assert.ok(!from.startsWith(`${names[i]}~`), 'no message from itself');
    }
  });
});
