/**
 * The common base of a source and a target dataset: snapshots matched by guid (a name is only a
 * label: two snapshots with the same name and different guids are different snapshots, and are
 * reported as a clash), ordered by createtxg (creation time where createtxg is absent, then listing
 * order). The newest match is the base an incremental send starts from.
 */
import type { HostListing } from '../fleet/listing.js';
import type { ZfsObject } from '../zfs/types.js';

export interface MatchedSnapshot {
  guid: string;
  source: ZfsObject;
  target: ZfsObject;
}

/** Same short name (after '@') on both sides, different guid: not the same snapshot. */
export interface NameClash {
  name: string;
  source: ZfsObject;
  target: ZfsObject;
}

/** Where an incremental send starts: a source snapshot, or a source bookmark (the snapshot was pruned but its bookmark kept). */
export interface IncrementalBase {
  kind: 'snapshot' | 'bookmark';
  guid: string;
  /** The source snapshot or bookmark (`pool/fs@snap` or `pool/fs#mark`). */
  source: ZfsObject;
  /** The target snapshot with the same guid: the target must be exactly at it to receive. */
  target: ZfsObject;
}

export interface CommonBase {
  sourceDataset: string;
  targetDataset: string;
  /** Oldest first. */
  sourceSnapshots: ZfsObject[];
  /** Oldest first; empty when the target does not exist. */
  targetSnapshots: ZfsObject[];
  /** Snapshots on both sides (same guid), oldest first. */
  matched: MatchedSnapshot[];
  /** The newest snapshot both sides have. */
  base?: MatchedSnapshot;
  /** A source bookmark whose guid matches a target snapshot newer than `base` (the snapshot was pruned on the source). */
  bookmark?: { bookmark: ZfsObject; target: ZfsObject };
  /** What a sync starts from: the bookmark when it is newer than the base, else the base. */
  incremental?: IncrementalBase;
  /** Source snapshots newer than the incremental base (what a sync sends), oldest first; all of them when there is none. */
  newerOnSource: ZfsObject[];
  /** Target snapshots newer than the incremental base (what a rollback to it destroys), oldest first; all of them when there is none. */
  newerOnTarget: ZfsObject[];
  nameClashes: NameClash[];
}

/** Short name of a snapshot or bookmark: what follows '@' or '#'. */
export function snapName(name: string): string {
  // '@' and '#' cannot occur in a dataset name: the first of them starts the short name.
  const at = name.indexOf('@');
  const hash = name.indexOf('#');
  const i = at < 0 ? hash : hash < 0 ? at : Math.min(at, hash);
  return i < 0 ? name : name.slice(i + 1);
}

/** Orders snapshots oldest first: createtxg where both have it, else creation time, else the given order. */
export function oldestFirst(snapshots: readonly ZfsObject[], givenNewestFirst = true): ZfsObject[] {
  // A listing keeps them sorted already (newest first): then reversing is the whole work.
  const given = givenNewestFirst ? [...snapshots].reverse() : [...snapshots];
  let sorted = true;
  for (let i = 1; i < given.length && sorted; i++) sorted = compareAge(given[i - 1]!, given[i]!) <= 0;
  if (sorted) return given;
  const indexed = snapshots.map((o, i) => ({ o, i: givenNewestFirst ? snapshots.length - 1 - i : i }));
  indexed.sort((a, b) => compareAge(a.o, b.o) || a.i - b.i);
  return indexed.map((x) => x.o);
}

/** < 0 when a is older than b; 0 when the data cannot tell. */
export function compareAge(a: ZfsObject, b: ZfsObject): number {
  if (a.createtxg !== undefined && b.createtxg !== undefined && a.createtxg !== b.createtxg) return a.createtxg - b.createtxg;
  if (a.creation !== undefined && b.creation !== undefined && a.creation !== b.creation) return a.creation - b.creation;
  return 0;
}

export interface DatasetSnapshots {
  dataset: string;
  /** As the listing keeps them: newest first. */
  snapshots: readonly ZfsObject[];
  bookmarks?: readonly ZfsObject[];
}

/** Compare a source dataset's snapshots (and bookmarks) with a target dataset's snapshots. `target` undefined: the target does not exist. */
export function compareSnapshots(source: DatasetSnapshots, target: DatasetSnapshots | undefined, targetDataset = target?.dataset ?? ''): CommonBase {
  const src = oldestFirst(source.snapshots);
  const dst = target ? oldestFirst(target.snapshots) : [];
  // guid -> index in dst (oldest first): one map, indexes compared instead of objects looked up.
  const dstAt = new Map<string, number>();
  dst.forEach((t, i) => {
    if (t.guid) dstAt.set(t.guid, i);
  });

  const matched: MatchedSnapshot[] = [];
  // The base: the match newest on the target (the side a rollback and a receive work on).
  let base: MatchedSnapshot | undefined;
  let baseAt = -1;
  for (const s of src) {
    const i = s.guid ? dstAt.get(s.guid) : undefined;
    if (i === undefined) continue;
    const m = { guid: s.guid!, source: s, target: dst[i]! };
    matched.push(m);
    if (i > baseAt) {
      base = m;
      baseAt = i;
    }
  }

  // A bookmark helps only when it matches a target snapshot newer than the base snapshot.
  let bookmark: { bookmark: ZfsObject; target: ZfsObject } | undefined;
  let bookmarkAt = -1;
  for (const b of source.bookmarks ?? []) {
    const ti = b.guid ? dstAt.get(b.guid) : undefined;
    if (ti === undefined || ti <= baseAt || ti <= bookmarkAt) continue;
    bookmark = { bookmark: b, target: dst[ti]! };
    bookmarkAt = ti;
  }

  let incremental: IncrementalBase | undefined;
  let newerOnSource: ZfsObject[];
  if (bookmark) {
    incremental = { kind: 'bookmark', guid: bookmark.bookmark.guid!, source: bookmark.bookmark, target: bookmark.target };
    newerOnSource = src.filter((s) => compareAge(s, bookmark!.bookmark) > 0);
  } else if (base) {
    incremental = { kind: 'snapshot', guid: base.guid, source: base.source, target: base.target };
    newerOnSource = src.slice(src.indexOf(base.source) + 1);
  } else {
    newerOnSource = [...src];
  }
  const newerOnTarget = incremental ? dst.slice((bookmark ? bookmarkAt : baseAt) + 1) : [...dst];

  const srcByName = new Map(src.map((s) => [snapName(s.name), s]));
  const nameClashes: NameClash[] = [];
  for (const t of dst) {
    const s = srcByName.get(snapName(t.name));
    if (s && s.guid !== t.guid) nameClashes.push({ name: snapName(t.name), source: s, target: t });
  }

  return {
    sourceDataset: source.dataset,
    targetDataset,
    sourceSnapshots: src,
    targetSnapshots: dst,
    matched,
    base,
    bookmark,
    incremental,
    newerOnSource,
    newerOnTarget,
    nameClashes,
  };
}

/** compareSnapshots for two datasets of two listings (the target may be absent). Throws when the source dataset is absent. */
export function commonBase(sourceListing: HostListing, sourceDataset: string, targetListing: HostListing, targetDataset: string): CommonBase {
  const s = sourceListing.datasets.get(sourceDataset);
  if (!s) throw new Error(`${sourceListing.host}: ${sourceDataset} does not exist`);
  const t = targetListing.datasets.get(targetDataset);
  return compareSnapshots(
    { dataset: sourceDataset, snapshots: s.snapshots, bookmarks: s.bookmarks },
    t ? { dataset: targetDataset, snapshots: t.snapshots } : undefined,
    targetDataset,
  );
}
