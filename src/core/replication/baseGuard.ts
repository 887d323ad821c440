/**
 * The newest common snapshot of a pair is what its next incremental sync starts from. A plan that
 * destroys it on either side (a rollback from the tree, the timeline or the CLI; a diagnose fix) must
 * say so, name the pair and what the next sync costs, and have the user type the dataset's name.
 * Sync plans never destroy a base (see sync.ts); this covers every other destroy.
 */
import type { HostListing } from '../fleet/listing.js';
import type { ReplicationPair } from '../fleet/pairs.js';
import { compareSnapshots, type CommonBase } from './commonBase.js';
import type { Destroys, Plan } from './plan.js';

export interface BaseLoss {
  pair: ReplicationPair;
  /** The host and dataset whose object is destroyed: the name the user types to go on. */
  host: string;
  dataset: string;
  /** The destroyed base (snapshot or bookmark). */
  destroyed: string;
  /** What the next sync starts from afterwards: an older common snapshot, or nothing (a full send). */
  nextBase?: string;
  message: string;
}

function pairName(p: ReplicationPair): string {
  return p.label
    ? `${p.label} (${p.source.host}:${p.source.name?.full} -> ${p.target.host}:${p.target.name?.full})`
    : `${p.source.host}:${p.source.name?.full} -> ${p.target.host}:${p.target.name?.full}`;
}

function compare(src: HostListing, srcDs: string, dst: HostListing, dstDs: string, gone: (host: string, name: string) => boolean): CommonBase | undefined {
  const s = src.datasets.get(srcDs);
  if (!s) return undefined;
  const t = dst.datasets.get(dstDs);
  const keep = <T extends { name: string }>(host: string, list: readonly T[]) => list.filter((o) => !gone(host, o.name));
  return compareSnapshots(
    { dataset: srcDs, snapshots: keep(src.host, s.snapshots), bookmarks: keep(src.host, s.bookmarks) },
    t ? { dataset: dstDs, snapshots: keep(dst.host, t.snapshots) } : undefined,
    dstDs,
  );
}

/** A pair's newest common base as its hosts' listings say it, with those listings; undefined when a listing or the base is missing. */
function newestBase(pair: ReplicationPair, listing: (host: string) => HostListing | undefined) {
  const srcDs = pair.source.name?.full;
  const dstDs = pair.target.name?.full;
  const src = listing(pair.source.host);
  const dst = listing(pair.target.host);
  if (!srcDs || !dstDs || !src || !dst) return undefined;
  const base = compare(src, srcDs, dst, dstDs, () => false)?.incremental;
  return base ? { src, srcDs, dst, dstDs, base } : undefined;
}

/**
 * The pairs whose newest common base `destroys` takes away, with the base after the destroys.
 * `listing(host)` gives the listing of a pair's host, or undefined when it is not known (that pair
 * is then not judged: the caller loads the listings of the pairs it passes).
 */
export function basesLost(destroys: Destroys, pairs: readonly ReplicationPair[], listing: (host: string) => HostListing | undefined): BaseLoss[] {
  const destroyed = new Set([...destroys.snapshots, ...destroys.bookmarks].map((o) => `${o.host}\0${o.name}`));
  if (destroyed.size === 0) return [];
  const gone = (host: string, name: string) => destroyed.has(`${host}\0${name}`);
  const out: BaseLoss[] = [];
  for (const pair of pairs) {
    const found = newestBase(pair, listing);
    if (!found) continue;
    const { src, srcDs, dst, dstDs, base: before } = found;
    const hit = gone(pair.source.host, before.source.name)
      ? { host: pair.source.host, dataset: srcDs, name: before.source.name }
      : gone(pair.target.host, before.target.name)
        ? { host: pair.target.host, dataset: dstDs, name: before.target.name }
        : undefined;
    if (!hit) continue;
    const after = compare(src, srcDs, dst, dstDs, gone)?.incremental;
    const cost = after
      ? `the next sync starts from the older common ${after.kind} ${after.source.name} and sends everything since`
      : `no common snapshot is left: the next sync is a full send of ${pair.source.host}:${srcDs}, and the target must be destroyed or renamed first`;
    out.push({
      pair,
      host: hit.host,
      dataset: hit.dataset,
      destroyed: hit.name,
      ...(after ? { nextBase: after.source.name } : {}),
      message: `${hit.host}: this destroys ${hit.name}, the newest common ${before.kind} of the pair ${pairName(pair)}: ${cost}.`,
    });
  }
  return out;
}

/**
 * Each pair's newest common base as the objects that hold it, `host\0name` (the source's snapshot or
 * bookmark, the target's snapshot), with the pair and its name in words: what expiry never destroys.
 */
export function pairBases(
  pairs: readonly ReplicationPair[],
  listing: (host: string) => HostListing | undefined,
): Map<string, { pair: ReplicationPair; label: string }> {
  const out = new Map<string, { pair: ReplicationPair; label: string }>();
  for (const pair of pairs) {
    const base = newestBase(pair, listing)?.base;
    if (!base) continue;
    const label = pairName(pair);
    out.set(`${pair.source.host}\0${base.source.name}`, { pair, label });
    out.set(`${pair.target.host}\0${base.target.name}`, { pair, label });
  }
  return out;
}

/**
 * basesLost for a plan, as every front end asks it: the pairs touching the plan's hosts, their hosts
 * listed through `listing` (one at a time in parallel; a host that cannot be listed is reported to
 * `unlisted` and its pairs are not judged). Nothing to do when the plan destroys no snapshot or bookmark.
 */
export async function planBasesLost(
  plan: Plan,
  pairs: readonly ReplicationPair[],
  listing: (host: string) => Promise<HostListing>,
  unlisted: (host: string, error: Error) => void,
): Promise<BaseLoss[]> {
  if (plan.destroys.snapshots.length + plan.destroys.bookmarks.length === 0) return [];
  const touching = pairs.filter(
    (p, i) => pairs.findIndex((q) => q.id === p.id) === i && (plan.hosts.includes(p.source.host) || plan.hosts.includes(p.target.host)),
  );
  const listings = new Map<string, HostListing>();
  await Promise.all(
    [...new Set(touching.flatMap((p) => [p.source.host, p.target.host]))].map(async (h) => {
      try {
        listings.set(h, await listing(h));
      } catch (e) {
        unlisted(h, e as Error);
      }
    }),
  );
  return basesLost(plan.destroys, touching, (h) => listings.get(h));
}

/** What the CLI prints for each lost base, with how to run the plan anyway (`run`: the flags before --confirm-base). */
export function baseLossLines(losses: readonly BaseLoss[], run: string, quote: (s: string) => string): string[] {
  return losses.map((l) => `\nBASE LOST: ${l.message}\n  To run it anyway: ${run} --confirm-base ${quote(l.dataset)}`);
}
