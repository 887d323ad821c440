/** One host's ZFS, indexed for the tree and the planners: built from ONE listing command, not one per node. */
import { parentDataset } from '../zfs/names.js';
import type { PoolInfo, ZfsCapabilities, ZfsObject } from '../zfs/types.js';

export interface DatasetEntry {
  object: ZfsObject;
  /** Child filesystems/volumes, in listing order. */
  children: string[];
  /** Snapshots, newest first (createtxg, else creation, else listing order). */
  snapshots: ZfsObject[];
  bookmarks: ZfsObject[];
}

export interface HostListing {
  host: string;
  capabilities: ZfsCapabilities;
  pools: PoolInfo[];
  datasets: Map<string, DatasetEntry>;
  /** Snapshot name -> datasets cloned from it. */
  clones: Map<string, string[]>;
  snapshotCount: number;
  takenAt: Date;
  durationMs: number;
}

function newestFirst(a: { o: ZfsObject; i: number }, b: { o: ZfsObject; i: number }): number {
  if (a.o.createtxg !== undefined && b.o.createtxg !== undefined && a.o.createtxg !== b.o.createtxg) return b.o.createtxg - a.o.createtxg;
  if (a.o.creation !== undefined && b.o.creation !== undefined && a.o.creation !== b.o.creation) return b.o.creation - a.o.creation;
  return b.i - a.i;
}

export function buildListing(host: string, capabilities: ZfsCapabilities, pools: PoolInfo[], objects: readonly ZfsObject[], durationMs = 0): HostListing {
  const datasets = new Map<string, DatasetEntry>();
  const snaps = new Map<string, { o: ZfsObject; i: number }[]>();
  const clones = new Map<string, string[]>();
  const marks: ZfsObject[] = [];
  let snapshotCount = 0;
  objects.forEach((o, i) => {
    if (o.type === 'snapshot') {
      const ds = o.name.slice(0, o.name.indexOf('@'));
      let list = snaps.get(ds);
      if (!list) snaps.set(ds, (list = []));
      list.push({ o, i });
      snapshotCount++;
    } else if (o.type === 'bookmark') {
      marks.push(o);
    } else {
      datasets.set(o.name, { object: o, children: [], snapshots: [], bookmarks: [] });
      if (o.origin) {
        let list = clones.get(o.origin);
        if (!list) clones.set(o.origin, (list = []));
        list.push(o.name);
      }
    }
  });
  for (const [name, entry] of datasets) {
    const parent = parentDataset(name);
    if (parent !== undefined) datasets.get(parent)?.children.push(name);
    const list = snaps.get(name);
    if (list) entry.snapshots = list.sort(newestFirst).map((s) => s.o);
  }
  for (const b of marks) datasets.get(b.name.slice(0, b.name.indexOf('#')))?.bookmarks.push(b);
  return { host, capabilities, pools, datasets, clones, snapshotCount, takenAt: new Date(), durationMs };
}

/** The datasets of a pool's top level: the pool's root dataset's children. */
export function rootDataset(listing: HostListing, pool: string): DatasetEntry | undefined {
  return listing.datasets.get(pool);
}
