/**
 * The slotlink Python package's own tests (clients/python/tests/test_package.py: errors with
 * codes, timeouts, iteration and replies, fork, publish and subscribe, the asyncio form) against a real proxy,
 * run from the source tree over the libslotlink just built (or, with $SLOTLINK_TEST_PYTHON,
 * by a Python that has the package installed).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { C_LIBRARY, ROOT } from './driver.js';
import { Host } from './rig.js';

test('python: the package\'s unittest suite passes against a real proxy', async () => {
  const host = await Host.start();
  try {
    // $SLOTLINK_TEST_PYTHON: a Python with the package installed (.ci/run's venv); else the source tree.
    const installed = process.env.SLOTLINK_TEST_PYTHON;
    const env = installed ? { ...process.env } : { ...process.env, PYTHONPATH: join(ROOT, 'clients/python'), SLOTLINK_LIBRARY: C_LIBRARY };
    const r = spawnSync(installed ?? 'python3', ['-m', 'unittest', 'discover', '-v', '-s', join(ROOT, 'clients/python/tests'), '-p', 'test_*.py'], {
      encoding: 'utf8',
      timeout: 60_000,
      cwd: host.dir,
      env: { ...env, SLOTLINK_TEST_SOCKET: host.socket },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^Ran [1-9]\d* tests? in/m);
    assert.match(r.stderr, /^OK$/m);
  } finally {
    await host.close();
  }
});
