/** Counting TCP connections from /proc/net/tcp{,6}, for the connection-count row. */
import { readFileSync } from 'node:fs';

const ESTABLISHED = '01';

/** Every established TCP connection in this network namespace, by its local and remote port. */
export function establishedTcp(): Array<{ local: number; remote: number }> {
  const out: Array<{ local: number; remote: number }> = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || f[3] !== ESTABLISHED) continue;
      out.push({ local: parseInt(f[1]!.split(':')[1]!, 16), remote: parseInt(f[2]!.split(':')[1]!, 16) });
    }
  }
  return out;
}

/**
 * Established connections whose local port is one of `serverPorts`: each connection
 * accepted by those listeners, counted once (on loopback both ends appear in the table).
 */
export function acceptedConnections(serverPorts: number[]): number {
  const ports = new Set(serverPorts);
  return establishedTcp().filter((c) => ports.has(c.local)).length;
}

/** Polls until the count reaches `expected` or stops changing for `quietMs` (connects are asynchronous). */
export async function settledConnections(serverPorts: number[], expected: number, quietMs = 500, limitMs = 5000): Promise<number> {
  const started = Date.now();
  let last = -1;
  let since = Date.now();
  for (;;) {
    const n = acceptedConnections(serverPorts);
    if (n >= expected) return n;
    if (n !== last) (last = n), (since = Date.now());
    if (Date.now() - since >= quietMs || Date.now() - started >= limitMs) return n;
    await new Promise((r) => setTimeout(r, 20));
  }
}
