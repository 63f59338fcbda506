/** Prometheus metrics read the same counters as status, after real traffic, under Prometheus-style names. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { connect } from '../src/client/connect.js';
import type { Endpoint } from '../src/client/endpoint.js';
import { MAX_ROUND_TRIP_NAMES, OTHER_NAMES } from '../src/proxy/request-round-trips.js';
import { ROUND_TRIP_BOUNDS_SECONDS } from '../src/proxy/histogram.js';
import type { ProxyStats } from '../src/proxy/stats.js';
import { packageVersion } from '../src/util/package-version.js';
import { Mesh } from './helpers/mesh.js';
import { rssBytes } from './helpers/proc.js';
import { find, scrape, value, type Sample } from './helpers/prometheus.js';
import { Rig } from './helpers/rig.js';

/** Asks a proxy for its status every 10 ms until `check` holds (as the mesh waits for a link). */
async function until(status: () => Promise<ProxyStats>, check: (s: ProxyStats) => boolean): Promise<void> {
  while (!check(await status())) await new Promise((r) => setTimeout(r, 10));
}

test('slots by name, links by peer, under Prometheus-style names, and the build', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start({ args: ['--metrics', '127.0.0.1:0'] });
  try {
    const sink = await mesh.worker('beta', 'sink');
    const src = await mesh.worker('alpha', 'src');
    await src.call('send', { to: 'sink@beta', count: 1234, size: 100 });
    await sink.call('collect', { count: 1234 });
    const port = mesh.alpha.ready.metricsPort!;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const { samples } = await scrape(port);
    assert.match(text, /^# TYPE slotlink_slot_sent_messages_total counter$/m);
    assert.equal(value(samples, 'slotlink_slot_sent_messages_total', { node: 'alpha', name: 'src' }), 1234);
    assert.equal(value(samples, 'slotlink_slot_sent_bytes_total', { name: 'src' }), 123_400);
    assert.ok(value(samples, 'slotlink_slot_sent_batches_total', { name: 'src' }) < 1234, 'messages went in batches');
    assert.equal(value(samples, 'slotlink_slot_processes', { name: 'src' }), 1);
    assert.equal(value(samples, 'slotlink_link_up', { peer: 'beta' }), 1);
    assert.equal(value(samples, 'slotlink_link_sent_messages_total', { peer: 'beta' }), 1234);
    assert.equal(value(samples, 'slotlink_link_sent_bytes_total', { peer: 'beta' }), 123_400);
    assert.equal(value(samples, 'slotlink_routed_messages_total', { path: 'to_peer' }), 1234);
    const inFlight = value(samples, 'slotlink_link_frames_in_flight', { peer: 'beta' });
    assert.ok(inFlight >= 0 && inFlight <= 1234, `frames in flight: ${inFlight}`);
    const beta = (await scrape(mesh.beta.ready.metricsPort!)).samples;
    assert.equal(value(beta, 'slotlink_slot_received_messages_total', { node: 'beta', name: 'sink' }), 1234);
    assert.equal(value(beta, 'slotlink_slot_received_bytes_total', { name: 'sink' }), 123_400);
    assert.equal(value(beta, 'slotlink_link_received_bytes_total', { peer: 'alpha' }), 123_400);
    assert.equal(value(beta, 'slotlink_routed_messages_total', { path: 'from_peer' }), 1234);
    // Instances are not labels: a registration adds no series.
    assert.deepEqual(samples.filter((s) => 'address' in s.labels || 'instance' in s.labels), []);
    assert.equal(value(samples, 'slotlink_build_info', { node: 'alpha', version: packageVersion(), node_version: process.version }), 1);
    // Counters are named for what they count and end in _total.
    for (const line of text.split('\n').filter((l) => l.startsWith('# TYPE ') && l.endsWith(' counter'))) assert.match(line, /_total counter$/);
    // docs/metrics.md lists exactly the families served.
    const docs = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    const section = docs.slice(docs.indexOf('## The families'), docs.indexOf('\n## ', docs.indexOf('## The families') + 1));
    const documented = [...section.matchAll(/^\| `([a-z0-9_]+)` \|/gm)].map((x) => x[1]).sort();
    assert.deepEqual([...text.matchAll(/^# TYPE (\S+) /gm)].map((x) => x[1]).sort(), documented);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
  } finally {
    await mesh.close();
  }
});

test('a name\'s counters add up over its group and over processes gone: recycled workers add no series', { timeout: 60_000 }, async () => {
  const rig = await Rig.start(['--metrics', '127.0.0.1:0']);
  try {
    const port = rig.proxy.ready.metricsPort!;
    const sink = await rig.worker('sink');
    const pool = [await rig.worker('pool', { group: true }), await rig.worker('pool', { group: true }), await rig.worker('pool', { group: true })];
    await Promise.all(pool.map((w) => w.call('send', { to: 'sink', count: 100, size: 10 })));
    await sink.call('collect', { count: 300 });
    const series = (samples: Sample[]) => samples.filter((s) => s.labels.name === 'pool' && s.name.startsWith('slotlink_slot_'));
    let m = (await scrape(port)).samples;
    assert.equal(value(m, 'slotlink_slot_processes', { name: 'pool' }), 3);
    assert.equal(value(m, 'slotlink_slot_sent_messages_total', { name: 'pool' }), 300);
    assert.equal(value(m, 'slotlink_slot_sent_bytes_total', { name: 'pool' }), 3000);
    const families = series(m).length;

    // A worker is recycled: the old one goes, a new one comes under the same name.
    await pool[0]!.kill();
    await until(() => rig.status(), (s) => s.slots.filter((x) => x.name === 'pool').length === 2);
    m = (await scrape(port)).samples;
    assert.equal(value(m, 'slotlink_slot_processes', { name: 'pool' }), 2);
    assert.equal(value(m, 'slotlink_slot_sent_messages_total', { name: 'pool' }), 300, 'what the process gone sent still counts');
    const fresh = await rig.worker('pool', { group: true });
    await fresh.call('send', { to: 'sink', count: 50, size: 10 });
    await sink.call('collect', { count: 350 });
    m = (await scrape(port)).samples;
    assert.equal(value(m, 'slotlink_slot_processes', { name: 'pool' }), 3);
    assert.equal(value(m, 'slotlink_slot_sent_messages_total', { name: 'pool' }), 350, 'the new process adds to the same counter');
    assert.equal(series(m).length, families, 'the same series, no new ones');

    // Every process under the name gone: the series stays a while (a worker restarting keeps counting).
    await Promise.all([pool[1]!.kill(), pool[2]!.kill(), fresh.kill()]);
    await until(() => rig.status(), (s) => !s.slots.some((x) => x.name === 'pool'));
    m = (await scrape(port)).samples;
    assert.equal(value(m, 'slotlink_slot_processes', { name: 'pool' }), 0);
    assert.equal(value(m, 'slotlink_slot_sent_messages_total', { name: 'pool' }), 350);
    assert.equal(value(m, 'slotlink_slot_received_messages_total', { name: 'sink' }), 350);
    assert.equal(value(m, 'slotlink_slots'), 1);
  } finally {
    await rig.close();
  }
});

test('the proxy process: CPU, resident memory, descriptors, start time, event-loop lag', { timeout: 60_000 }, async () => {
  const startedBefore = Date.now() / 1000;
  const rig = await Rig.start(['--metrics', '127.0.0.1:0']);
  try {
    await rig.worker('some-process');
    const pid = rig.proxy.pid;
    const m = (await scrape(rig.proxy.ready.metricsPort!)).samples;
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    const open = value(m, 'process_open_fds');
    // A registered process holds two doorbells and its connection; the socket and metrics listeners are open.
    assert.ok(open >= 6 && Math.abs(open - fds) <= 3, `open fds ${open}, /proc says ${fds}`);
    const limit = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))![1];
    assert.equal(value(m, 'process_max_fds'), Number(limit));
    const rss = value(m, 'process_resident_memory_bytes');
    const kernel = rssBytes(pid);
    assert.ok(rss > 10e6 && Math.abs(rss - kernel) / kernel < 0.5, `rss ${rss}, /proc says ${kernel}`);
    const cpu = value(m, 'process_cpu_seconds_total');
    assert.ok(cpu > 0, `cpu ${cpu} s`);
    assert.ok(Math.abs(cpu - value(m, 'process_cpu_user_seconds_total') - value(m, 'process_cpu_system_seconds_total')) < 1e-9, 'user + system');
    const start = value(m, 'process_start_time_seconds');
    assert.ok(start >= startedBefore - 1 && start <= Date.now() / 1000, `start ${start}, test began ${startedBefore}`);
    for (const q of ['p50', 'p99', 'max', 'mean']) {
      const lag = value(m, `nodejs_eventloop_lag_${q}_seconds`);
      assert.ok(lag >= 0 && lag < 5, `event-loop lag ${q}: ${lag}`);
    }
  } finally {
    await rig.close();
  }
});

test('request round trips per destination name at each proxy: a histogram with classic buckets', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start({ args: ['--metrics', '127.0.0.1:0'] });
  try {
    await mesh.worker('alpha', 'near', { echo: true });
    await mesh.worker('beta', 'far', { echo: true, group: true });
    await mesh.worker('beta', 'far', { echo: true, group: true });
    const asker = await mesh.worker('alpha', 'asker');
    await mesh.waitForRemoteName('alpha', 'far');
    for (let i = 0; i < 30; i++) await asker.call('request', { to: 'near' });
    for (let i = 0; i < 20; i++) await asker.call('request', { to: i % 2 ? 'far' : 'far@beta' });
    const alpha = (await scrape(mesh.alpha.ready.metricsPort!)).samples;
    const beta = (await scrape(mesh.beta.ready.metricsPort!)).samples;
    const H = 'slotlink_request_round_trip_seconds';
    assert.equal(value(alpha, `${H}_count`, { name: 'near' }), 30);
    assert.equal(value(alpha, `${H}_count`, { name: 'far' }), 20, 'timed at the requester\'s proxy');
    assert.equal(value(beta, `${H}_count`, { name: 'far' }), 20, 'and at the responder\'s');
    assert.deepEqual(find(beta, `${H}_count`, { name: 'near' }), []);
    for (const [m, name] of [[alpha, 'near'], [alpha, 'far'], [beta, 'far']] as const) {
      const buckets = find(m, `${H}_bucket`, { name });
      assert.deepEqual(buckets.map((b) => b.labels.le), [...ROUND_TRIP_BOUNDS_SECONDS.map(String), '+Inf']);
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, 'cumulative');
      assert.equal(buckets.at(-1)!.value, value(m, `${H}_count`, { name }));
      const sum = value(m, `${H}_sum`, { name });
      assert.ok(sum > 0 && sum / value(m, `${H}_count`, { name }) < 1, `${name}: mean ${sum} s`);
    }
    // Each request's time at the requester's proxy holds its time at the responder's.
    assert.ok(value(alpha, `${H}_sum`, { name: 'far' }) > value(beta, `${H}_sum`, { name: 'far' }));
  } finally {
    await mesh.close();
  }
});

test(`request round trips: at most ${MAX_ROUND_TRIP_NAMES} destination names, the rest under "${OTHER_NAMES}"`, { timeout: 60_000 }, async () => {
  const rig = await Rig.start(['--metrics', '127.0.0.1:0']);
  const endpoints: Endpoint[] = [];
  try {
    const names = Array.from({ length: MAX_ROUND_TRIP_NAMES + 2 }, (_, i) => `responder-${i}`);
    for (const name of names) {
      const ep = await connect({ name, socket: rig.socket });
      ep.respond((m) => m.data);
      endpoints.push(ep);
    }
    const asker = await connect({ name: 'asker', socket: rig.socket });
    endpoints.push(asker);
    for (const name of names) await asker.request(name, 'x');
    const counts = find((await scrape(rig.proxy.ready.metricsPort!)).samples, 'slotlink_request_round_trip_seconds_count');
    assert.equal(counts.length, MAX_ROUND_TRIP_NAMES + 1);
    assert.deepEqual(counts.filter((c) => c.labels.name !== OTHER_NAMES).map((c) => c.labels.name), names.slice(0, MAX_ROUND_TRIP_NAMES));
    assert.equal(value(counts, 'slotlink_request_round_trip_seconds_count', { name: OTHER_NAMES }), 2);
  } finally {
    await Promise.all(endpoints.map((e) => e.close()));
    await rig.close();
  }
});

test('refused peer connections and dropped replies are counters; a link\'s round trip is absent until measured', { timeout: 60_000 }, async () => {
  // A peer that never answers (port 1 refuses at once): its link exists and has no round trip.
  const mesh = await Mesh.start({ args: ['--metrics', '127.0.0.1:0', '--heartbeat-ms', '100'], perNode: (n) => (n === 'beta' ? ['--peer', 'nowhere=127.0.0.1:1'] : []) });
  const endpoints: Endpoint[] = [];
  try {
    const port = mesh.beta.ready.metricsPort!;
    let m = (await scrape(port)).samples;
    assert.equal(value(m, 'slotlink_link_up', { peer: 'nowhere' }), 0);
    assert.deepEqual(find(m, 'slotlink_link_rtt_seconds', { peer: 'nowhere' }), [], 'no round trip yet: no sample, not 0');
    assert.equal(value(m, 'slotlink_peer_connections_refused_total'), 0);

    // Not TLS on the link port: a connection refused.
    await new Promise<void>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: mesh.betaPort }, () => s.write(Buffer.alloc(64, 0xff)));
      s.on('error', () => {});
      s.resume().on('close', () => resolve());
    });
    await until(() => mesh.status('beta'), (s) => s.peerConnectionsRefused > 0);
    m = (await scrape(port)).samples;
    assert.equal(value(m, 'slotlink_peer_connections_refused_total'), 1);

    // A reply whose requester went away before it came: dropped, and counted.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let asked!: () => void;
    const arrived = new Promise<void>((r) => (asked = r));
    const slow = await connect({ name: 'slow', socket: mesh.socket('beta') });
    endpoints.push(slow);
    slow.respond(async (req) => {
      asked();
      await held;
      return req.data;
    });
    const requester = await mesh.worker('beta', 'impatient');
    void requester.call('tryRequest', { to: 'slow', timeout: 30_000 }).catch(() => {});
    await arrived;
    await requester.kill();
    await until(() => mesh.status('beta'), (s) => !s.slots.some((x) => x.name === 'impatient'));
    release();
    await until(() => mesh.status('beta'), (s) => s.router.repliesDropped > 0);
    m = (await scrape(port)).samples;
    assert.equal(value(m, 'slotlink_replies_dropped_total'), 1);
    // Once a heartbeat has measured it, the round trip is there, and not 0.
    await until(() => mesh.status('beta'), (s) => s.links.some((l) => l.peer === 'alpha' && l.rttMs !== null));
    const rtt = value((await scrape(port)).samples, 'slotlink_link_rtt_seconds', { peer: 'alpha' });
    assert.ok(rtt > 0 && rtt < 1, `rtt ${rtt} s`);
  } finally {
    await Promise.all(endpoints.map((e) => e.close()));
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
