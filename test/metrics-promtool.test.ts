/**
 * `promtool check metrics` (Prometheus's own linter) passes on what both proxies of a mesh
 * serve while they carry traffic: slots and a group, a process gone, a link, sends, local
 * and remote requests, a refused peer connection, an undeliverable send. .ci/run installs
 * promtool (Debian's package prometheus); without it, and outside CI, the test is skipped.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { Mesh } from './helpers/mesh.js';
import { find, promtool, promtoolCheck, scrape } from './helpers/prometheus.js';

const tool = promtool();
// In CI promtool is installed by .ci/run: its absence there is a failure, not a skip.
const skip = tool === null && !process.env.CI ? 'promtool is not installed (apt-get install prometheus, as .ci/run does)' : false;

test('promtool check metrics passes on live proxies with traffic', { timeout: 90_000, skip }, async () => {
  assert.ok(tool, 'promtool is on PATH (.ci/run installs Debian\'s package prometheus)');
  const mesh = await Mesh.start({ args: ['--metrics', '127.0.0.1:0'] });
  try {
    const sink = await mesh.worker('beta', 'sink');
    await mesh.worker('beta', 'echo', { echo: true, group: true });
    await mesh.worker('beta', 'echo', { echo: true, group: true });
    await mesh.worker('alpha', 'local-echo', { echo: true });
    const src = await mesh.worker('alpha', 'src');
    const gone = await mesh.worker('alpha', 'gone');
    await gone.call('send', { to: 'sink@beta', count: 10, size: 10 });
    await gone.kill();
    await src.call('send', { to: 'sink@beta', count: 500, size: 200 });
    await sink.call('collect', { count: 510 });
    for (let i = 0; i < 10; i++) await src.call('request', { to: 'echo@beta', data: `r${i}` });
    for (let i = 0; i < 10; i++) await src.call('request', { to: 'local-echo', data: `l${i}` });
    await src.call('send', { to: 'nobody@beta', count: 1, size: 16 });
    await new Promise<void>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: mesh.betaPort }, () => s.write(Buffer.alloc(64, 0xff)));
      s.on('error', () => {});
      s.resume().on('close', () => resolve());
    });
    for (const side of ['alpha', 'beta'] as const) {
      const { text, samples } = await scrape(mesh[side].ready.metricsPort!);
      // The scrape is the one meant: traffic, a histogram and process metrics are in it.
      assert.ok(find(samples, 'slotlink_request_round_trip_seconds_count', { name: side === 'alpha' ? 'local-echo' : 'echo' }).length === 1, `${side}: a round-trip histogram`);
      assert.ok(find(samples, 'process_open_fds').length === 1);
      const r = promtoolCheck(tool, text);
      assert.equal(r.said, '', `promtool on ${side}'s metrics:\n${r.said}`);
      assert.equal(r.status, 0, `promtool exit status on ${side}'s metrics`);
    }
  } finally {
    await mesh.close();
  }
});

test('promtool rejects what breaks the exposition rules (so the check above can fail)', { skip }, () => {
  assert.ok(tool);
  const bad = '# HELP x_bytes sent\n# TYPE x_bytes counter\nx_bytes 1\n';
  const r = promtoolCheck(tool, bad);
  assert.notEqual(r.status, 0);
  assert.match(r.said, /_total/);
});
