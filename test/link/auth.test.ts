/**
 * Proxies prove who they are before anything else. A peer with the wrong secret or
 * certificate, one claiming another node's name, and garbage sent to the listening port
 * are refused with a clear log line; the proxy keeps serving its other peers throughout.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI_PATH, startProxyProcess, type ProxyProcess } from '../../src/cli/proxy-process.js';
import { makeCa, makeNodeCert } from '../helpers/certs.js';
import { Mesh } from '../helpers/mesh.js';

async function stillServing(mesh: Mesh, tag: string): Promise<void> {
  const a = await mesh.worker('alpha', `ask-${tag}`);
  await mesh.worker('beta', `answer-${tag}`, { echo: true });
  assert.equal((await a.call('request', { to: `answer-${tag}@beta`, data: tag })).reply, tag, 'alpha and beta still talk');
}

function sendGarbage(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    s.resume(); // read (and drop) the proxy's answer, so its close is seen
    s.on('error', () => resolve());
    s.on('close', () => resolve());
  });
}

test('shared secret: a peer with the wrong secret is refused; garbage is refused; others keep being served', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start();
  let mallory: ProxyProcess | null = null;
  try {
    const wrong = join(mesh.dir, 'wrong-secret');
    writeFileSync(wrong, randomBytes(32));
    mallory = await startProxyProcess(join(mesh.dir, 'mallory.sock'), ['--node', 'mallory', '--peer', `beta=127.0.0.1:${mesh.betaPort}`, '--secret-file', wrong]);
    await mesh.beta.waitForLog((l) => l.includes('peer refused: authentication failed'));
    await mallory.waitForLog((l) => l.includes('dial failed'));
    await sendGarbage(mesh.betaPort, Buffer.from('GET / HTTP/1.1\r\nHost: beta\r\n\r\n'));
    await sendGarbage(mesh.betaPort, randomBytes(4096));
    await stillServing(mesh, 'secret');
    const sb = await mesh.status('beta');
    assert.deepEqual(sb.links.map((l) => [l.peer, l.status.state]), [['alpha', 'up']], 'mallory never got a link');
    assert.ok(sb.links[0]!.connectionsRefused >= 3);
  } finally {
    await mallory?.stop();
    await mesh.close();
  }
});

test('certificates: a foreign certificate and a node claiming another name are refused; others keep being served', { timeout: 60_000 }, async () => {
  let flags: Record<string, string[]> = {};
  const mesh = await Mesh.start({
    security: (dir) => {
      makeCa(dir, 'good');
      makeCa(dir, 'evil');
      flags = {
        alpha: makeNodeCert(dir, 'good', 'alpha'),
        beta: makeNodeCert(dir, 'good', 'beta'),
        foreign: makeNodeCert(dir, 'evil', 'gamma', 'foreign'),
        honest: makeNodeCert(dir, 'good', 'delta'),
      };
      return [];
    },
    perNode: (node) => flags[node]!,
  });
  const extra: ProxyProcess[] = [];
  try {
    const sa = await mesh.status('alpha');
    assert.equal(sa.links[0]!.status.state, 'up', 'mutual TLS between alpha and beta');
    // A certificate from another CA.
    extra.push(await startProxyProcess(join(mesh.dir, 'gamma.sock'), ['--node', 'gamma', '--peer', `beta=127.0.0.1:${mesh.betaPort}`, ...flags.foreign!]));
    await mesh.beta.waitForLog((l) => l.includes('peer refused: authentication failed'));
    // A valid certificate for "delta" used to claim to be "alpha".
    extra.push(await startProxyProcess(join(mesh.dir, 'fake.sock'), ['--node', 'alpha', '--peer', `beta=127.0.0.1:${mesh.betaPort}`, ...flags.honest!]));
    await mesh.beta.waitForLog((l) => l.includes('authenticated as \\"delta\\" but says it is \\"alpha\\"'));
    await sendGarbage(mesh.betaPort, randomBytes(2048));
    await stillServing(mesh, 'tls');
    const sb = await mesh.status('beta');
    assert.deepEqual(sb.links.map((l) => [l.peer, l.status.state]), [['alpha', 'up']]);
    assert.equal(sb.links[0]!.reconnects, 0, 'the impostor did not disturb the real alpha\'s link');
  } finally {
    await Promise.all(extra.map((p) => p.stop()));
    await mesh.close();
  }
});

test('plaintext only when asked: links without security are refused at start; with --insecure-plaintext the log says so', { timeout: 60_000 }, async () => {
  const r = spawnSync(process.execPath, [CLI_PATH, 'proxy', '--socket', '/tmp/slotlink-never.sock', '--listen', '127.0.0.1:0'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /links need --secret-file, or --tls-cert\/--tls-key\/--tls-ca, or \(on a trusted network only\) --insecure-plaintext/);
  const mesh = await Mesh.start({ security: () => ['--insecure-plaintext'] });
  try {
    assert.ok(mesh.beta.logs.some((l) => l.includes('link listener is PLAINTEXT')));
    // Garbage on a plaintext port is a protocol error for that connection only.
    await sendGarbage(mesh.betaPort, Buffer.concat([Buffer.from([255, 255, 255, 127]), randomBytes(64)]));
    await mesh.beta.waitForLog((l) => l.includes('length 2147483647 is outside'));
    await stillServing(mesh, 'plain');
  } finally {
    await mesh.close();
  }
});

