/**
 * SIGHUP reloads the configuration file: peers added and removed, the shared secret
 * rotated, the log level changed, without a new session for the peers that stay; a change
 * to anything else is refused with a message naming the key, and the proxy goes on.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startProxyProcess, type ProxyProcess } from '../../src/cli/proxy-process.js';
import { requestStatus } from '../../src/client/registration.js';
import type { ProxyStats } from '../../src/proxy/stats.js';
import { makeCa, makeNodeCert } from '../helpers/certs.js';
import { startWorker, type Worker } from '../helpers/worker.js';

const status = (p: ProxyProcess) => requestStatus(p.socket) as Promise<ProxyStats>;

async function until(what: () => Promise<boolean>): Promise<void> {
  while (!(await what())) await new Promise((r) => setTimeout(r, 20));
}

/** A test's directory and the proxies and worker processes it starts, all gone at its end. */
class Scene {
  readonly dir: string;
  private readonly proxies: ProxyProcess[] = [];
  private readonly workers: Worker[] = [];

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(os.tmpdir(), prefix));
  }

  /** A proxy with its socket in the directory, named after `name`. */
  async proxy(name: string, args: string[]): Promise<ProxyProcess> {
    const p = await startProxyProcess(join(this.dir, `${name}.sock`), args);
    this.proxies.push(p);
    return p;
  }

  /** A worker process registered with `on` (connect's arguments in `options`). */
  async worker(on: ProxyProcess, options: Record<string, unknown>): Promise<Worker> {
    const w = await startWorker();
    this.workers.push(w);
    await w.call('connect', { socket: on.socket, ...options });
    return w;
  }

  async close(): Promise<void> {
    for (const p of this.proxies) {
      try {
        process.kill(p.pid, 'SIGCONT'); // a stopped proxy cannot take SIGTERM
      } catch {
        // gone
      }
    }
    await Promise.all(this.workers.map((w) => w.kill()));
    await Promise.all(this.proxies.map((p) => p.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

test('SIGHUP: peers added and removed, the secret rotated and the log level changed, live; other keys refused by name', { timeout: 90_000 }, async () => {
  const scene = new Scene('slotlink-reload-');
  const dir = scene.dir;
  const secret = join(dir, 'secret');
  writeFileSync(secret, randomBytes(32), { mode: 0o600 });
  const config = join(dir, 'alpha.json');
  const alphaConfig = (extra: Record<string, unknown>) => writeFileSync(config, JSON.stringify({ node: 'alpha', listen: '127.0.0.1:0', secretFile: secret, ...extra }));
  const hup = async (p: ProxyProcess, expect: string) => {
    const seen = p.logs.filter((l) => l.includes(expect)).length;
    p.child.kill('SIGHUP');
    await until(async () => p.logs.filter((l) => l.includes(expect)).length > seen);
    return p.logs.filter((l) => l.includes(expect)).at(-1)!;
  };
  try {
    const beta = await scene.proxy('beta', ['--node', 'beta', '--listen', '127.0.0.1:0', '--secret-file', secret]);
    alphaConfig({ peer: [] });
    const alpha = await scene.proxy('alpha', ['--config', config]);
    assert.equal((await status(alpha)).links.length, 0);

    // A peer added.
    alphaConfig({ peer: [`beta=127.0.0.1:${beta.ready.linkPort}`] });
    assert.match(await hup(alpha, 'configuration reloaded'), /"peersAdded":\["beta"\]/);
    await until(async () => (await status(alpha)).links.some((l) => l.peer === 'beta' && l.status.state === 'up'));
    const sink = await scene.worker(beta, { name: 'sink', echo: true });
    const src = await scene.worker(alpha, { name: 'src' });
    assert.equal((await src.call('request', { to: 'sink@beta', data: 'hello' })).reply, 'hello');

    // A setting that cannot change while running: refused by name; nothing else changes.
    alphaConfig({ peer: [`beta=127.0.0.1:${beta.ready.linkPort}`], maxSlots: 7 });
    assert.match(await hup(alpha, 'configuration reload refused'), /"keys":\["maxSlots"\]/);
    assert.equal((await src.call('request', { to: 'sink@beta', data: 'still' })).reply, 'still');

    // The secret rotated on both: the link stays up in the same session; new connections need the new secret.
    writeFileSync(secret, randomBytes(32), { mode: 0o600 });
    alphaConfig({ peer: [`beta=127.0.0.1:${beta.ready.linkPort}`] });
    await Promise.all([hup(alpha, 'configuration reloaded'), hup(beta, 'configuration reloaded')]);
    const gamma = await scene.proxy('gamma', ['--node', 'gamma', '--peer', `beta=127.0.0.1:${beta.ready.linkPort}`, '--secret-file', secret]);
    await until(async () => (await status(gamma)).links.some((l) => l.status.state === 'up'));
    const a = (await status(alpha)).links.find((l) => l.peer === 'beta')!;
    assert.equal(a.status.state, 'up');
    assert.equal(a.reconnects + a.peerRestarts, 0, 'the link that stayed kept its connection and session');
    assert.equal((await src.call('request', { to: 'sink@beta', data: 'after rotation' })).reply, 'after rotation');

    // The log level.
    alphaConfig({ peer: [`beta=127.0.0.1:${beta.ready.linkPort}`], logLevel: 'warn' });
    await hup(alpha, '"peersAdded":[]');
    const quiet = await scene.worker(alpha, { name: 'unlogged' });
    await until(async () => (await status(alpha)).slots.some((s) => s.name === 'unlogged'));
    assert.ok(!alpha.logs.some((l) => l.includes('unlogged')), 'info lines are no longer written');

    // The peer removed: its link closes and its names go.
    alphaConfig({ peer: [], logLevel: 'info' });
    assert.match(await hup(alpha, 'configuration reloaded'), /"peersRemoved":\["beta"\]/);
    const after = await status(alpha);
    assert.deepEqual(after.links.map((l) => l.peer), []);
    assert.deepEqual(after.remoteDirectory, []);
  } finally {
    await scene.close();
  }
});

test('SIGHUP with mutual TLS: a new certificate and CA serve new connections; the link that stays keeps its session', { timeout: 90_000 }, async () => {
  const scene = new Scene('slotlink-reload-tls-');
  const dir = scene.dir;
  try {
    makeCa(dir, 'one');
    makeCa(dir, 'two');
    const [, betaCert, , betaKey] = makeNodeCert(dir, 'one', 'beta');
    const betaConfig = (ca: string) => writeFileSync(join(dir, 'beta.json'), JSON.stringify({ node: 'beta', listen: '127.0.0.1:0', tlsCert: betaCert, tlsKey: betaKey, tlsCa: join(dir, `${ca}-ca.crt`) }));
    betaConfig('one');
    const beta = await scene.proxy('beta', ['--config', join(dir, 'beta.json')]);
    const alpha = await scene.proxy('alpha', ['--node', 'alpha', '--peer', `beta=127.0.0.1:${beta.ready.linkPort}`, ...makeNodeCert(dir, 'one', 'alpha')]);
    const sink = await scene.worker(beta, { name: 'sink', echo: true });
    const src = await scene.worker(alpha, { name: 'src' });
    await until(async () => (await status(alpha)).remoteDirectory.some((d) => d.names.includes('sink')));
    assert.equal((await src.call('request', { to: 'sink@beta', data: 'before' })).reply, 'before');

    // A peer whose certificate a second CA signed is refused while beta trusts only the first.
    const gamma = await scene.proxy('gamma', ['--node', 'gamma', '--peer', `beta=127.0.0.1:${beta.ready.linkPort}`, ...makeNodeCert(dir, 'two', 'gamma')]);
    await until(async () => (await status(beta)).peerConnectionsRefused > 0);

    // Beta's certificate renewed under the second CA, which it now trusts: reloaded, not restarted.
    makeNodeCert(dir, 'two', 'beta');
    betaConfig('two');
    beta.child.kill('SIGHUP');
    await beta.waitForLog((l) => l.includes('configuration reloaded'));
    await until(async () => (await status(gamma)).links.some((l) => l.peer === 'beta' && l.status.state === 'up'));
    const a = (await status(alpha)).links.find((l) => l.peer === 'beta')!;
    assert.equal(a.status.state, 'up');
    assert.equal(a.reconnects + a.peerRestarts, 0, 'the link made under the old certificates kept its connection and session');
    assert.equal((await src.call('request', { to: 'sink@beta', data: 'after' })).reply, 'after');
  } finally {
    await scene.close();
  }
});

test('SIGHUP removing a peer whose link holds messages back: the SENDs that never left are failed back, not dropped', { timeout: 90_000 }, async () => {
  const scene = new Scene('slotlink-reload-drop-');
  const dir = scene.dir;
  try {
    const beta = await scene.proxy('beta', ['--node', 'beta', '--listen', '127.0.0.1:0', '--insecure-plaintext']);
    const config = join(dir, 'alpha.json');
    writeFileSync(config, JSON.stringify({ node: 'alpha', insecurePlaintext: true, peer: [`beta=127.0.0.1:${beta.ready.linkPort}`] }));
    const alpha = await scene.proxy('alpha', ['--config', config]);
    const sink = await scene.worker(beta, { name: 'sink' });
    const sender = await scene.worker(alpha, { name: 'sender', quiet: true });
    await until(async () => (await status(alpha)).remoteDirectory.some((d) => d.names.includes('sink')));

    // Beta stops taking anything: alpha's pipe fills and the rest waits on its link.
    process.kill(beta.pid, 'SIGSTOP');
    await sender.call('sendForever', { to: 'sink@beta', size: 1000, report: 1 });
    await until(async () => ((await status(alpha)).links.find((l) => l.peer === 'beta')?.waitingMessages ?? 0) > 50);
    writeFileSync(config, JSON.stringify({ node: 'alpha', insecurePlaintext: true, peer: [] }));
    alpha.child.kill('SIGHUP');
    await alpha.waitForLog((l) => l.includes('"peersRemoved":["beta"]'));
    await until(async () => ((await sender.call('undeliverable')) as Record<string, number>).SLOTLINK_ERR_UNREACHABLE > 100);
    await sender.call('stopSending', { wait: false });
  } finally {
    await scene.close();
  }
});
