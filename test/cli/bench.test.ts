/** `slotlink bench --quick` produces every row for every contender, or says it skipped one. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { CLI_PATH } from '../../src/cli/proxy-process.js';

test('slotlink bench --quick --json: every workload measured for each contender, or an explicit skip', { timeout: 240_000 }, () => {
  const r = spawnSync(process.execPath, [CLI_PATH, 'bench', '--quick', '--json', '--pairs', '1,2', '--messages', '4000'], { encoding: 'utf8', timeout: 230_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { result: Array<Record<string, number | string>>; skipped: string[]; connections: Record<string, number | null> };
  const whats = out.result.map((x) => x.what);
  assert.deepEqual(whats, [
    '1 pair, 64 B (msg/s)',
    '1 pair, 4 KiB (msg/s)',
    '2 pairs, 64 B (msg/s)',
    '2 pairs, 4 KiB (msg/s)',
    'request round trip, median (µs)',
    'request round trip, p99 (µs)',
  ]);
  const contenders = ['slotlink', 'tcp', 'nats', 'zmq'];
  for (const c of contenders) {
    const name = { slotlink: 'slotlink', tcp: 'direct TCP', nats: 'NATS', zmq: 'ZeroMQ' }[c]!;
    const skippedIt = out.skipped.some((s) => s.startsWith(name));
    for (const row of out.result) {
      if (skippedIt) assert.equal(row[c], undefined, `${name} was skipped, so it has no ${row.what}`);
      else assert.ok(typeof row[c] === 'number' && (row[c] as number) > 0, `${name}: ${row.what} = ${row[c]}`);
    }
  }
  assert.equal(out.connections.slotlink, 1);
  assert.equal(out.connections.tcp, 2);
});
