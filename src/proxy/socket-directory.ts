/**
 * The registration socket's directory must be one nobody else can change: another user who
 * can write there could move the proxy's socket aside and put their own in its place, and
 * capture every process's hello (as ssh-agent and tmux guard their socket directories).
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { UnsafeSocketDirectoryError } from '../errors.js';

const STICKY = 0o1000;
const GROUP_OR_OTHER_WRITE = 0o022;

/**
 * Creates `dir` (mode 0700) if it is missing, then refuses it unless it is a real directory
 * that only `uid` (or root) can change: owned by either, and either not writable by group
 * and others, or sticky (as /tmp: others may add files but not move ours).
 */
export function checkSocketDirectory(dir: string, uid: number): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const fix = `use a directory only uid ${uid} can write (e.g. mode 0700), or choose another --socket path`;
  if (!st.isDirectory()) throw new UnsafeSocketDirectoryError(dir, `it is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; ${fix}`);
  if (st.uid !== uid && st.uid !== 0) throw new UnsafeSocketDirectoryError(dir, `it belongs to uid ${st.uid}, not to this proxy's uid ${uid} or root; ${fix}`);
  if ((st.mode & GROUP_OR_OTHER_WRITE) !== 0 && (st.mode & STICKY) === 0)
    throw new UnsafeSocketDirectoryError(dir, `others can write to it (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}) and it is not sticky; ${fix}`);
}
