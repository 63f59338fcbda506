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
