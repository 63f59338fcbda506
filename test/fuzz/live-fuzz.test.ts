/**
 * Fuzzing against a live proxy (hardening): for half a minute, processes write random damage
 * into their own slots and plaintext peers send random frames, while a healthy pair streams
 * across the proxies. The proxies must live, the healthy pair must lose nothing, and the
 * proxy's memory must stay bounded. The seed is printed; SLOTLINK_FUZZ_SEED repeats a run,
 * SLOTLINK_FUZZ_SECONDS makes it longer.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DATA_MESSAGE_HEADER, LinkOp, dataHeaderBytes, encodeAck, encodeCredit, encodeJson, encodePing, writeDataHeader, writeDataMessage } from '../../src/link/frame.js';
import { RecordKind } from '../../src/slot/record.js';
import { FakePeer } from '../helpers/fake-peer.js';
import { Mesh, linkPort } from '../helpers/mesh.js';
import { rssBytes } from '../helpers/proc.js';
import { Random } from '../helpers/random.js';

const SECONDS = Number(process.env.SLOTLINK_FUZZ_SECONDS ?? 25);
const SEED = Number(process.env.SLOTLINK_FUZZ_SEED ?? Date.now() % 0x7fffffff);
const RSS_BOUND = 400 * 1024 * 1024;
const SLOT_FUZZER = fileURLToPath(new URL('../fixtures/slot-fuzzer.js', import.meta.url));

/** One random frame: well-formed, a well-formed one with bytes changed, or noise. */
function randomFrame(rnd: Random): Buffer {
  const key = Buffer.from(rnd.pick(['nobody', 'fuzz-0', 'healthy-sink~1.1', '~proxy', 'x'.repeat(1 + rnd.below(200))]));
  let f: Buffer;
  switch (rnd.below(8)) {
    case 0:
      return rnd.bytes(1 + rnd.below(300));
    case 1:
      f = encodeAck(rnd.interesting());
      break;
    case 2:
      f = encodeCredit(key, rnd.interesting(), rnd.pick([LinkOp.CREDIT, LinkOp.WANTED]));
      break;
    case 3:
      f = encodePing(rnd.pick([LinkOp.PING, LinkOp.PONG]), rnd.interesting());
      break;
    case 4:
      f = encodeJson(rnd.pick([LinkOp.HELLO, LinkOp.DIRECTORY, LinkOp.ERROR, LinkOp.CLOSE]), rnd.pick([{}, null, [1], { names: [null] }, { incarnation: 'x', version: 1, names: [{ name: 'a', group: true, members: rnd.interesting() }] }, 'str']));
      break;
    default: {
      const src = Buffer.from(rnd.pick(['m~1.1@mallory', 'm~1.1@alpha', 'zz']));
      const messages = Array.from({ length: 1 + rnd.below(4) }, () => ({ kind: 1 + rnd.below(5), payload: rnd.bytes(rnd.below(300)) }));
      f = Buffer.alloc(dataHeaderBytes(src.length, key.length) + messages.reduce((n, m) => n + DATA_MESSAGE_HEADER + m.payload.length, 0));
      let at = writeDataHeader(f, 0, rnd.below(3) === 0 ? rnd.interesting() : 1, rnd.below(3) === 0 ? rnd.interesting() : 0, src, key);
      for (const m of messages) at += writeDataMessage(f, 0, at, m.kind as RecordKind, rnd.below(3), m.payload, 0, m.payload.length);
    }
  }
  // Sometimes change a few bytes of it.
  for (let i = rnd.below(3) === 0 ? 1 + rnd.below(4) : 0; i > 0; i--) f[rnd.below(f.length)] = rnd.below(256);
  return f;
}

/** Plaintext peers sending random frames, one connection after another, until `deadline`. */
async function fuzzLink(port: number, rnd: Random, deadline: number): Promise<number> {
  let connections = 0;
  while (Date.now() < deadline) {
    connections++;
    if (rnd.below(5) === 0) {
      // Noise before any HELLO.
      await new Promise<void>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => s.end(rnd.bytes(1 + rnd.below(200))));
        s.resume();
        s.on('error', () => resolve());
        s.on('close', () => resolve());
      });
      continue;
    }
    let peer: FakePeer;
    try {
      peer = await FakePeer.connect(port, `mallory${rnd.below(3)}`);
    } catch {
      continue; // refused (a name another fuzz connection holds): fine
    }
    for (let i = 0, n = 1 + rnd.below(30); i < n; i++) peer.write(randomFrame(rnd));
    await Promise.race([peer.closed, new Promise((r) => setTimeout(r, 30))]);
    peer.close();
  }
  return connections;
}

test(`live fuzz: random slot damage and random link frames for ${SECONDS} s (seed ${SEED}); the healthy pair loses nothing`, { timeout: (SECONDS + 90) * 1000 }, async () => {
  console.log(`fuzz seed ${SEED} (SLOTLINK_FUZZ_SEED=${SEED} to repeat)`);
  const mesh = await Mesh.start({ security: () => ['--insecure-plaintext'] });
  try {
    const sender = await mesh.worker('alpha', 'healthy-sender');
    const sink = await mesh.worker('beta', 'healthy-sink');
    await mesh.waitForRemoteName('alpha', 'healthy-sink');
    const deadline = Date.now() + SECONDS * 1000;
    await sender.call('sendForever', { to: 'healthy-sink@beta', size: 100, report: 1 });
    const slotFuzzers = ['alpha', 'beta'].map((side, i) =>
      new Promise<{ rounds: number; ended: Record<string, number> }>((resolve, reject) => {
        const c = spawn(process.execPath, [SLOT_FUZZER, mesh.socket(side as 'alpha' | 'beta'), String(SECONDS), String(SEED + i)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`slot fuzzer exited ${code}: ${out}`))));
      }),
    );
    const rnd = new Random(SEED);
    const [links, ...slots] = await Promise.all([fuzzLink(linkPort(mesh.beta), rnd, deadline), ...slotFuzzers]);
    const { sent } = await sender.call('stopSending');
    const got = await sink.call('collect', { count: sent, timeout: 30_000 });
    console.log(`fuzz: ${links} link connections; slot rounds ${slots.map((s) => `${s.rounds} ${JSON.stringify(s.ended)}`).join(', ')}; healthy pair ${sent} messages`);
    assert.ok(slots.every((s) => s.rounds > 10), 'the slot fuzzers ran');
    assert.ok(links > 10, 'the link fuzzer ran');
    assert.equal(got.perSender[Object.keys(got.perSender).find((k) => k.startsWith('healthy-sender'))!], sent, 'every healthy message arrived');
    assert.deepEqual(got.bad, [], 'in order and intact');
    for (const p of [mesh.alpha, mesh.beta]) {
      assert.equal(p.child.exitCode, null, 'the proxy lives');
      // Bad input is refused by name; a handler that failed on it is a bug the fuzz found.
      assert.deepEqual(p.logs.filter((l) => l.includes('"level":50') || /TypeError|RangeError|ReferenceError/.test(l)).slice(0, 5), [], 'no internal error');
      assert.ok(rssBytes(p.pid) < RSS_BOUND, `proxy RSS ${(rssBytes(p.pid) / 1e6).toFixed(0)} MB`);
    }
    const s = await mesh.status('alpha');
    assert.equal(s.links.find((l) => l.peer === 'beta')!.status.state, 'up');
  } finally {
    await mesh.close();
  }
});
