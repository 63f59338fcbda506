/**
 * `slotlink bench --workload pubsub` in its smallest mode: each contender measured at each
 * size or reported skipped, every subscriber received every publication in order, each
 * publication crossed the link once, issue 12's target judged, and the markdown table built
 * from the same result. No timing is asserted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { CONTENDERS, DEFAULT_SIZES, SUBSCRIBERS, renderPubsub, type PubsubResult } from '../../bench/pubsub.js';
import { CLI_PATH } from '../../src/cli/proxy-process.js';

test('slotlink bench --workload pubsub --quick --json: each contender × size, or an explicit skip; every subscriber got everything; target judged', { timeout: 240_000 }, () => {
  const r = spawnSync(process.execPath, [CLI_PATH, 'bench', '--workload', 'pubsub', '--quick', '--json', '--messages', '5000'], { encoding: 'utf8', timeout: 230_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as PubsubResult;
  assert.equal(out.runs, 1);
  assert.equal(out.subscribers, 6);
  assert.equal(SUBSCRIBERS.filter((s) => s.side === 'alpha').length, 3);
  for (const [key, label] of Object.entries(CONTENDERS)) {
    const rows = out.rows.filter((x) => x.contender === key);
    const skipped = out.skipped.some((s) => s.startsWith(label));
    if (key === 'slotlink') assert.ok(!skipped, 'slotlink is never skipped');
    if (skipped) {
      assert.deepEqual(rows, [], `${label} was skipped, so it has no rows`);
      continue;
    }
    assert.deepEqual(rows.map((x) => x.size), [...DEFAULT_SIZES], `${label}: one row per size`);
    for (const x of rows) {
      const what = `${label}, ${x.size} B`;
      assert.equal(x.label, label);
      assert.equal(x.publications, x.size === 64 ? 5000 : 500, `${what}: --messages at 64 B, as many bytes (at least a tenth as many) at 4 KiB`);
      for (const f of ['deliveredMsgPerS', 'publisherMsgPerS'] as const) assert.ok(Number.isFinite(x[f]) && x[f] > 0, `${what}: ${f} = ${x[f]}`);
      // Every subscriber received every publication, in order, and nothing from another measurement.
      assert.deepEqual(x.failures, [], what);
      assert.equal(x.complete, x.measured, what);
      assert.equal(x.measured, 1);
      if (key === 'slotlink') {
        // Once over the link per publication, however many subscribers beta has; three copies on each side.
        assert.deepEqual(x.link, { published: x.publications, sentToPeers: x.publications, receivedByPeer: x.publications, deliveredAlpha: 3 * x.publications, deliveredBeta: 3 * x.publications }, what);
      } else assert.equal(x.link, undefined);
    }
  }

  // Issue 12's target, per size: judged, or "not measured" when NATS was skipped.
  const natsSkipped = out.skipped.some((s) => s.startsWith('NATS'));
  assert.deepEqual(out.targets.map((t) => t.target), ['delivered ≥ 2 × NATS, 64 B', 'delivered ≥ 2 × NATS, 4 KiB']);
  for (const t of out.targets) assert.equal(natsSkipped ? t.met === null : typeof t.met === 'boolean', true, `${t.target}: ${t.figures}`);
  if (!natsSkipped) assert.ok(out.notes.some((n) => /one local nats-server .*different setup/.test(n)), 'the notes say how NATS was set up');

  // The table printed without --json comes from the same result.
  const lines = renderPubsub(out);
  const header = lines.indexOf('| contender | size | publications | delivered msg/s | publisher msg/s | slotlink / NATS (delivered) |');
  assert.ok(header > 0, lines.join('\n'));
  const table = lines.slice(header + 2, lines.indexOf('', header));
  assert.equal(table.length, out.rows.length);
  for (const row of table) assert.match(row, /^\| (slotlink|NATS) \| (64 B|4 KiB) \| \d+ \| \d+\.\d( k| M)? \| \d+\.\d( k| M)? \| (\d+\.\d\d×|-) \|$/);
  assert.equal(lines.filter((l) => /FAILED|NOT once/.test(l)).length, 0);
  assert.equal(lines.filter((l) => l.includes('each publication crossed the link once')).length, DEFAULT_SIZES.length);
  const targets = lines.slice(lines.indexOf('target (issue 12):') + 1).filter((l) => l.startsWith('- '));
  assert.equal(targets.length, 2);
  for (const t of targets) assert.match(t, /^- delivered ≥ 2 × NATS, (64 B|4 KiB): \*\*(met|not met|not measured)\*\* \(.+\)$/);
});
