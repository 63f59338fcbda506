/** Prometheus metrics read the same counters as status, after real traffic. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mesh } from './helpers/mesh.js';

function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  assert.ok(line, `${name} ${JSON.stringify(labels)} is exported`);
  return Number(line.split(' ').pop());
}

test('the proxy serves Prometheus metrics for its slots and links', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start({ args: ['--metrics', '127.0.0.1:0'] });
  try {
    const port = mesh.alpha.ready.metricsPort!;
    const sink = await mesh.worker('beta', 'sink');
    const src = await mesh.worker('alpha', 'src');
    await src.call('send', { to: 'sink@beta', count: 1234, size: 100 });
    await sink.call('collect', { count: 1234 });
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /# TYPE slotlink_slot_messages_in_total counter/);
    assert.equal(sample(text, 'slotlink_slot_messages_in_total', { node: 'alpha', name: 'src' }), 1234);
    assert.equal(sample(text, 'slotlink_slot_bytes_in_total', { name: 'src' }), 123_400);
    assert.equal(sample(text, 'slotlink_link_up', { peer: 'beta' }), 1);
    assert.equal(sample(text, 'slotlink_link_messages_out_total', { peer: 'beta' }), 1234);
    const inFlight = sample(text, 'slotlink_link_frames_in_flight', { peer: 'beta' });
    assert.ok(inFlight >= 0 && inFlight <= 1234, `frames in flight: ${inFlight}`);
    assert.ok(sample(text, 'slotlink_slot_batches_in_total', { name: 'src' }) < 1234, 'messages arrived in batches');
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
  } finally {
    await mesh.close();
  }
});

test('/healthz answers while the proxy lives; /readyz is 200 only while every configured peer is up', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start({ args: ['--metrics', '127.0.0.1:0', '--heartbeat-ms', '100'] });
  try {
    const url = (path: string) => `http://127.0.0.1:${mesh.alpha.ready.metricsPort!}${path}`;
    assert.equal((await fetch(url('/healthz'))).status, 200);
    const ready = await fetch(url('/readyz'));
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, peers: { beta: 'up' } });
    await mesh.beta.stop();
    for (;;) {
      const r = await fetch(url('/readyz'));
      if (r.status === 503) {
        const body = (await r.json()) as { ready: boolean; peers: Record<string, string> };
        assert.equal(body.ready, false);
        assert.notEqual(body.peers.beta, 'up');
        break;
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal((await fetch(url('/healthz'))).status, 200, 'alive all the same');
  } finally {
    await mesh.close();
  }
});
