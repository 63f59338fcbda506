/**
 * Senders streaming to receivers (one pair, or --pairs P), for A/B comparisons of a single
 * change: through one proxy, or across two linked proxies (--across).
 *
 *   node dist/bench/stream.js [--across] [--pairs 1] [--size 64] [--messages 1000000] [--repeat 2]
 *                             [--plaintext] [--credit-window N] [--max-queued-bytes N]
 *                             [--profile DIR] [--stats] [--proxy-args "--cells 16 ..."]
 *
 * --profile writes a V8 CPU profile of every proxy and peer process into DIR; --stats prints
 * each proxy's slot counters per message (cells, doorbells rung, sleeps, writer waits).
 * Prints msg/s and MB/s for each repeat (the first one includes warm-up).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Mesh } from '../src/cli/mesh.js';
import { startProxyProcess, type ProxyProcess } from '../src/cli/proxy-process.js';
import { requestStatus } from '../src/client/registration.js';
import type { ProxyStats } from '../src/proxy/stats.js';
import { IpcChild } from '../src/util/ipc-child.js';
import { streamRate } from './stream-rate.js';

const { values } = parseArgs({ options: { across: { type: 'boolean' }, size: { type: 'string' }, messages: { type: 'string' }, repeat: { type: 'string' }, plaintext: { type: 'boolean' }, 'credit-window': { type: 'string' }, 'max-queued-bytes': { type: 'string' }, profile: { type: 'string' }, pairs: { type: 'string' }, stats: { type: 'boolean' }, 'proxy-args': { type: 'string' } } });
/** Extra flags for every proxy, e.g. "--cells 16 --credit-window 4194304". */
const proxyArgs = values['proxy-args'] ? values['proxy-args'].trim().split(/\s+/) : [];
const pairs = Number(values.pairs ?? 1);
const nodeArgs = values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : [];
const size = Number(values.size ?? 64);
/** Messages in all, split over the pairs. */
const n = Number(values.messages ?? (size >= 1024 ? 150_000 : 1_000_000));
const perPair = Math.floor(n / pairs);
const PEER = fileURLToPath(new URL('./peer.js', import.meta.url));
const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-stream-'));
const proxies: ProxyProcess[] = [];
const peers: IpcChild[] = [];
let mesh: Mesh | null = null;
try {
  let node = '';
  let senderSocket = join(dir, 'a.sock');
  let receiverSocket = senderSocket;
  if (values.across) {
    const extra = values['credit-window'] ? ['--credit-window', values['credit-window']] : [];
    mesh = await Mesh.start({ security: values.plaintext ? () => ['--insecure-plaintext'] : undefined, args: [...extra, ...proxyArgs], nodeArgs });
    proxies.push(mesh.beta, mesh.alpha);
    senderSocket = mesh.socket('alpha');
    receiverSocket = mesh.socket('beta');
    node = '@beta';
  } else {
    const queued = values['max-queued-bytes'] ? ['--max-queued-bytes', values['max-queued-bytes']] : [];
    proxies.push(await startProxyProcess(senderSocket, ['--node', 'alpha', ...queued, ...proxyArgs], { nodeArgs }));
  }
  const senders: IpcChild[] = [];
  const receivers: IpcChild[] = [];
  for (let i = 0; i < pairs; i++) {
    senders.push(await IpcChild.fork(PEER, [], nodeArgs));
    receivers.push(await IpcChild.fork(PEER, [], nodeArgs));
    peers.push(senders[i]!, receivers[i]!);
    await senders[i]!.call('connect', { socket: senderSocket, name: `sender${i}` });
    await receivers[i]!.call('connect', { socket: receiverSocket, name: `receiver${i}` });
  }
  for (let r = 0; r < Number(values.repeat ?? 2); r++) {
    const rate = await streamRate(receivers, perPair, (i) => senders[i]!.call('slotlinkStream', { to: `receiver${i}${node}`, n: perPair, size }));
    process.stdout.write(`${values.across ? 'across two proxies' : 'through one proxy'}, ${pairs} pair(s), ${size} B: ${Math.round(rate).toLocaleString()} msg/s, ${Math.round((rate * size) / 1e6)} MB/s\n`);
  }
  if (values.stats) for (const p of proxies) printCounters((await requestStatus(p.socket)) as ProxyStats);
  await Promise.all(peers.map((p) => p.call('close')));
  await Promise.all(peers.map((p) => p.end()));
} finally {
  await Promise.all(peers.map((p) => p.kill()));
  await Promise.all(proxies.map((p) => p.stop()));
  await mesh?.close();
  rmSync(dir, { recursive: true, force: true });
}

/** The proxy's slot counters per 1000 messages, and its links' counters. */
function printCounters(s: ProxyStats): void {
  const sum = (f: (x: ProxyStats['slots'][number]) => number) => s.slots.reduce((a, x) => a + f(x), 0);
  const msgs = Math.max(1, sum((x) => x.messagesIn + x.messagesOut));
  const per = (v: number) => `${v} (${((v / msgs) * 1000).toFixed(2)} per 1000 msgs)`;
  process.stdout.write(`proxy ${s.node}: messages in+out ${msgs}; cells in ${per(sum((x) => x.cellsIn))}, out ${per(sum((x) => x.cellsOut))}; doorbells rung ${per(sum((x) => x.doorbellsRung))}, saved ${sum((x) => x.doorbellsSaved)}; sleeps ${per(sum((x) => x.sleeps))}; writer waits ${per(sum((x) => x.writerWaits))}\n`);
  for (const l of s.links) process.stdout.write(`  link to ${l.peer}: messages out ${l.messagesOut}, in ${l.messagesIn}; credit stalls ${l.creditStalls}; resent frames ${l.retransmittedFrames}\n`);
}
