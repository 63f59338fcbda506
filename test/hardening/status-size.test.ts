/**
 * Regression (hardening #1): a status reply past 64 KiB used to throw inside the
 * registration socket's handler and take the proxy down with every slot. Status must
 * work with 1000 slots and 300 links, and the proxy must go on serving afterwards.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect } from '../../src/client/connect.js';
import type { Endpoint } from '../../src/client/endpoint.js';
import { CLI_PATH } from '../../src/cli/proxy-process.js';
import type { ProxyStats } from '../../src/proxy/stats.js';
import { Rig } from '../helpers/rig.js';

const SLOTS = 1000;
const PEERS = 300;

test('status with 1000 slots and 300 links: answered in full, and the proxy lives on', { timeout: 120_000 }, async () => {
  // 300 peers that never answer (port 1 refuses at once) still each have a link record.
  const rig = new Rig();
  const config = join(rig.dir, 'peers.json');
  writeFileSync(config, JSON.stringify({ peer: Array.from({ length: PEERS }, (_, i) => `peer${i}=127.0.0.1:1`) }));
  await rig.startProxy(['--config', config, '--insecure-plaintext', '--max-slots', String(SLOTS + 10), '--cells', '2', '--cell-bytes', '256']);
  const endpoints: Endpoint[] = [];
  try {
    for (let i = 0; i < SLOTS; i++) endpoints.push(await connect({ name: `worker-${i}`, socket: rig.socket }));
    const r = spawnSync(process.execPath, [CLI_PATH, 'status', '--socket', rig.socket, '--json'], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.length > 64 * 1024, `the reply is past the old 64 KiB limit (${r.stdout.length} bytes)`);
    const s = JSON.parse(r.stdout) as ProxyStats;
    assert.equal(s.slots.length, SLOTS);
    assert.equal(s.links.length, PEERS);
    // Still alive and serving: the proxy answers a request, and every slot is still there.
    assert.equal((await endpoints[0]!.request('~proxy', 'alive?')).toString(), 'alive?');
    assert.equal(rig.proxy.child.exitCode, null);
  } finally {
    await Promise.all(endpoints.map((e) => e.close()));
    await rig.close();
  }
});
