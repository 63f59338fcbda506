/**
 * The Node client's defaults live in CLIENT_DEFAULTS (src/contract/defaults.ts); the
 * README's client-side line and connect()'s option comments say the same figures.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CLIENT_DEFAULTS } from '../src/contract/defaults.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** As the docs write numbers: MiB for sizes, "10 000", "unlimited". */
function figure(v: number | boolean): string {
  if (typeof v === 'boolean') return String(v);
  if (v === Infinity) return 'unlimited';
  if (v >= 1024 * 1024 && v % (1024 * 1024) === 0) return `${v / 1024 / 1024} MiB`;
  return v >= 10_000 ? String(v).replace(/\B(?=(\d{3})+$)/g, ' ') : String(v);
}

/** connect()'s option → its default in CLIENT_DEFAULTS. */
const OPTIONS = {
  timeout: CLIENT_DEFAULTS.timeoutMs,
  maxPendingBytes: CLIENT_DEFAULTS.maxPendingBytes,
  maxInboxBytes: CLIENT_DEFAULTS.maxInboxBytes,
  reconnect: CLIENT_DEFAULTS.reconnect,
  reconnectDelayMs: CLIENT_DEFAULTS.reconnectDelayMs,
  maxReconnectDelayMs: CLIENT_DEFAULTS.maxReconnectDelayMs,
  maxReconnectAttempts: CLIENT_DEFAULTS.maxReconnectAttempts,
  outageWaitMs: CLIENT_DEFAULTS.outageWaitMs,
};

test("the README's connect() line and connect()'s option comments give CLIENT_DEFAULTS' figures", () => {
  const readme = read('README.md').replace(/\s+/g, ' ');
  const source = read('src/client/connect.ts');
  for (const [key, value] of Object.entries(OPTIONS)) {
    assert.ok(readme.includes(`\`${key}\` (${figure(value)}`), `README: \`${key}\` (${figure(value)} ...`);
    const comment = source.match(new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*${key}\\?:`))?.[1]?.replace(/\s*\*\s*/g, ' ');
    assert.ok(comment?.includes(`Default ${figure(value)}.`), `connect.ts, ${key}: "Default ${figure(value)}." in ${JSON.stringify(comment)}`);
  }
});
