/**
 * Conformance: the PHP example (clients/php, FFI over libslotlink) against a real proxy:
 * it asks the proxy and a C worker, gets NO_ROUTE for a name nobody holds, subscribes and
 * takes back what it published, then answers a request from a Node client. Skipped where PHP with FFI is not installed (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { C_LIBRARY, ROOT, phpWithFfi } from './driver.js';
import { Host } from './rig.js';

test('php: the FFI example registers, requests, and answers a request', { skip: phpWithFfi() ? false : 'php with FFI is not installed' }, async () => {
  const host = await Host.start();
  const php = spawn('php', [join(ROOT, 'clients/php/example.php'), host.socket, 'php-worker', 'echo'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SLOTLINK_LIBRARY: C_LIBRARY },
  });
  try {
    await host.worker('c', 'echo', { respond: 'echo' });
    const lines: string[] = [];
    let stderr = '';
    php.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const ready = new Promise<void>((resolve, reject) => {
      createInterface({ input: php.stdout }).on('line', (l) => {
        lines.push(l);
        if (l === 'ready') resolve();
      });
      php.once('exit', (code) => reject(new Error(`php exited (${code}) before it was ready:\n${lines.join('\n')}\n${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => php.once('exit', resolve));
    await ready;
    const asker = await host.worker('node', 'asker');
    assert.equal((await asker.call('request', { to: 'php-worker', data: 'hi php' })).reply, 'php got: hi php');
    assert.equal(await exited, 0, stderr);
    assert.match(lines[0]!, /^registered as php-worker~\d+\.\d+@conf$/);
    assert.deepEqual(lines.slice(1), ['~proxy: ping', 'echo: hello from php', 'nobody: SLOTLINK_ERR_NO_ROUTE', 'php.eu.news: hello subscribers', 'ready', 'served: hi php']);
  } finally {
    php.kill('SIGKILL');
    await host.close();
  }
});
