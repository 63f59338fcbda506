/**
 * Regression (hardening #9, #10): a root proxy used a default socket directory another user
 * had made (mode 0777), who could then swap the socket and capture hellos; and `--group`
 * refused members whose group was a supplementary one.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { CLI_PATH, startProxyProcess } from '../../src/cli/proxy-process.js';

const uid = process.getuid!();
const isRoot = uid === 0;
const NOBODY = 65534;
const GROUP = 100; // "users" on Debian; any gid the test process is not in works
const tmp = mkdtempSync(join(os.tmpdir(), 'slotlink-sockdir-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs `slotlink proxy` with no --socket and TMPDIR pointing into the test's directory. */
function proxyWithDefaultSocket(tmpdir: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmpdir };
  delete env.SLOTLINK_SOCKET;
  return spawnSync(process.execPath, [CLI_PATH, 'proxy', '--node', 'sockdir'], { env, encoding: 'utf8', timeout: 20_000 });
}

test('a default socket directory that others can write to is refused with a clear message', () => {
  const tmpdir = join(tmp, 'writable');
  mkdirSync(join(tmpdir, `slotlink-${uid}`), { recursive: true });
  chmodSync(join(tmpdir, `slotlink-${uid}`), 0o777);
  const r = proxyWithDefaultSocket(tmpdir);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /refusing socket directory .*slotlink-\d+: others can write to it \(mode 0777\) and it is not sticky.*SLOTLINK_ERR_UNSAFE_SOCKET_DIRECTORY/);
});

test('a default socket directory made by another user is refused', { skip: !isRoot && 'needs root to make a directory owned by another user' }, () => {
  const tmpdir = join(tmp, 'squatted');
  const dir = join(tmpdir, `slotlink-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, NOBODY, NOBODY);
  const r = proxyWithDefaultSocket(tmpdir);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`it belongs to uid ${NOBODY}, not to this proxy's uid ${uid} or root`));
});

test('a private default socket directory is used, made 0700 when missing', async () => {
  const tmpdir = join(tmp, 'fresh');
  const env = { TMPDIR: tmpdir, SLOTLINK_SOCKET: '' };
  const p = await startProxyProcess(join(tmpdir, `slotlink-${uid}`, 'proxy.sock'), ['--node', 'sockdir'], { env });
  try {
    const mode = spawnSync('stat', ['-c', '%a', join(tmpdir, `slotlink-${uid}`)], { encoding: 'utf8' }).stdout.trim();
    assert.equal(mode, '700');
  } finally {
    await p.stop();
  }
});

/** Whether a process running as `nobody` can load the package's files (not under /root, say). */
function nobodyCanRead(): boolean {
  const r = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(CLI_PATH)})`], { uid: NOBODY, gid: NOBODY });
  return r.status === 0;
}

test('--group admits a member by a supplementary group, and still refuses a non-member', { skip: !isRoot ? 'needs root to run a process as another user' : !nobodyCanRead() && 'the checkout is not readable by uid 65534' }, async () => {
  chmodSync(tmp, 0o711); // others may pass through to the group's directory
  const dir = join(tmp, 'group');
  mkdirSync(dir, { mode: 0o750 });
  chownSync(dir, 0, GROUP); // members may reach the socket; nobody else may change the directory
  const socket = join(dir, 'proxy.sock');
  const p = await startProxyProcess(socket, ['--node', 'grouped', '--group', String(GROUP)]);
  const member = fileURLToPath(new URL('../fixtures/connect-as.js', import.meta.url));
  const run = (groups: number[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn(process.execPath, [member, socket, String(NOBODY), groups.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      c.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      c.on('exit', (code) => resolve({ code, out }));
    });
  try {
    const ok = await run([GROUP]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /registered as member~\d+\.\d+@grouped/);
    const no = await run([]);
    assert.equal(no.code, 1, no.out);
    assert.match(no.out, /SLOTLINK_ERR_NOT_PERMITTED/);
  } finally {
    await p.stop();
  }
});
