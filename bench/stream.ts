/**
 * One sender streaming to one receiver, for A/B comparisons of a single change:
 * through one proxy, or across two linked proxies (--across).
 *
 *   node dist/bench/stream.js [--across] [--size 64] [--messages 1000000] [--repeat 2]
 *                             [--plaintext] [--credit-window N] [--max-queued-bytes N]
 *
 * Prints msg/s and MB/s for each repeat (the first one includes warm-up).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startProxyProcess, type ProxyProcess } from '../src/cli/proxy-process.js';
import { IpcChild } from '../src/util/ipc-child.js';

const { values } = parseArgs({ options: { across: { type: 'boolean' }, size: { type: 'string' }, messages: { type: 'string' }, repeat: { type: 'string' }, plaintext: { type: 'boolean' }, 'credit-window': { type: 'string' }, 'max-queued-bytes': { type: 'string' } } });
const size = Number(values.size ?? 64);
const n = Number(values.messages ?? (size >= 1024 ? 150_000 : 1_000_000));
const PEER = fileURLToPath(new URL('./peer.js', import.meta.url));
const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-stream-'));
const proxies: ProxyProcess[] = [];
const peers: IpcChild[] = [];
try {
  let to = 'receiver';
  let senderSocket = join(dir, 'a.sock');
  let receiverSocket = senderSocket;
  if (values.across) {
    writeFileSync(join(dir, 'secret'), randomBytes(32));
    const security = values.plaintext ? ['--insecure-plaintext'] : ['--secret-file', join(dir, 'secret')];
    const extra = values['credit-window'] ? ['--credit-window', values['credit-window']] : [];
    receiverSocket = join(dir, 'b.sock');
    const beta = await startProxyProcess(receiverSocket, ['--node', 'beta', '--listen', '127.0.0.1:0', ...security, ...extra]);
    proxies.push(beta);
    const port = JSON.parse(beta.logs.find((l) => l.includes('"proxy listening"'))!).linkPort;
    const alpha = await startProxyProcess(senderSocket, ['--node', 'alpha', '--peer', `beta=127.0.0.1:${port}`, ...security, ...extra]);
    proxies.push(alpha);
    await alpha.waitForLog((l) => l.includes('"link up"'));
    to = 'receiver@beta';
  } else {
    const queued = values['max-queued-bytes'] ? ['--max-queued-bytes', values['max-queued-bytes']] : [];
    proxies.push(await startProxyProcess(senderSocket, ['--node', 'alpha', ...queued]));
  }
  const sender = await IpcChild.fork(PEER);
  const receiver = await IpcChild.fork(PEER);
  peers.push(sender, receiver);
  await sender.call('connect', { socket: senderSocket, name: 'sender' });
  await receiver.call('connect', { socket: receiverSocket, name: 'receiver' });
  for (let r = 0; r < Number(values.repeat ?? 2); r++) {
    await receiver.call('expect', { n });
    const arrived = receiver.call('arrived');
    const { start } = await sender.call('slotlinkStream', { to, n, size });
    const { at } = await arrived;
    const seconds = (at - start) / 1e6;
    process.stdout.write(`${values.across ? 'across two proxies' : 'through one proxy'}, ${size} B: ${Math.round(n / seconds).toLocaleString()} msg/s, ${Math.round((n * size) / seconds / 1e6)} MB/s\n`);
  }
  await Promise.all(peers.map((p) => p.call('close')));
} finally {
  await Promise.all(peers.map((p) => p.kill()));
  await Promise.all(proxies.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
}
