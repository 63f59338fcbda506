/**
 * Conformance: SLOTLINK_ERR_NOT_PERMITTED, for every client. The socket's mode is not the
 * only guard: here it is opened to everyone (as a careless operator might), and a process
 * of another user still gets a clear refusal, decided from SO_PEERCRED. Each driver runs as
 * "nobody" from a world-readable copy of what it needs (setpriv; needs root, as CI runs).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { C_DRIVER, C_LIBRARY, Driver, KINDS, NODE_DRIVER, PY_DRIVER, ROOT, type ClientKind } from './driver.js';
import { Host } from './rig.js';

const NOBODY = 65534;
const SYSTEM_PYTHON = '/usr/bin/python3';
const why = process.getuid?.() !== 0 ? 'needs root (to run a client as another user)' : spawnSync('setpriv', ['--version']).status !== 0 ? 'needs setpriv (util-linux)' : false;

let host: Host;
let copies: string;
before(async () => {
  if (why) return;
  host = await Host.start();
  chmodSync(host.dir, 0o711);
  chmodSync(host.socket, 0o666); // anyone may connect: the proxy must still refuse other users
  copies = mkdtempSync(join(os.tmpdir(), 'slotlink-nobody-'));
  chmodSync(copies, 0o755);
  mkdirSync(join(copies, 'c'));
  copyFileSync(C_DRIVER, join(copies, 'c/conformance-driver'));
  cpSync(join(ROOT, 'clients/python/slotlink'), join(copies, 'py/slotlink'), { recursive: true });
  copyFileSync(PY_DRIVER, join(copies, 'py/conformance_driver.py'));
  copyFileSync(C_LIBRARY, join(copies, 'py/libslotlink.so'));
  // The Node client: the compiled code, its addon, and the runtime dependencies it loads.
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  mkdirSync(join(copies, 'node'));
  copyFileSync(join(ROOT, 'package.json'), join(copies, 'node/package.json'));
  for (const part of ['dist', 'build/Release', 'prebuilds', ...Object.keys(pkg.dependencies ?? {}).map((d) => `node_modules/${d}`)]) {
    if (existsSync(join(ROOT, part))) cpSync(join(ROOT, part), join(copies, 'node', part), { recursive: true });
  }
});
after(async () => {
  await host?.close();
  if (copies) rmSync(copies, { recursive: true, force: true });
});

function asNobody(kind: ClientKind): Promise<Driver> {
  const setpriv = ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', '--'];
  if (kind === 'c') return Driver.launch(kind, 'setpriv', [...setpriv, join(copies, 'c/conformance-driver')]);
  if (kind === 'python')
    return Driver.launch(kind, 'setpriv', [...setpriv, SYSTEM_PYTHON, '-u', join(copies, 'py/conformance_driver.py')], {
      ...process.env,
      PYTHONPATH: join(copies, 'py'),
      SLOTLINK_LIBRARY: join(copies, 'py/libslotlink.so'),
      PYTHONDONTWRITEBYTECODE: '1',
    });
  const driver = join(copies, 'node', NODE_DRIVER.slice(NODE_DRIVER.indexOf('/dist/') + 1));
  return Driver.launch(kind, 'setpriv', [...setpriv, process.execPath, driver]);
}

for (const kind of KINDS) {
  const skip = why || (kind === 'python' && !existsSync(SYSTEM_PYTHON) ? `needs ${SYSTEM_PYTHON} (a Python other users may run)` : false);
  test(`${kind}: another user's process is refused with SLOTLINK_ERR_NOT_PERMITTED`, { skip }, async () => {
    const d = await asNobody(kind);
    try {
      const err = await d.callError('connect', { socket: host.socket, name: `stranger-${kind}` });
      assert.equal(err.code, 'SLOTLINK_ERR_NOT_PERMITTED', err.message);
      assert.match(err.message, new RegExp(`uid ${NOBODY} may not register`));
    } finally {
      await d.kill();
    }
  });
}
