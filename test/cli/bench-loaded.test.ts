/**
 * `slotlink bench --workload loaded` in its smallest mode: every contender measured in every
 * cell (bulk size × responder variant) or reported skipped, figures positive, issue 10's
 * targets judged, and the markdown table built from the same result. No timing is asserted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { CONTENDERS, SIZES, VARIANTS, renderLoaded, type LoadedResult } from '../../bench/loaded-requests.js';
import { CLI_PATH } from '../../src/cli/proxy-process.js';

test('slotlink bench --workload loaded --quick --json: each contender × bulk size × responder, or an explicit skip; targets judged', { timeout: 240_000 }, () => {
  const r = spawnSync(process.execPath, [CLI_PATH, 'bench', '--workload', 'loaded', '--quick', '--json', '--requests', '40'], { encoding: 'utf8', timeout: 230_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as LoadedResult;
  assert.equal(out.runs, 1);
  assert.equal(out.requests, 40);
  assert.equal(out.intervalMs, 1);
  assert.equal(out.bulkNice, 0, 'without --bulk-nice the bulk runs like every other process');
  const variants = Object.keys(VARIANTS);
  for (const [key, label] of Object.entries(CONTENDERS)) {
    const rows = out.rows.filter((x) => x.contender === key);
    const skipped = out.skipped.some((s) => s.startsWith(label));
    if (key === 'slotlink' || key === 'direct') assert.ok(!skipped, `${label} is never skipped`);
    if (skipped) {
      assert.deepEqual(rows, [], `${label} was skipped, so it has no rows`);
      continue;
    }
    assert.deepEqual(
      rows.map((x) => `${x.bulkSize} ${x.variant}`).sort(),
      SIZES.flatMap((size) => variants.map((v) => `${size} ${v}`)).sort(),
      `${label}: one row per bulk size and responder variant`,
    );
    for (const x of rows) {
      const what = `${label}, ${x.bulkSize} B, ${x.variant}`;
      assert.equal(x.label, label);
      for (const f of ['idleP50Ms', 'loadedP50Ms', 'loadedP99Ms', 'bulkMsgPerS', 'loadedPhaseMs'] as const)
        assert.ok(Number.isFinite(x[f]) && x[f] > 0, `${what}: ${f} = ${x[f]}`);
      assert.ok(x.loadedP99Ms >= x.loadedP50Ms, `${what}: p99 ${x.loadedP99Ms} ≥ p50 ${x.loadedP50Ms}`);
      // Paced: 40 requests a millisecond apart take at least ~39 ms to send.
      assert.ok(x.loadedPhaseMs >= 30, `${what}: the loaded phase lasted ${x.loadedPhaseMs} ms`);
      assert.ok(Number.isInteger(x.failed) && x.failed >= 0 && Number.isInteger(x.undelivered) && x.undelivered >= 0);
      // Read from /proc: the peers streamed and answered, so they used CPU; a wait may be 0.
      assert.ok(Number.isFinite(x.cpuCores) && x.cpuCores > 0, `${what}: cpuCores = ${x.cpuCores}`);
      assert.ok(Number.isFinite(x.pathWaitMs) && x.pathWaitMs >= 0, `${what}: pathWaitMs = ${x.pathWaitMs}`);
      // Per process: the six peers and the contender's own processes, read from the right pids:
      // those that carried the bulk (its first sender, the proxies, the server) used CPU.
      const own = key === 'slotlink' ? ['proxy alpha', 'proxy beta'] : key === 'nats' ? ['nats-server'] : [];
      assert.deepEqual(Object.keys(x.cpuCoresByProcess).sort(), ['bulk0', 'bulk1', 'requester', 'sink0', 'sink1', 'responder', ...own].sort());
      for (const [name, v] of Object.entries(x.cpuCoresByProcess)) assert.ok(Number.isFinite(v) && v >= 0, `${what}: ${name} ${v}`);
      for (const name of ['bulk0', ...own]) assert.ok(x.cpuCoresByProcess[name]! > 0, `${what}: ${name} carried bulk, yet used no CPU`);
    }
  }

  // Issue 10's targets for this workload: per bulk size, p50 vs idle, p99 vs NATS and ZeroMQ,
  // bulk vs NATS; and p50 vs NATS when the responder also receives bulk.
  assert.equal(out.targets.length, 8);
  const natsSkipped = out.skipped.some((s) => s.startsWith('NATS'));
  const zmqSkipped = out.skipped.some((s) => s.startsWith('ZeroMQ'));
  for (const t of out.targets) {
    const needsNats = /NATS/.test(t.target);
    const needsZmq = /ZeroMQ/.test(t.target);
    if ((needsNats && natsSkipped) || (needsZmq && zmqSkipped)) assert.equal(t.met, null, t.target);
    else assert.equal(typeof t.met, 'boolean', `${t.target}: ${t.figures}`);
  }
  assert.equal(out.targets.filter((t) => t.target.startsWith('loaded request p50 ≤ max(1 ms, 3 × idle p50)')).length, 2);

  // The table printed without --json comes from the same result.
  const lines = renderLoaded(out);
  const header = lines.indexOf('| contender | bulk size | responder | idle p50 | loaded p50 | loaded p99 | bulk msg/s while loaded | CPU while loaded (cores) | wait for a CPU, request path (ms) |');
  assert.ok(header > 0, lines.join('\n'));
  const table = lines.slice(header + 2, lines.indexOf('', header));
  assert.equal(table.length, out.rows.length);
  for (const row of table) assert.match(row, /^\| [^|]+ \| (64 B|4 KiB) \| (separate|also receives bulk) \|( \d+\.\d+ \|){3} \d+\.\d( k| M)? \| \d+\.\d\d \| \d+\.\d+ \|$/);
  const byProcess = lines.slice(lines.indexOf('CPU by process while loaded (cores):') + 1, lines.indexOf('targets (issue 10):') - 1);
  assert.equal(byProcess.length, out.rows.length);
  for (const l of byProcess) assert.match(l, /^- .+: (bulk0|[a-z ]+) \d+\.\d\d(, [a-z0-9 -]+ \d+\.\d\d)+$/);
  const targets = lines.slice(lines.indexOf('targets (issue 10):') + 1).filter((l) => l.startsWith('- '));
  assert.equal(targets.length, 8);
  for (const t of targets) assert.match(t, /: \*\*(met|not met|not measured)\*\* \(.+\)$/);
});

test('slotlink bench --workload loaded --bulk-nice 19: the bulk senders and receivers run at that nice value; a value out of range is refused', { timeout: 120_000 }, () => {
  const bad = spawnSync(process.execPath, [CLI_PATH, 'bench', '--workload', 'loaded', '--bulk-nice', '20'], { encoding: 'utf8' });
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /"bulk-nice": expected a whole number in 0\.\.19, got "20" \(SLOTLINK_ERR_CONFIG\)/);
  const elsewhere = spawnSync(process.execPath, [CLI_PATH, 'bench', '--workload', 'link', '--bulk-nice', '5'], { encoding: 'utf8' });
  assert.equal(elsewhere.status, 2, elsewhere.stderr);
  assert.match(elsewhere.stderr, /--bulk-nice applies to the loaded workload/);

  const r = spawnSync(process.execPath, [CLI_PATH, 'bench', '--workload', 'loaded', '--quick', '--json', '--requests', '40', '--contenders', 'slotlink', '--bulk-nice', '19'], { encoding: 'utf8', timeout: 110_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as LoadedResult;
  assert.equal(out.bulkNice, 19, 'as the kernel reports it for the bulk processes');
  assert.equal(out.rows.length, SIZES.length * Object.keys(VARIANTS).length);
  assert.match(renderLoaded(out)[0]!, /bulk senders and receivers at nice 19;/);
});
