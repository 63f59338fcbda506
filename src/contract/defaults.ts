/** Defaults shared by the proxy, the client and the CLI. */
import os from 'node:os';
import { join } from 'node:path';

/** $SLOTLINK_SOCKET, else a per-user path under the temp directory. */
export function defaultSocketPath(): string {
  return process.env.SLOTLINK_SOCKET || join(os.tmpdir(), `slotlink-${process.getuid?.() ?? 0}`, 'proxy.sock');
}

/** The host name, reduced to the characters a node name may hold. */
export function defaultNodeName(): string {
  const cleaned = os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return cleaned || 'node';
}
