/**
 * A job's `files`: the inode count `df -P -i` reports for a dataset's mountpoint (on ZFS, the
 * objects in the dataset: files, directories, links), where it is mounted; else unknown. One `df`
 * names many mountpoints; its lines are matched back to the mountpoints asked by their ends, so
 * names with spaces are read right, and a path that is not its own mount (df then reports the mount
 * above it) stays unknown.
 */
import type { ZfsObject } from '../zfs/types.js';
import { hasControl } from '../text.js';

/** How many mountpoints one `df` names (a command line stays far below any ARG_MAX). */
export const DF_CHUNK = 200;

export function dfInodesArgv(mountpoints: readonly string[]): string[] {
  return ['df', '-P', '-i', '--', ...mountpoints];
}

/** The mountpoints worth asking `df` about: mounted filesystems with an absolute, printable mountpoint. */
export function mountpointsOf(objects: Iterable<Pick<ZfsObject, 'name' | 'type' | 'mountpoint' | 'mounted'>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of objects) {
    if (o.type !== 'filesystem' || o.mounted === false || !o.mountpoint?.startsWith('/') || hasControl(o.mountpoint)) continue;
    out.set(o.name, o.mountpoint);
  }
  return out;
}

/**
 * `df -P -i` output (untrusted) -> IUsed by mountpoint, for the mountpoints asked. A line is
 * `FILESYSTEM INODES IUSED IFREE IUSE% MOUNTPOINT`; the filesystem (a dataset's name) and the
 * mountpoint may contain spaces, so the line is matched by the longest asked mountpoint it ends with.
 */
export function parseDfInodes(stdout: string, asked: readonly string[]): Map<string, number> {
  const byLength = [...new Set(asked)].sort((a, b) => b.length - a.length);
  const out = new Map<string, number>();
  for (const line of stdout.split('\n').slice(1)) {
    const mp = byLength.find((m) => line.endsWith(' ' + m));
    if (!mp) continue;
    const fields = line
      .slice(0, line.length - mp.length - 1)
      .trim()
      .split(/\s+/);
    if (fields.length < 5) continue;
    const [inodes, used, free, pct] = fields.slice(-4);
    if (![inodes, used, free].every((f) => /^\d{1,15}$/.test(f!)) || !/^(\d{1,3}%|-)$/.test(pct!)) continue;
    out.set(mp, Number(used));
  }
  return out;
}
