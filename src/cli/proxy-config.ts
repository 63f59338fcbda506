/**
 * `slotlink proxy`'s configuration: flags and a config file (JSON or YAML) read against the
 * settings schema (src/contract/config.ts), checked, and turned into the proxy's options.
 * Flags override the file; every refusal names the key and what was wrong.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SETTINGS, defaultOf, flagOf, showDefault, type Setting, type SettingKey } from '../contract/config.js';
import { ConfigError } from '../errors.js';
import type { LinkSecurity } from '../link/transport.js';
import { isLogLevel, type LogLevel } from '../log.js';
import type { LinkConfig, ProxyOptions, ProxyReload } from '../proxy/proxy.js';
import type { Options } from './args.js';

/** The parseArgs options of `slotlink proxy`: every setting as a flag, and --config. */
export function proxyFlags(): Options {
  const options: Options = { config: { type: 'string' } };
  for (const s of SETTINGS) options[flagOf(s.key).slice(2)] = s.kind === 'flag' ? { type: 'boolean' } : s.kind === 'list' ? { type: 'string', multiple: true } : { type: 'string' };
  return options;
}

/** Help text starts in this column, and lines wrap before HELP_WIDTH. */
const HELP_COLUMN = 29;
const HELP_WIDTH = 100;

function helpLine(s: Setting): string {
  const flag = `${flagOf(s.key)}${s.arg ? ` ${s.arg}` : ''}`;
  const shown = (s.default !== null && s.default !== false) || s.shownDefault !== undefined;
  const words = `${s.help}${shown ? ` (default ${showDefault(s)})` : ''}${s.reloadable ? '; reloads' : ''}`.split(' ');
  const lines = [''];
  for (const w of words) {
    if (lines.at(-1)!.length > 0 && HELP_COLUMN + lines.at(-1)!.length + 1 + w.length > HELP_WIDTH) lines.push('');
    lines[lines.length - 1] += (lines.at(-1)!.length > 0 ? ' ' : '') + w;
  }
  return [`  ${flag.padEnd(HELP_COLUMN - 2)}${lines[0]}`, ...lines.slice(1).map((l) => ' '.repeat(HELP_COLUMN) + l)].join('\n');
}

/** `slotlink proxy --help`. */
export function proxyHelp(): string {
  return `Usage: slotlink proxy [options]

Runs the proxy: processes on this host register on its Unix socket and each gets a
private shared-memory slot. Stops cleanly on SIGTERM or SIGINT. SIGHUP reads --config
again and applies the settings that may change while it runs (peers, keys, log level:
marked "reloads" below); a change to any other is refused, naming it.

Options:
  --config FILE              JSON or YAML (.yaml/.yml) file with any option below, in camelCase
                             (e.g. maxSlots: 64, peer: [beta=10.0.0.2:7400]); flags override it
${SETTINGS.filter((s) => !('links' in s)).map(helpLine).join('\n')}

Links to other proxies (one connection per pair of proxies; choose one of --secret-file,
--tls-cert/--tls-key/--tls-ca and --insecure-plaintext):
${SETTINGS.filter((s) => 'links' in s).map(helpLine).join('\n')}
  -h, --help                 show this help`;
}

/** The file's settings, checked key by key against the schema. */
export function readConfigFile(path: string): Record<string, unknown> {
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
    const s = SETTINGS.find((x) => x.key === key) as Setting | undefined;
    if (!s) throw new ConfigError(key, `unknown key; known keys: ${SETTINGS.map((x) => x.key).join(', ')}`);
    const expected = s.kind === 'list' ? `a list of ${s.arg} strings` : s.kind === 'flag' ? 'true or false' : s.kind === 'count' ? 'a whole number' : 'a string';
    const ok =
      s.kind === 'list' ? typeof value === 'string' || (Array.isArray(value) && value.every((p) => typeof p === 'string')) : s.kind === 'flag' ? typeof value === 'boolean' : s.kind === 'count' ? typeof value === 'number' || typeof value === 'string' : typeof value === 'string' || typeof value === 'number';
    if (!ok) throw new ConfigError(key, `${JSON.stringify(value)} is not valid here (${expected})`);
  }
  return config;
}

/** Settings from the file (if any) with the flags over them, by key. */
export function settingsFrom(flags: Record<string, unknown>): Record<string, unknown> {
  const v: Record<string, unknown> = flags.config ? readConfigFile(String(flags.config)) : {};
  for (const [flag, value] of Object.entries(flags)) {
    if (value !== undefined && flag !== 'config') v[flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = value;
  }
  return v;
}

/** A whole-number setting within its bounds; its default when unset. */
export function count(v: Record<string, unknown>, key: SettingKey): number {
  const s = SETTINGS.find((x) => x.key === key) as Setting;
  const raw = v[key];
  if (raw === undefined) return defaultOf(key);
  const n = typeof raw === 'number' ? raw : Number(raw);
  const min = s.min ?? 0;
  const max = s.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(key, `expected a whole number in ${min}..${max}, got ${JSON.stringify(raw)}`);
  return n;
}

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

/** How links are secured: exactly one of the three ways. */
export function linkSecurity(v: Record<string, unknown>): LinkSecurity {
  const modes = [v.secretFile !== undefined, v.tlsCert !== undefined || v.tlsKey !== undefined || v.tlsCa !== undefined, v.insecurePlaintext === true].filter(Boolean).length;
  if (modes === 0) throw new ConfigError('listen/peer', 'links need --secret-file, or --tls-cert/--tls-key/--tls-ca, or (on a trusted network only) --insecure-plaintext');
  if (modes > 1) throw new ConfigError('secretFile/tlsCert/insecurePlaintext', 'choose exactly one way to secure links');
  if (v.secretFile !== undefined) {
    const secret = readFile('secretFile', v.secretFile);
    if (secret.length < 16) throw new ConfigError('secretFile', `the secret is ${secret.length} bytes; use at least 16 random bytes`);
    return { mode: 'secret', secret };
  }
  if (v.insecurePlaintext === true) return { mode: 'plaintext' };
  for (const k of ['tlsCert', 'tlsKey', 'tlsCa']) if (v[k] === undefined) throw new ConfigError(k, 'mutual TLS needs --tls-cert, --tls-key and --tls-ca');
  return { mode: 'tls', cert: readFile('tlsCert', v.tlsCert), key: readFile('tlsKey', v.tlsKey), ca: readFile('tlsCa', v.tlsCa) };
}

/** The links section, or undefined when the proxy serves this host only. */
export function linkConfig(v: Record<string, unknown>): LinkConfig | undefined {
  const peersRaw = v.peer === undefined ? [] : Array.isArray(v.peer) ? v.peer : [v.peer];
  if (v.listen === undefined && peersRaw.length === 0) return undefined;
  const peers = peersRaw.map((p) => {
    const m = String(p).match(/^([^=]+)=(.+)$/);
    if (!m) throw new ConfigError('peer', `expected NODE=HOST:PORT, got ${JSON.stringify(p)}`);
    return { node: m[1]!, ...hostPort('peer', m[2]) };
  });
  return {
    listen: v.listen === undefined ? undefined : hostPort('listen', v.listen),
    peers,
    security: linkSecurity(v),
    creditWindow: count(v, 'creditWindow'),
    maxUnackedBytes: count(v, 'maxUnackedBytes'),
    heartbeatMs: count(v, 'heartbeatMs'),
    unreachableAfterMs: count(v, 'unreachableAfterMs'),
  };
}

/** The log level set, if any (else the logger's default: $SLOTLINK_LOG, else info). */
export function logLevel(v: Record<string, unknown>): LogLevel | undefined {
  if (v.logLevel === undefined) return undefined;
  if (!isLogLevel(v.logLevel) || v.logLevel === 'silent') throw new ConfigError('logLevel', `expected debug, info, warn or error, got ${JSON.stringify(v.logLevel)}`);
  return v.logLevel;
}

/** The settings that differ between `before` and `after` and cannot change while the proxy runs. */
export function unreloadable(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return (SETTINGS as readonly Setting[]).filter((s) => !s.reloadable && JSON.stringify(before[s.key]) !== JSON.stringify(after[s.key])).map((s) => s.key);
}

/** What a reload applies to the proxy: the peers and keys of links. */
export function reloadOptions(v: Record<string, unknown>): ProxyReload {
  const links = linkConfig(v);
  return { links: links && { peers: links.peers ?? [], security: links.security } };
}

export type LogFormat = 'json' | 'pretty';

export function logFormat(v: Record<string, unknown>): LogFormat {
  const f = v.logFormat ?? 'json';
  if (f !== 'json' && f !== 'pretty') throw new ConfigError('logFormat', `expected "json" or "pretty", got ${JSON.stringify(f)}`);
  return f;
}

/** The proxy's options from checked settings (without its logger). */
export function proxyOptions(v: Record<string, unknown>): Omit<ProxyOptions, 'logger'> {
  return {
    socketPath: v.socket === undefined ? undefined : String(v.socket),
    node: v.node === undefined ? undefined : String(v.node),
    socketGid: v.group === undefined ? undefined : count(v, 'group'),
    maxSlots: count(v, 'maxSlots'),
    geometry: { cellCount: count(v, 'cells'), cellDataBytes: count(v, 'cellBytes'), maxMessageBytes: count(v, 'maxMessageBytes') },
    maxQueuedBytes: count(v, 'maxQueuedBytes'),
    links: linkConfig(v),
    metrics: v.metrics === undefined ? undefined : hostPort('metrics', v.metrics),
  };
}
