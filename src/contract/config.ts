/**
 * The proxy's configuration: every setting once, with its flag, default, bounds and help.
 * The proxy's defaults, `slotlink proxy`'s flags and `--help`, the config file's keys and the
 * README's configuration table all come from here.
 */
import { DEFAULT_GEOMETRY, GeometryLimits } from '../slot/layout.js';

export type SettingKind = 'count' | 'text' | 'flag' | 'list';

export interface Setting {
  /** The key in a config file (the flag in camelCase). */
  key: string;
  kind: SettingKind;
  /** What the value is, in --help: N, PATH, HOST:PORT... */
  arg?: string;
  /** The default, or null when there is none. */
  default: number | string | boolean | null;
  /** How the default reads in help and docs, where the value alone says too little. */
  shownDefault?: string;
  min?: number;
  max?: number;
  help: string;
  /** Settings of links between proxies, listed apart. */
  links?: boolean;
  /** Readable in a config file only as part of one value (`peer` may be a list). */
  repeatable?: boolean;
  /** Takes effect on SIGHUP (a reload); every other setting needs a restart. */
  reloadable?: boolean;
}

const MiB = 1024 * 1024;

function setting(key: string, s: Omit<Setting, 'key'>): Setting {
  return { key, ...s };
}

export const SETTINGS = [
  setting('socket', { kind: 'text', arg: 'PATH', default: null, shownDefault: '$SLOTLINK_SOCKET, else a per-user temp path', help: 'registration socket processes connect to' }),
  setting('node', { kind: 'text', arg: 'NAME', default: null, shownDefault: 'the host name', help: "this host's node name in addresses (name@node)" }),
  setting('group', { kind: 'count', arg: 'GID', default: null, help: 'a numeric group whose members may register too (socket mode 0660)' }),
  setting('maxSlots', { kind: 'count', arg: 'N', default: 1024, min: 1, max: 65536, help: 'processes registered at once' }),
  setting('cells', { kind: 'count', arg: 'N', default: DEFAULT_GEOMETRY.cellCount, min: GeometryLimits.MIN_CELLS, max: GeometryLimits.MAX_CELLS, help: 'cells per direction of each slot' }),
  setting('cellBytes', { kind: 'count', arg: 'N', default: DEFAULT_GEOMETRY.cellDataBytes, min: GeometryLimits.MIN_CELL_DATA, max: GeometryLimits.MAX_CELL_DATA, help: 'data bytes per cell, a multiple of 64 (a slot is about 2 × cells × cellBytes)' }),
  setting('maxMessageBytes', { kind: 'count', arg: 'N', default: DEFAULT_GEOMETRY.maxMessageBytes, min: 1, max: GeometryLimits.MAX_MESSAGE, help: 'largest message accepted (larger than a cell: split and reassembled)' }),
  setting('maxQueuedBytes', { kind: 'count', arg: 'N', default: 256 * 1024, min: 1, help: 'bytes queued for one local receiver before its senders wait' }),
  setting('logFormat', { kind: 'text', arg: 'json|pretty', default: 'json', help: 'log lines as JSON objects (on stderr) or readable text' }),
  setting('logLevel', { kind: 'text', arg: 'LEVEL', default: 'info', shownDefault: '$SLOTLINK_LOG, else info', reloadable: true, help: 'least level logged: debug, info, warn or error' }),
  setting('metrics', { kind: 'text', arg: 'HOST:PORT', default: null, help: 'serve Prometheus metrics at http://HOST:PORT/metrics' }),
  setting('listen', { kind: 'text', arg: 'HOST:PORT', default: null, links: true, help: "accept peers' connections here (PORT 0: any free port)" }),
  setting('peer', { kind: 'list', arg: 'NODE=HOST:PORT', default: null, links: true, repeatable: true, reloadable: true, help: 'dial this peer (repeat for each)' }),
  setting('secretFile', { kind: 'text', arg: 'FILE', default: null, links: true, reloadable: true, help: 'authenticate and encrypt links with a shared secret (TLS 1.3 PSK)' }),
  setting('tlsCert', { kind: 'text', arg: 'FILE', default: null, links: true, reloadable: true, help: "mutual TLS: this proxy's certificate (it must name the node: CN or DNS SAN)" }),
  setting('tlsKey', { kind: 'text', arg: 'FILE', default: null, links: true, reloadable: true, help: 'mutual TLS: its private key' }),
  setting('tlsCa', { kind: 'text', arg: 'FILE', default: null, links: true, reloadable: true, help: "mutual TLS: the CA peers' certificates must be signed by" }),
  setting('insecurePlaintext', { kind: 'flag', default: false, links: true, help: 'no authentication, no encryption (only on a trusted network)' }),
  setting('creditWindow', { kind: 'count', arg: 'N', default: MiB, min: 1024, links: true, help: 'bytes (credit units) one remote destination may have in flight' }),
  setting('maxUnackedBytes', { kind: 'count', arg: 'N', default: 64 * MiB, min: 64 * 1024, links: true, help: "bytes (credit units) in flight between this proxy and a peer, not yet in the receivers' slots, each way" }),
  setting('heartbeatMs', { kind: 'count', arg: 'N', default: 1000, min: 10, links: true, help: 'ping interval; three missed and the connection is dropped and redialed' }),
  setting('unreachableAfterMs', { kind: 'count', arg: 'N', default: 10_000, min: 100, links: true, help: 'how long a peer may be away before sends to it fail' }),
] as const satisfies readonly Setting[];

export type SettingKey = (typeof SETTINGS)[number]['key'];

/** A setting by its key. */
export function settingOf(key: SettingKey): Setting {
  return SETTINGS.find((s) => s.key === key)!;
}

/** The default of a setting that has one. */
export function defaultOf(key: SettingKey): number {
  const d = settingOf(key).default;
  if (typeof d !== 'number') throw new Error(`setting ${key} has no numeric default`);
  return d;
}

/** `maxSlots` → `--max-slots`. */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** How a default reads to a person: 16 MiB, 256 KiB, 1024. */
export function showDefault(s: Setting): string {
  if (s.shownDefault) return s.shownDefault;
  const d = s.default;
  if (d === null) return 'none';
  if (typeof d !== 'number') return String(d);
  if (d >= MiB && d % MiB === 0) return `${d / MiB} MiB`;
  if (d >= 1024 && d % 1024 === 0 && s.key.endsWith('Bytes')) return `${d / 1024} KiB`;
  return String(d);
}

/** The README's configuration table, as it must read. */
export function configTable(): string {
  const rows = SETTINGS.map((s: Setting) => `| \`${s.key}\` (\`${flagOf(s.key)}\`) | ${showDefault(s)} | ${s.help} | ${s.reloadable ? 'yes' : ''} |`);
  return ['| key (flag) | default | what it sets | on SIGHUP |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
