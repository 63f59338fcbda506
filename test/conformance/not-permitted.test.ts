/**
 * Conformance: SLOTLINK_ERR_NOT_PERMITTED, for every client. The proxy lets its own user and
 * one configured group register (--group, socket mode 0660); a process of another user that
 * can reach the socket through a supplementary group, but whose own uid and gid are neither,
 * is refused after SO_PEERCRED. Each driver runs as "nobody" from a world-readable copy of
 * what it needs (setpriv; needs root, as CI runs).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { C_DRIVER, C_LIBRARY, Driver, KINDS, NODE_DRIVER, PY_DRIVER, ROOT, type ClientKind } from './driver.js';
import { Host } from './rig.js';

const NOBODY = 65534;
/** A group only the proxy's socket uses; "nobody" gets it as a supplementary group. */
const GROUP = 4242;
const SYSTEM_PYTHON = '/usr/bin/python3';
const why = process.getuid?.() !== 0 ? 'needs root (to run a client as another user)' : spawnSync('setpriv', ['--version']).status !== 0 ? 'needs setpriv (util-linux)' : false;

let host: Host;
let copies: string;
before(async () => {
  if (why) return;
  host = await Host.start(['--group', String(GROUP)]);
  chmodSync(host.dir, 0o711); // others may reach the socket; its own mode (0660, group GROUP) decides
  copies = mkdtempSync(join(os.tmpdir(), 'slotlink-nobody-'));
  chmodSync(copies, 0o755);
  mkdirSync(join(copies, 'c'));
  copyFileSync(C_DRIVER, join(copies, 'c/conformance-driver'));
  cpSync(join(ROOT, 'clients/python/slotlink'), join(copies, 'py/slotlink'), { recursive: true });
  copyFileSync(PY_DRIVER, join(copies, 'py/conformance_driver.py'));
  copyFileSync(C_LIBRARY, join(copies, 'py/libslotlink.so'));
  cpSync(join(ROOT, 'dist'), join(copies, 'node/dist'), { recursive: true });
  cpSync(join(ROOT, 'build/Release/slotlink.node'), join(copies, 'node/build/Release/slotlink.node'));
  copyFileSync(join(ROOT, 'package.json'), join(copies, 'node/package.json'));
});
after(async () => {
  await host?.close();
  if (copies) rmSync(copies, { recursive: true, force: true });
});

function asNobody(kind: ClientKind): Promise<Driver> {
  const setpriv = ['--reuid', String(NOBODY), '--regid', String(NOBODY), `--groups=${GROUP}`, '--'];
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
