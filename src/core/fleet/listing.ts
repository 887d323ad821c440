/** One host's ZFS, indexed for the tree and the planners: built from ONE listing command, not one per node. */
import { safeLine } from '../text.js';
import { hostNameProblem, parentDataset } from '../zfs/names.js';
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
  /**
   * Objects the host listed that are left out because what it said of them is not valid: a name
   * that breaks the ZFS name rules (control bytes, say), a clone origin or resume token that is not
   * one. `name` is already escaped for display; the rest of the host is listed as usual.
   */
  rejected: RejectedObject[];
  takenAt: Date;
  durationMs: number;
}

export interface RejectedObject {
  /** The name as the host gave it, control bytes escaped (safeLine). */
  name: string;
  reason: string;
}

/** A resume token as `zfs get receive_resume_token` prints it: version-checksum-length-payload, hex. */
const RESUME_TOKEN = /^[0-9]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+$/;

/** Check what a host said of one object; returns why it is rejected, and drops values that are not valid. */
function objectProblem(o: ZfsObject): string | undefined {
  const problem = hostNameProblem(o.name);
  if (problem) return `invalid name: ${problem}`;
  if (o.origin !== undefined && (hostNameProblem(o.origin) !== undefined || !o.origin.includes('@'))) return `invalid origin "${safeLine(o.origin)}"`;
  if (o.receiveResumeToken !== undefined && !RESUME_TOKEN.test(o.receiveResumeToken)) return 'invalid receive_resume_token';
  return undefined;
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
  const rejected: RejectedObject[] = [];
  let snapshotCount = 0;
  objects.forEach((o, i) => {
    const problem = objectProblem(o);
    if (problem) {
      rejected.push({ name: safeLine(o.name), reason: problem });
      return;
    }
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
  return { host, capabilities, pools, datasets, clones, snapshotCount, rejected, takenAt: new Date(), durationMs };
}

/** The datasets of a pool's top level: the pool's root dataset's children. */
export function rootDataset(listing: HostListing, pool: string): DatasetEntry | undefined {
  return listing.datasets.get(pool);
}
