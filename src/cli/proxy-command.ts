/** `slotlink proxy`: run the proxy daemon until SIGTERM/SIGINT, then drain and exit. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import { createLogger } from '../log.js';
import type { LinkSecurity } from '../link/transport.js';
import { Proxy, type LinkConfig } from '../proxy/proxy.js';
import { intFlag, type Command } from './args.js';

const KEYS = [
  'socket', 'node', 'group', 'maxSlots', 'cells', 'cellBytes', 'maxMessageBytes', 'maxQueuedBytes', 'logFormat',
  'listen', 'peer', 'secretFile', 'tlsCert', 'tlsKey', 'tlsCa', 'insecurePlaintext', 'creditWindow', 'maxUnackedBytes',
  'heartbeatMs', 'unreachableAfterMs', 'metrics',
] as const;

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'run the proxy daemon for this host',
  usage: `Usage: slotlink proxy [options]

Runs the proxy: processes on this host register on its Unix socket and each gets a
private shared-memory slot. Stops cleanly on SIGTERM or SIGINT.

Options:
  --config FILE              JSON or YAML (.yaml/.yml) file with any option below, in camelCase
                             (e.g. maxSlots: 64, peer: [beta=10.0.0.2:7400]); flags override it
  --socket PATH              registration socket (default $SLOTLINK_SOCKET or a per-user temp path)
  --node NAME                this host's node name in addresses (default: host name)
  --group GID                also let this numeric group register (socket mode 0660)
  --max-slots N              most processes at once (default 1024)
  --cells N                  cells per direction of each slot (default 8)
  --cell-bytes N             data bytes per cell, a multiple of 64 (default 65536)
  --max-message-bytes N      largest message accepted (default 16777216)
  --max-queued-bytes N       bytes queued for one receiver before its senders wait (default 262144)
  --log-format json|pretty   log lines as JSON (default) or readable text
  --metrics HOST:PORT        serve Prometheus metrics at http://HOST:PORT/metrics

Links to other proxies (one connection per pair of proxies):
  --listen HOST:PORT         accept peers here (PORT 0: any free port, logged as linkPort)
  --peer NODE=HOST:PORT      dial this peer (repeat for each)
  --secret-file FILE         authenticate and encrypt with a shared secret (TLS 1.3 PSK)
  --tls-cert FILE --tls-key FILE --tls-ca FILE
                             mutual TLS; a peer's certificate must name its node (CN or DNS SAN)
  --insecure-plaintext       no authentication, no encryption (only on a trusted network)
  --credit-window N          bytes per destination in flight before more credit (default 1048576)
  --max-unacked-bytes N      bytes a peer may have in flight to this proxy, and it to a peer,
                             not yet in the receivers' slots (default 67108864)
  --heartbeat-ms N           ping interval; 3 missed = connection dead (default 1000)
  --unreachable-after-ms N   how long a peer may be away before sends to it fail (default 10000)
  -h, --help                 show this help`,
  options: {
    config: { type: 'string' },
    socket: { type: 'string' },
    node: { type: 'string' },
    group: { type: 'string' },
    'max-slots': { type: 'string' },
    cells: { type: 'string' },
    'cell-bytes': { type: 'string' },
    'max-message-bytes': { type: 'string' },
    'max-queued-bytes': { type: 'string' },
    'log-format': { type: 'string' },
    listen: { type: 'string' },
    peer: { type: 'string', multiple: true },
    'secret-file': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-ca': { type: 'string' },
    'insecure-plaintext': { type: 'boolean' },
    'credit-window': { type: 'string' },
    'max-unacked-bytes': { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    'unreachable-after-ms': { type: 'string' },
    metrics: { type: 'string' },
  },
  async run(flags: Record<string, unknown>) {
    const config: Record<string, unknown> = flags.config ? readConfig(String(flags.config)) : {};
    const v: Record<string, unknown> = { ...config };
    for (const [flag, value] of Object.entries(flags)) {
      if (value !== undefined && flag !== 'config') v[flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = value;
    }
    const logFormat = v.logFormat ?? 'json';
    if (logFormat !== 'json' && logFormat !== 'pretty') throw new ConfigError('logFormat', `expected "json" or "pretty", got ${JSON.stringify(logFormat)}`);
    const proxy = new Proxy({
      socketPath: v.socket === undefined ? undefined : String(v.socket),
      node: v.node === undefined ? undefined : String(v.node),
      socketGid: v.group === undefined ? undefined : intFlag(v, 'group', 0),
      maxSlots: intFlag(v, 'maxSlots', 1024, 1, 65536),
      geometry: {
        cellCount: intFlag(v, 'cells', 8, 2, 256),
        cellDataBytes: intFlag(v, 'cellBytes', 64 * 1024, 256, 16 * 1024 * 1024),
        maxMessageBytes: intFlag(v, 'maxMessageBytes', 16 * 1024 * 1024, 1, 1024 * 1024 * 1024),
      },
      maxQueuedBytes: intFlag(v, 'maxQueuedBytes', 256 * 1024, 1),
      logger: createLogger({ pretty: logFormat === 'pretty' }),
      links: linkConfig(v),
      metrics: v.metrics === undefined ? undefined : hostPort('metrics', v.metrics),
    });
    await proxy.start();
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await proxy.stop();
    return 0;
  },
};

function hostPort(key: string, value: unknown): { host: string; port: number } {
  const m = String(value).match(/^(.*):(\d+)$/);
  if (!m || !m[1]) throw new ConfigError(key, `expected HOST:PORT, got ${JSON.stringify(value)}`);
  const port = Number(m[2]);
  if (port > 65535) throw new ConfigError(key, `port ${port} is over 65535`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port };
}

function readFile(key: string, path: unknown): Buffer {
  try {
    return readFileSync(String(path));
  } catch (err) {
    throw new ConfigError(key, `cannot read ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
}

/** The links section, or undefined when the proxy serves this host only. */
function linkConfig(v: Record<string, unknown>): LinkConfig | undefined {
  const peersRaw = v.peer === undefined ? [] : Array.isArray(v.peer) ? v.peer : [v.peer];
  if (v.listen === undefined && peersRaw.length === 0) return undefined;
  const peers = peersRaw.map((p) => {
    const m = String(p).match(/^([^=]+)=(.+)$/);
    if (!m) throw new ConfigError('peer', `expected NODE=HOST:PORT, got ${JSON.stringify(p)}`);
    return { node: m[1]!, ...hostPort('peer', m[2]) };
  });
  const modes = [v.secretFile !== undefined, v.tlsCert !== undefined || v.tlsKey !== undefined || v.tlsCa !== undefined, v.insecurePlaintext === true].filter(Boolean).length;
  if (modes === 0) throw new ConfigError('listen/peer', 'links need --secret-file, or --tls-cert/--tls-key/--tls-ca, or (on a trusted network only) --insecure-plaintext');
  if (modes > 1) throw new ConfigError('secretFile/tlsCert/insecurePlaintext', 'choose exactly one way to secure links');
  let security: LinkSecurity;
  if (v.secretFile !== undefined) {
    const secret = readFile('secretFile', v.secretFile);
    if (secret.length < 16) throw new ConfigError('secretFile', `the secret is ${secret.length} bytes; use at least 16 random bytes`);
    security = { mode: 'secret', secret };
  } else if (v.insecurePlaintext === true) {
    security = { mode: 'plaintext' };
  } else {
    for (const k of ['tlsCert', 'tlsKey', 'tlsCa']) if (v[k] === undefined) throw new ConfigError(k, 'mutual TLS needs --tls-cert, --tls-key and --tls-ca');
    security = { mode: 'tls', cert: readFile('tlsCert', v.tlsCert), key: readFile('tlsKey', v.tlsKey), ca: readFile('tlsCa', v.tlsCa) };
  }
  return {
    listen: v.listen === undefined ? undefined : hostPort('listen', v.listen),
    peers,
    security,
    creditWindow: intFlag(v, 'creditWindow', 1024 * 1024, 1024),
    maxUnackedBytes: intFlag(v, 'maxUnackedBytes', 64 * 1024 * 1024, 64 * 1024),
    heartbeatMs: intFlag(v, 'heartbeatMs', 1000, 10),
    unreachableAfterMs: intFlag(v, 'unreachableAfterMs', 10_000, 100),
  };
}

/** Reads a JSON or YAML (by extension) config file; keys are the flags in camelCase. */
function readConfig(path: string): Record<string, unknown> {
  const yamlFile = /\.ya?ml$/i.test(path);
  let parsed: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    parsed = yamlFile ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(path, `cannot read it as ${yamlFile ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(path, 'the file must hold a mapping of keys to values');
  const config = parsed as Record<string, unknown>;
  for (const [key, value] of Object.entries(config)) {
    if (!(KEYS as readonly string[]).includes(key)) throw new ConfigError(key, `unknown key; known keys: ${KEYS.join(', ')}`);
    const ok = key === 'peer' ? (Array.isArray(value) && value.every((p) => typeof p === 'string')) || typeof value === 'string' : key === 'insecurePlaintext' ? typeof value === 'boolean' : typeof value === 'string' || typeof value === 'number';
    if (!ok) throw new ConfigError(key, `${JSON.stringify(value)} is not valid here (${key === 'peer' ? 'a list of NODE=HOST:PORT strings' : key === 'insecurePlaintext' ? 'true or false' : 'a string or a number'})`);
  }
  return config;
}
