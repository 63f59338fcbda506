/**
 * A slot is private: its own anonymous memfd, mapped by its process and the proxy alone.
 * It has no name in any file system, the descriptors are closed once mapped, and no other
 * process — in particular one of another user — can open the mapping.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { test } from 'node:test';
import { slotMappings } from './helpers/claim-rig.js';
import { Rig } from './helpers/rig.js';

test('a process cannot map another process\'s slot', async (t) => {
  const rig = await Rig.start();
  try {
    const owner = await rig.worker('owner');
    const other = await rig.worker('other');
    const [mine] = slotMappings(owner.pid);
    assert.ok(mine, 'the owner maps its slot');
    assert.equal(slotMappings(other.pid).length, 1, 'the other process maps only its own slot');
    assert.notEqual(slotMappings(other.pid)[0]!.inode, mine.inode);

    // No name to open: nothing in /dev/shm, and no descriptor left open that points at it.
    if (existsSync('/dev/shm')) assert.equal(readdirSync('/dev/shm').some((f) => f.includes('slotlink')), false);
    for (const pid of [owner.pid, rig.proxy.pid]) {
      const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '';
        }
      });
      assert.equal(fds.some((l) => l.includes('memfd:slotlink-slot')), false, `pid ${pid} keeps no slot descriptor open`);
    }

    // The only remaining way in is the mapping itself, via /proc/PID/map_files.
    const line = (await import('node:fs')).readFileSync(`/proc/${owner.pid}/maps`, 'utf8').split('\n').find((l) => l.includes('memfd:slotlink-slot'))!;
    const mapFile = `/proc/${owner.pid}/map_files/${line.split(' ')[0]}`;
    if (process.getuid?.() !== 0) {
      t.diagnostic('not root: cannot run the probe as another user; checking as this user only');
      const probe = spawnSync(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(mapFile)}, 'r+')`]);
      assert.notEqual(probe.status, 0, 'a process of the same user cannot open the mapping');
      return;
    }
    const probe = spawnSync(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(mapFile)}, 'r+')`], { uid: 65534, gid: 65534, encoding: 'utf8' });
    assert.notEqual(probe.status, 0, 'a process of another user cannot open the mapping');
    assert.match(probe.stderr, /EACCES|EPERM/);
    // And registering cannot hand out someone else's slot: the name is taken.
    const thief = await rig.worker('thief');
    const err = await thief.call('connect', { socket: rig.socket, name: 'owner' }).catch((e: Error & { code: string }) => e);
    assert.equal((err as { code: string }).code, 'SLOTLINK_ERR_NAME_TAKEN');
  } finally {
    await rig.close();
  }
});
