/**
 * The conformance suite's drivers: bench/client-driver.ts starts a client of any kind (Node,
 * C, Python) and drives it over one line protocol; this adds what only the tests need.
 */
import { spawnSync } from 'node:child_process';

export * from '../../bench/client-driver.js';

/** Whether a PHP with FFI is installed (clients/php). */
export function phpWithFfi(): boolean {
  const r = spawnSync('php', ['-m'], { encoding: 'utf8' });
  return r.status === 0 && /^FFI$/m.test(r.stdout);
}
