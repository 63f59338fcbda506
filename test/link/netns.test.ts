/**
 * The two proxies on two different hosts' addresses: each runs in its own network
 * namespace, joined by a veth pair, so the link really crosses between addresses. Needs
 * root and iproute2; skipped with the reason otherwise. Every namespace and link the
 * test makes is removed afterwards.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startProxyProcess, type ProxyProcess } from '../../src/cli/proxy-process.js';
import { secretFlags } from '../helpers/mesh.js';
import { startWorker, type Worker } from '../helpers/worker.js';

function why(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  if (spawnSync('ip', ['-V']).status !== 0) return 'needs the ip command (iproute2)';
  return null;
}

const skip = why();

test('two proxies in two network namespaces joined by a veth pair exchange messages over one connection', { skip: skip ?? false, timeout: 60_000 }, async (t) => {
  const tag = `${process.pid % 100000}`;
  const ns = [`slA${tag}`, `slB${tag}`];
  const addr = ['10.213.7.1', '10.213.7.2'];
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-netns-'));
  const procs: ProxyProcess[] = [];
  const workers: Worker[] = [];
  try {
    for (const n of ns) ip('netns', 'add', n);
    ip('link', 'add', `vA${tag}`, 'type', 'veth', 'peer', 'name', `vB${tag}`);
    ip('link', 'set', `vA${tag}`, 'netns', ns[0]!);
    ip('link', 'set', `vB${tag}`, 'netns', ns[1]!);
    ip('-n', ns[0]!, 'addr', 'add', `${addr[0]}/24`, 'dev', `vA${tag}`);
    ip('-n', ns[1]!, 'addr', 'add', `${addr[1]}/24`, 'dev', `vB${tag}`);
    for (const [i, n] of ns.entries()) {
      ip('-n', n, 'link', 'set', 'lo', 'up');
      ip('-n', n, 'link', 'set', i === 0 ? `vA${tag}` : `vB${tag}`, 'up');
    }
    const security = secretFlags(dir);
    const beta = await startProxyProcess(join(dir, 'beta.sock'), ['--node', 'beta', '--listen', `${addr[1]}:7400`, ...security], { prefix: ['ip', 'netns', 'exec', ns[1]!] });
    procs.push(beta);
    const alpha = await startProxyProcess(join(dir, 'alpha.sock'), ['--node', 'alpha', '--listen', `${addr[0]}:7400`, '--peer', `beta=${addr[1]}:7400`, ...security], { prefix: ['ip', 'netns', 'exec', ns[0]!] });
    procs.push(alpha);
    const up = await alpha.waitForLog((l) => l.includes('"link up"'));
    assert.match(up, new RegExp(`"remote":"${addr[1].replace(/\./g, '\\.')}:7400"`), 'alpha reached beta at its own address');
    const betaUp = await beta.waitForLog((l) => l.includes('"link up"'));
    assert.match(betaUp, new RegExp(`"remote":"${addr[0].replace(/\./g, '\\.')}:\\d+"`), 'beta saw alpha come from the other address');

    // Processes register through the (shared) file system, in the root namespace.
    const start = async (sock: string, name: string, extra: Record<string, unknown> = {}) => {
      const w = await startWorker();
      workers.push(w);
      await w.call('connect', { socket: join(dir, sock), name, ...extra });
      return w;
    };
    const senders = [await start('alpha.sock', 'n0'), await start('alpha.sock', 'n1')];
    const sink = await start('beta.sock', 'sink', { echo: true });
    await Promise.all(senders.map((s) => s.call('send', { to: 'sink@beta', count: 5000, size: 200 })));
    const r = await sink.call('collect', { count: 10_000 });
    assert.equal(r.received, 10_000);
    assert.deepEqual(r.bad, []);
    assert.equal((await senders[0]!.call('request', { to: 'sink@beta', data: 'across' })).reply, 'across');
    const tcp = execFileSync('ip', ['netns', 'exec', ns[1]!, 'cat', '/proc/net/tcp'], { encoding: 'utf8' });
    const established = tcp.split('\n').filter((l) => l.trim().split(/\s+/)[3] === '01');
    assert.equal(established.length, 1, 'one TCP connection in beta\'s namespace');
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await Promise.all(procs.map((p) => p.stop()));
    for (const n of ns) spawnSync('ip', ['netns', 'del', n]);
    rmSync(dir, { recursive: true, force: true });
    t.diagnostic(`namespaces ${ns.join(', ')} removed`);
  }
});

