/**
 * The service's access recipe (README "Running as a service"), run as systemd would run it
 * but without systemd: the proxy under its own uid and gid with UMask=0077, the example
 * config from deploy/, and the socket in a runtime directory of mode 0750 owned by the
 * service (what RuntimeDirectory= makes). Processes in the slotlink group register, whether
 * it is their primary group or a supplementary one (SupplementaryGroups=slotlink in a
 * worker's unit); anyone else cannot reach the socket.
 *
 * Needs root (to take other uids, with setpriv from util-linux). The code runs from a copy
 * under the temp directory, since the checkout may not be readable by other users.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run, which } from '../helpers/npm.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const skip = process.getuid?.() !== 0 ? 'needs root to run processes as other users' : which('setpriv', process.env.PATH ?? '') ? false : 'setpriv (util-linux) is not installed';

// Ids standing for the slotlink user and group and for two other users; no account needed.
const SLOTLINK_UID = 61001;
const SLOTLINK_GID = 61000;
const WORKER_UID = 61002;
const OTHER_UID = 61003;

/** What the proxy and the CLI load at run time, copied where every user may read it. */
function copyRuntime(to: string): string {
  const require = createRequire(import.meta.url);
  cpSync(join(ROOT, 'package.json'), join(to, 'package.json'));
  cpSync(join(ROOT, 'dist', 'src'), join(to, 'dist', 'src'), { recursive: true });
  for (const dep of ['yaml', 'node-gyp-build']) cpSync(join(ROOT, 'node_modules', dep), join(to, 'node_modules', dep), { recursive: true });
  const addon = (require('node-gyp-build') as { path(dir: string): string }).path(ROOT);
  mkdirSync(join(to, 'build', 'Release'), { recursive: true });
  cpSync(addon, join(to, 'build', 'Release', 'slotlink.node'));
  return join(to, 'dist', 'src', 'cli', 'main.js');
}

/** `setpriv` arguments that run a command as uid with gid as its group and `groups` besides. */
function as(uid: number, gid: number, groups: number[] = []): string[] {
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, ...(groups.length ? [`--groups=${groups.join(',')}`] : ['--clear-groups'])];
}

test('as a service: processes whose group is slotlink register, others cannot', { skip, timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-service-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const cli = copyRuntime(dir);
  const config = join(dir, 'etc', 'slotlink', 'slotlink.yaml');
  cpSync(join(ROOT, 'deploy', 'slotlink.yaml'), config);
  // RuntimeDirectory=slotlink, RuntimeDirectoryMode=0750, owned by User= and Group=.
  const runtimeDir = join(dir, 'run', 'slotlink');
  mkdirSync(runtimeDir, { recursive: true });
  chmodSync(join(dir, 'run'), 0o755);
  chmodSync(runtimeDir, 0o750);
  chownSync(runtimeDir, SLOTLINK_UID, SLOTLINK_GID);
  const socket = join(runtimeDir, 'proxy.sock');

  // The unit's ExecStart with its config; the socket path and the group's id are this
  // test's, as the config's own comments tell an operator to set them.
  const proxy = spawn('/bin/sh', ['-c', 'umask 0077 && exec "$@"', 'sh', ...as(SLOTLINK_UID, SLOTLINK_GID), process.execPath, cli, 'proxy', '--config', config, '--socket', socket, '--group', String(SLOTLINK_GID), '--node', 'host'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => proxy.once('exit', resolve));
  t.after(async () => {
    proxy.kill('SIGTERM');
    await exited;
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    proxy.stderr.setEncoding('utf8').on('data', (d: string) => {
      log += d;
      if (log.includes('proxy listening')) resolve();
    });
    void exited.then((code) => reject(new Error(`the proxy exited (${code}) before listening:\n${log}`)));
  });

  const st = statSync(socket);
  assert.equal(st.mode & 0o777, 0o660, 'the socket is open to its group');
  assert.equal(st.uid, SLOTLINK_UID);
  assert.equal(st.gid, SLOTLINK_GID);

  const env = { PATH: process.env.PATH, SLOTLINK_SOCKET: socket };
  const ping = (who: string[]) => run(who[0]!, [...who.slice(1), process.execPath, cli, 'request', '~proxy', 'ping'], { cwd: dir, env });

  const member = await ping(as(WORKER_UID, SLOTLINK_GID));
  assert.equal(member.code, 0, `a process whose group is slotlink registers:\n${member.out}\nproxy log:\n${log}`);
  assert.equal(member.out.trim(), 'ping', 'and the proxy answers it');

  const supplementary = await ping(as(WORKER_UID, WORKER_UID, [SLOTLINK_GID]));
  assert.equal(supplementary.code, 0, `slotlink as a supplementary group registers too:\n${supplementary.out}\nproxy log:\n${log}`);

  const other = await ping(as(OTHER_UID, OTHER_UID));
  assert.equal(other.code, 1, `another user's process is refused:\n${other.out}`);
  assert.match(other.out, /SLOTLINK_ERR_NOT_PERMITTED/, 'the runtime directory keeps it away from the socket');

  proxy.kill('SIGTERM');
  assert.equal(await exited, 0, `the proxy drains and exits 0 on SIGTERM:\n${log}`);
});
