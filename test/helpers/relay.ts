/**
 * A TCP relay between two proxies, run by the test: it forwards bytes both ways and can
 * cut every connection through it at once, as a failing network would.
 */
import net from 'node:net';

export class Relay {
  private server!: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  cuts = 0;
  port = 0;

  static async start(targetPort: number): Promise<Relay> {
    const r = new Relay();
    r.server = net.createServer((inbound) => {
      const outbound = net.connect(targetPort, '127.0.0.1');
      const pair: [net.Socket, net.Socket] = [inbound, outbound];
      r.pairs.add(pair);
      const drop = () => {
        inbound.destroy();
        outbound.destroy();
        r.pairs.delete(pair);
      };
      inbound.on('error', drop).on('close', drop);
      outbound.on('error', drop).on('close', drop);
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.port = (r.server.address() as net.AddressInfo).port;
    return r;
  }

  get open(): number {
    return this.pairs.size;
  }

  /** Drops every connection mid-stream, with no goodbye (RST). */
  cut(): void {
    this.cuts++;
    for (const [a, b] of this.pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    this.pairs.clear();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Cuts every connection through `relay` at random moments (20–100 ms apart, each while the
 * link is up), until `busy()` is false and at least `minCuts` were made. Throws if that takes
 * longer than `timeoutMs`. Returns the cuts made, and how many came while `busy()` held.
 */
export async function cutRepeatedly(relay: Relay, linkUp: () => Promise<boolean>, busy: () => boolean, minCuts: number, timeoutMs = 60_000): Promise<{ cuts: number; whileBusy: number }> {
  let cuts = 0;
  let whileBusy = 0;
  const deadline = Date.now() + timeoutMs;
  while (busy() || cuts < minCuts) {
    if (Date.now() > deadline) throw new Error(`still busy ${timeoutMs} ms after cutting began (${cuts} cuts)`);
    if ((await linkUp()) && relay.open > 0) {
      const during = busy();
      relay.cut();
      cuts++;
      if (during) whileBusy++;
    }
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
  }
  return { cuts, whileBusy };
}
