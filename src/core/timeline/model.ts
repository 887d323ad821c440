/**
 * The timeline's model (src/shared/protocol.ts TimelineModel) from the hosts' listings: lanes of
 * snapshots and bookmarks on one time axis, links between marks with the same guid, flags that say
 * what a user looks for (the common base, what the next sync sends, what a rollback destroys, holds,
 * clones, gaps, what retention prunes next) and the pair's state in sentences. Pure: no vscode, no I/O.
 *
 * "What retention is about to prune": the fleet does not know the hosts' retention policies (sanoid,
 * cron scripts, ...), so the timeline assumes the common count/age-based one, which destroys the
 * oldest snapshot first. The mark flagged PrunesNext is the lane's oldest snapshot that such a policy
 * CAN destroy: one without holds (`zfs destroy` refuses a held snapshot) and without clones (it needs
 * `-R`, which no retention tool uses), and never the lane's newest snapshot (no policy keeps zero).
 * When that snapshot is also the pair's common base it is AtRisk: pruning it breaks the incremental
 * replication (the pair then needs a full send). A hold on the base takes it out of harm's way, which
 * is why the state's retention warning is reworded here when the base is held. Where the fleet
 * file gives the source a retention policy (issue 10 §3), the forecast replaces that estimate on its
 * lane: PrunesNext is what sanoid's next prune destroys, and the base is AtRisk only when that prune
 * is within the pair state's risk window (a day), as `check` warns.
 *
 * Size: built in O(n log n) per lane (one sort per pair comparison); 50,000 snapshots per lane take a
 * few tens of ms (see test/unit/timeline/model.test.ts for the shape check on a generated listing).
 */
import { formatAge, formatBytes } from '../format.js';
import type { HostListing } from '../fleet/listing.js';
import type { ReplicationPair } from '../fleet/pairs.js';
import { snapName, type CommonBase } from '../replication/commonBase.js';
import { formatDuration } from '../replication/processes.js';
import { DEFAULT_BASE_RISK_SECONDS, pairState, type PairState } from '../replication/state.js';
import { forecastRetention, formatUtc } from '../retention/forecast.js';
import type { ZfsObject } from '../zfs/types.js';
import {
  MarkFlag,
  type LaneRole,
  type MarkKind,
  type TimelineLane,
  type TimelineLink,
  type TimelineMark,
  type TimelineModel,
  type TimelineSubject,
} from '../../shared/protocol.js';

/** A host's listing, or why there is none (unreachable, still loading). */
export type ListingOrProblem = HostListing | { problem: string };
/** The listings the timeline is built from, by host. */
export type Listings = (host: string) => ListingOrProblem | undefined;

export interface TimelineOptions {
  /** The mark to centre on: a full snapshot or bookmark name on a host. */
  focus?: { host: string; name: string };
  /** "Now" in ms for ages (default: the newest listing's time). */
  now?: number;
}

/** Fewer snapshots than this: no usual interval, no gaps. */
export const MIN_SNAPSHOTS_FOR_INTERVAL = 4;
/** An interval more than this many times the usual one is a gap. */
export const GAP_FACTOR = 2;
/** Names listed in a sentence before it says "and N more". */
const LIST_MAX = 6;

/**
 * Finds the mark index of listed objects asked for in lane order (what compareSnapshots returns is
 * oldest first, like the lane): a cursor that moves forward with identity comparisons, so a whole
 * lane of look-ups costs about one pass over it. Scans are budgeted to a few passes; anything out of
 * order beyond that falls back to a map by name, built the first time it is needed.
 */
class Locator {
  private cursor = 0;
  private budget: number;
  constructor(
    private readonly objs: readonly ZfsObject[],
    private readonly byName: () => Map<string, number>,
  ) {
    this.budget = 2 * objs.length + 64;
  }

  at(o: ZfsObject): number | undefined {
    const objs = this.objs;
    if (this.budget > 0) {
      const start = this.cursor;
      const i = objs.indexOf(o, start);
      this.budget -= (i < 0 ? objs.length : i) - start + 1;
      if (i >= 0) {
        this.cursor = i + 1;
        return i;
      }
    }
    const i = this.byName().get(o.name);
    if (i !== undefined) this.cursor = i + 1;
    return i;
  }
}

class LaneBuild {
  /** The listed object of each mark (same index as lane.marks). */
  readonly objs: ZfsObject[] = [];
  /** With a retention policy: the `HOST:DATASET` whose policy applies, and when its next prune runs (seconds). */
  policy?: string;
  prunedAt?: number;
  private map?: Map<string, number>;
  constructor(
    readonly lane: TimelineLane,
    readonly listing?: HostListing,
  ) {}

  /** A cursor for look-ups in lane order. */
  locator(): Locator {
    return new Locator(this.objs, () => (this.map ??= new Map(this.objs.map((o, i) => [o.name, i]))));
  }

  /** One look-up (a linear scan of identities: cheaper than building a map for it). */
  find(o: ZfsObject | undefined): number | undefined {
    if (!o) return undefined;
    const i = this.objs.lastIndexOf(o);
    return i < 0 ? undefined : i;
  }
}

function isListing(x: ListingOrProblem | undefined): x is HostListing {
  return !!x && 'datasets' in x;
}

const at = (name: string) => '@' + snapName(name);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `@a, @b, @c, … (and 12 more), @z`: long lists stay one short sentence. */
function nameList(names: readonly string[]): string {
  if (names.length <= LIST_MAX) return names.map(at).join(', ');
  const head = names.slice(0, LIST_MAX - 2).map(at);
  const tail = names.slice(-1).map(at);
  return `${head.join(', ')}, … (${names.length - LIST_MAX + 1} more), ${tail.join(', ')}`;
}

/** One mark, always of the same shape (absent values undefined: dropped by JSON, and one hidden class for 100,000 marks). */
function mark(o: ZfsObject, kind: MarkKind, prevTime: number, listing: HostListing): TimelineMark {
  const clones = kind === 'snapshot' ? listing.clones.get(o.name) : undefined;
  const holds = kind === 'snapshot' ? o.userrefs : undefined;
  let flags = 0;
  if (holds) flags |= MarkFlag.Held;
  if (clones?.length) flags |= MarkFlag.HasClones;
  return {
    name: o.name.slice(o.name.indexOf(kind === 'snapshot' ? '@' : '#') + 1),
    kind,
    time: o.creation ?? prevTime,
    createtxg: o.createtxg,
    guid: o.guid,
    used: o.used,
    holds,
    clones: clones?.length ? [...clones] : undefined,
    flags,
  };
}

/** Older first: createtxg where both have it, else creation time; a tie keeps the snapshot before its bookmark. */
function olderThan(a: ZfsObject, b: ZfsObject): boolean {
  if (a.createtxg !== undefined && b.createtxg !== undefined && a.createtxg !== b.createtxg) return a.createtxg < b.createtxg;
  if (a.creation !== undefined && b.creation !== undefined) return a.creation < b.creation;
  return false;
}

/** One lane: the dataset's snapshots (the listing keeps them newest first) and bookmarks, oldest first. */
function buildLane(host: string, dataset: string, role: LaneRole, l: ListingOrProblem | undefined, retention?: ReplicationPair['retention']): LaneBuild {
  const lane: TimelineLane = { id: `${host}:${dataset}`, host, dataset, role, marks: [] };
  if (!isListing(l)) {
    lane.problem = l ? `${host}: ${l.problem}` : `${host} is not listed yet`;
    return new LaneBuild(lane);
  }
  const build = new LaneBuild(lane, l);
  const objs = build.objs;
  const e = l.datasets.get(dataset);
  if (!e) {
    lane.problem = `${dataset} does not exist on ${host}`;
    return build;
  }
  const snaps = e.snapshots;
  const books = [...e.bookmarks].sort((a, b) => (olderThan(a, b) ? -1 : olderThan(b, a) ? 1 : 0));
  const marks = lane.marks;
  let bi = 0;
  let prev = 0;
  for (let si = snaps.length - 1; si >= 0; si--) {
    const s = snaps[si]!;
    while (bi < books.length && olderThan(books[bi]!, s)) {
      const b = books[bi++]!;
      objs.push(b);
      marks.push(mark(b, 'bookmark', prev, l));
      prev = marks[marks.length - 1]!.time;
    }
    objs.push(s);
    marks.push(mark(s, 'snapshot', prev, l));
    prev = marks[marks.length - 1]!.time;
  }
  while (bi < books.length) {
    const b = books[bi++]!;
    objs.push(b);
    marks.push(mark(b, 'bookmark', prev, l));
    prev = marks[marks.length - 1]!.time;
  }

  // Written since the newest snapshot: without a snapshot (a first receive not finished yet) there is
  // nothing to compare with, so `modified` stays unset; 'unknown' is for a host without `written`.
  if (snaps.length) {
    const w = e.object.written;
    lane.modified = w === undefined ? 'unknown' : w > 0 ? 'yes' : 'no';
    if (w !== undefined) lane.written = w;
  }
  if (e.object.receiveResumeToken) lane.resumeToken = true;

  scheduleAndRetention(lane);
  if (retention) forecastPrunes(build, retention, l.takenAt.getTime() / 1000);
  return build;
}

/**
 * With the dataset's retention policy (the fleet file's `policies`, a sanoid.conf imported): what
 * sanoid's next prune destroys, by the forecast (core/retention/forecast.ts), replaces the estimate's
 * oldest snapshot as PrunesNext; a held one is left unflagged (sanoid's destroy fails on it). Nothing
 * flagged when the policy prunes nothing here.
 */
function forecastPrunes(build: LaneBuild, retention: NonNullable<ReplicationPair['retention']>, now: number): void {
  const marks = build.lane.marks;
  for (const m of marks) m.flags &= ~MarkFlag.PrunesNext;
  const snaps = build.objs.filter((o) => o.type === 'snapshot');
  const f = forecastRetention(
    retention.policy,
    snaps.map((o) => ({
      name: o.name,
      ...(o.creation !== undefined ? { creation: o.creation } : {}),
      ...(o.userrefs !== undefined ? { userrefs: o.userrefs } : {}),
    })),
    { now },
  );
  build.prunedAt = f.next?.at;
  build.policy = retention.dataset;
  const next = new Set(f.next?.snapshots ?? []);
  build.objs.forEach((o, i) => {
    if (next.has(o.name) && !(marks[i]!.flags & MarkFlag.Held)) marks[i]!.flags |= MarkFlag.PrunesNext;
  });
}

/** The usual interval (median), gaps, and the snapshot retention prunes next. */
function scheduleAndRetention(lane: TimelineLane): void {
  const snapIdx: number[] = [];
  lane.marks.forEach((m, i) => m.kind === 'snapshot' && snapIdx.push(i));
  if (snapIdx.length >= MIN_SNAPSHOTS_FOR_INTERVAL) {
    const gaps = new Float64Array(snapIdx.length - 1);
    for (let k = 1; k < snapIdx.length; k++) gaps[k - 1] = lane.marks[snapIdx[k]!]!.time - lane.marks[snapIdx[k - 1]!]!.time;
    // Snapshots taken in the same second (sanoid's hourly, daily and monthly at once) are one moment
    // of the schedule: the usual interval is the median of the gaps between distinct times.
    const sorted = gaps.filter((g) => g > 0).sort();
    const mid = sorted.length >> 1;
    const median = sorted.length === 0 ? 0 : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    if (median > 0) lane.interval = median;
    if (median > 0) {
      for (let k = 1; k < snapIdx.length; k++) if (gaps[k - 1]! > GAP_FACTOR * median) lane.marks[snapIdx[k]!]!.flags |= MarkFlag.GapBefore;
    }
  }
  // Retention: the oldest snapshot it can destroy (no holds, no clones), never the newest.
  for (let k = 0; k < snapIdx.length - 1; k++) {
    const m = lane.marks[snapIdx[k]!]!;
    if (m.flags & (MarkFlag.Held | MarkFlag.HasClones)) continue;
    m.flags |= MarkFlag.PrunesNext;
    break;
  }
}

interface PairBuild {
  pair: ReplicationPair;
  state?: PairState;
  source: LaneBuild;
  target: LaneBuild;
}

/**
 * Flags and links of one pair between its two lanes. A lane in several pairs (a source with two
 * replicas) gets the flags of each OR-ed: its Unsent marks are unsent to at least one replica.
 */
function joinPair(p: PairBuild, links: TimelineLink[], laneNo: (b: LaneBuild) => number): void {
  const cmp: CommonBase | undefined = p.state?.comparison;
  if (!cmp) return;
  const s = p.source;
  const t = p.target;
  const sl = laneNo(s);
  const tl = laneNo(t);
  const sm = s.lane.marks;
  const tm = t.lane.marks;
  const inc = cmp.incremental;
  const baseTargetIdx = t.find(inc?.target);
  const linked = new Set<number>();
  const ls = s.locator();
  const lt = t.locator();
  for (const m of cmp.matched) {
    const i = ls.at(m.source);
    const j = lt.at(m.target);
    if (i === undefined || j === undefined) continue;
    sm[i]!.flags |= MarkFlag.Common;
    tm[j]!.flags |= MarkFlag.Common;
    linked.add(j);
    const link: TimelineLink = { from: [sl, i], to: [tl, j] };
    if (inc?.kind === 'snapshot' && j === baseTargetIdx) link.base = true;
    links.push(link);
  }
  // A source bookmark stands for a snapshot pruned on the source: linked where no snapshot with its guid is left there.
  const bookmarks = s.listing?.datasets.get(s.lane.dataset)?.bookmarks ?? [];
  const srcGuids = new Set<string>();
  const dstByGuid = new Map<string, number>();
  if (bookmarks.length) {
    for (const o of cmp.sourceSnapshots) if (o.guid) srcGuids.add(o.guid);
    const l = t.locator();
    for (const o of cmp.targetSnapshots) if (o.guid) dstByGuid.set(o.guid, l.at(o)!);
  }
  for (const b of bookmarks) {
    if (!b.guid || srcGuids.has(b.guid)) continue;
    const j = dstByGuid.get(b.guid);
    const i = s.find(b);
    if (j === undefined || i === undefined || linked.has(j)) continue;
    sm[i]!.flags |= MarkFlag.Common;
    tm[j]!.flags |= MarkFlag.Common;
    linked.add(j);
    const link: TimelineLink = { from: [sl, i], to: [tl, j] };
    if (inc?.kind === 'bookmark' && inc.source === b) link.base = true;
    links.push(link);
  }
  if (inc) {
    const i = s.find(inc.source);
    if (i !== undefined) sm[i]!.flags |= MarkFlag.Base;
    if (baseTargetIdx !== undefined) tm[baseTargetIdx]!.flags |= MarkFlag.Base;
    for (const [end, lane] of [
      [i === undefined ? undefined : sm[i], s],
      [baseTargetIdx === undefined ? undefined : tm[baseTargetIdx], t],
    ] as const) {
      // With a policy the time is known: at risk within the pair state's risk window only (as check says).
      const soon = lane.prunedAt === undefined || !lane.listing || lane.prunedAt - lane.listing.takenAt.getTime() / 1000 <= DEFAULT_BASE_RISK_SECONDS;
      if (end && end.flags & MarkFlag.PrunesNext && soon) end.flags |= MarkFlag.AtRisk;
    }
  }
  const us = s.locator();
  for (const o of cmp.newerOnSource) {
    const i = us.at(o);
    if (i !== undefined) sm[i]!.flags |= MarkFlag.Unsent;
  }
  const ut = t.locator();
  for (const o of cmp.newerOnTarget) {
    const j = ut.at(o);
    if (j !== undefined) tm[j]!.flags |= MarkFlag.TargetOnly;
  }
  const cs = s.locator();
  const ct = t.locator();
  for (const c of cmp.nameClashes) {
    const i = cs.at(c.source);
    const j = ct.at(c.target);
    if (i !== undefined) sm[i]!.flags |= MarkFlag.Clash;
    if (j !== undefined) tm[j]!.flags |= MarkFlag.Clash;
  }
}

/** The state of a pair in sentences, most important first (from pairState's data, with lists kept short). */
export function pairSentences(p: PairBuild, now: number): string[] {
  const st = p.state;
  const src = p.source.lane;
  const dst = p.target.lane;
  if (!st) return [src.problem ?? dst.problem ?? `${p.pair.id}: not listed yet`];
  if (st.status === 'source-missing') return [st.summary];
  const out: string[] = [];
  const cmp = st.comparison!;
  const inc = cmp.incremental;
  const baseName = inc ? (inc.kind === 'bookmark' ? `#${snapName(inc.source.name)} (a bookmark)` : at(inc.source.name)) : '';
  if (st.statuses.includes('in-sync')) out.push(`In sync: the target has the source's newest snapshot ${baseName}.`);
  if (st.noCommon) out.push(`No common snapshot: ${st.noCommon.detail}.`);
  if (st.targetNewer.length) {
    const srcNames = new Set(cmp.sourceSnapshots.map((s) => snapName(s.name)));
    const gone = cmp.newerOnTarget.every((t) => !srcNames.has(snapName(t.name)));
    out.push(
      `The target has ${plural(st.targetNewer.length, 'snapshot')} newer than the common base ${baseName} (${nameList(st.targetNewer)})${gone ? ', none of which exists on the source' : ''}: ` +
        `a receive needs the target rolled back to the base, which destroys them.`,
    );
  }
  if (st.resumeToken)
    out.push(
      `The target holds a partially received stream (receive_resume_token): the next sync can resume it with \`zfs send -t\`, or abort it with \`zfs recv -A\`.`,
    );
  if (st.targetModified === 'yes')
    out.push(
      `The target was modified since its newest snapshot (${formatBytes(st.targetWrittenBytes)} written): a receive fails until it is rolled back to that snapshot.`,
    );
  if (st.behind) {
    const age = st.behind.newestUnsentAgeSeconds;
    out.push(
      `Behind by ${plural(st.behind.count, 'snapshot')} (${nameList(st.behind.snapshots)}); the newest unsent one, ${at(st.behind.newestUnsent)}, was taken ${age === undefined ? 'at an unknown time' : formatAge(now / 1000 - age, now)}.`,
    );
  }
  if (st.targetExists && st.targetModified === 'unknown' && !st.noCommon) {
    out.push(`Whether the target was modified since its newest snapshot is unknown (no \`written\` property on ${dst.host}).`);
  }
  // Retention, on both lanes: the base is what a count/age-based retention prunes next.
  if (inc) {
    const sb = p.source.find(inc.source);
    const tb = p.target.find(inc.target);
    if (sb !== undefined && src.marks[sb]!.flags & MarkFlag.PrunesNext && p.source.policy !== undefined) {
      const when = p.source.prunedAt !== undefined ? `at ${formatUtc(p.source.prunedAt)}` : 'soon';
      out.push(
        src.marks[sb]!.flags & MarkFlag.AtRisk
          ? `At risk: the common base ${baseName} is in the next prune of ${src.host}'s retention policy (${p.source.policy}), ${when}; once it is gone, the pair can only be re-seeded with a full send. Sync before then, or hold the base (or keep a bookmark of it).`
          : `The common base ${baseName} is in the next prune of ${src.host}'s retention policy (${p.source.policy}), ${when}: a sync before then moves the base on.`,
      );
    } else if (sb !== undefined && src.marks[sb]!.flags & MarkFlag.AtRisk) {
      out.push(
        `At risk: the common base ${baseName} is the next snapshot retention prunes on ${src.host} (its oldest without holds or clones); once it is gone, the pair can only be re-seeded with a full send. Sync now, or hold the base (or keep a bookmark of it).`,
      );
    } else if (st.retentionWarning && p.source.policy === undefined && sb !== undefined && src.marks[sb]!.flags & MarkFlag.Held) {
      out.push(
        `The common base ${baseName} is the source's oldest snapshot, but it is held (${plural(src.marks[sb]!.holds ?? 0, 'hold')}): retention cannot destroy it while the hold stays.`,
      );
    }
    if (tb !== undefined && dst.marks[tb]!.flags & MarkFlag.AtRisk) {
      out.push(
        `At risk: the common base ${at(inc.target.name)} is the next snapshot retention prunes on ${dst.host} (the target's oldest without holds or clones); once it is gone, the pair can only be re-seeded with a full send.`,
      );
    }
  }
  if (cmp.nameClashes.length && st.noCommon?.reason !== 'unrelated') {
    out.push(`Same name, different snapshot: ${nameList(cmp.nameClashes.map((c) => c.target.name))} (guids differ; matched by guid, never by name).`);
  }
  return out;
}

/** A lane's problem (when no pair state says it already), and its gaps. */
function laneSentences(lane: TimelineLane, label: string, covered: boolean): string[] {
  const out: string[] = [];
  if (lane.problem) return covered ? [] : [`${label}: ${lane.problem}.`];
  const snaps = lane.marks.filter((m) => m.kind === 'snapshot');
  if (snaps.length === 0 && !covered) out.push(`${label} has no snapshots.`);
  const gaps = snaps.filter((m) => m.flags & MarkFlag.GapBefore);
  if (gaps.length && lane.interval) {
    out.push(
      `${label}: ${plural(gaps.length, 'gap')} in the schedule (usually one snapshot every ${formatDuration(Math.round(lane.interval))}), before ${nameList(gaps.map((m) => m.name))}.`,
    );
  }
  return out;
}

function finish(title: string, subject: TimelineSubject, builds: LaneBuild[], pairs: PairBuild[], options: TimelineOptions, pairId?: string): TimelineModel {
  const lanes = builds.map((b) => b.lane);
  const laneNo = (b: LaneBuild) => builds.indexOf(b);
  const links: TimelineLink[] = [];
  for (const p of pairs) joinPair(p, links, laneNo);
  const takenAt = Math.max(0, ...builds.map((b) => b.listing?.takenAt.getTime() ?? 0));
  const now = options.now ?? (takenAt || Date.now());
  const summary: string[] = [];
  for (const p of pairs) {
    const s = pairSentences(p, now);
    if (pairs.length > 1 || subject.kind === 'dataset')
      summary.push(
        ...s.map((x, i) =>
          i === 0 ? `${p.pair.label ?? `${p.pair.source.host}:${p.pair.source.name!.full} → ${p.pair.target.host}:${p.pair.target.name!.full}`}: ${x}` : x,
        ),
      );
    else summary.push(...s);
  }
  if (subject.kind === 'dataset' && pairs.length === 0) summary.push('No replication pair has this dataset as its source or target.');
  const covered = new Set<LaneBuild>();
  for (const p of pairs) if (p.state) covered.add(p.source).add(p.target);
  for (const b of builds) summary.push(...laneSentences(b.lane, b.lane.id, covered.has(b)));
  const model: TimelineModel = { title, subject, takenAt: takenAt || now, lanes, links, summary };
  if (pairId) model.pairId = pairId;
  if (options.focus) {
    const f = options.focus;
    const ds = f.name.slice(0, f.name.search(/[@#]|$/));
    const kind: MarkKind = f.name.includes('#') ? 'bookmark' : 'snapshot';
    const short = snapName(f.name);
    const lane = lanes.findIndex((l) => l.host === f.host && l.dataset === ds);
    const m = lane < 0 ? -1 : lanes[lane]!.marks.findIndex((x) => x.kind === kind && x.name === short);
    if (m >= 0) model.focus = { lane, mark: m };
  }
  return model;
}

function pairBuild(pair: ReplicationPair, source: LaneBuild, target: LaneBuild): PairBuild {
  const p: PairBuild = { pair, source, target };
  if (source.listing && target.listing) p.state = pairState(pair, source.listing, target.listing);
  return p;
}

const endpoint = (e: ReplicationPair['source']) => ({ host: e.host, dataset: e.name!.full });
const same = (a: { host: string; dataset: string }, b: { host: string; dataset: string }) => a.host === b.host && a.dataset === b.dataset;

/**
 * The timeline of a replication pair: the source lane, the target lane, and a lane for each other
 * target of the same source among `otherPairs` (role 'replica', linked to the source).
 */
export function pairTimeline(
  pair: ReplicationPair,
  listings: Listings,
  otherPairs: readonly ReplicationPair[] = [],
  options: TimelineOptions = {},
): TimelineModel {
  const s = endpoint(pair.source);
  const t = endpoint(pair.target);
  const src = buildLane(s.host, s.dataset, 'source', listings(s.host), pair.retention);
  const dst = buildLane(t.host, t.dataset, 'target', listings(t.host));
  const builds = [src, dst];
  const pairs = [pairBuild(pair, src, dst)];
  for (const o of otherPairs) {
    if (o.id === pair.id || !same(endpoint(o.source), s) || same(endpoint(o.target), t)) continue;
    const r = endpoint(o.target);
    const lane = buildLane(r.host, r.dataset, 'replica', listings(r.host));
    builds.push(lane);
    pairs.push(pairBuild(o, src, lane));
  }
  const title = pair.label ?? `${snapLabel(s)} → ${snapLabel(t)}`;
  return finish(title, { kind: 'pair', pairId: pair.id }, builds, pairs, options, pair.id);
}

/**
 * The timeline of one dataset on a host, with the pairs it is in: a lane for each pair's source
 * where it is the target (role 'source', above), its own lane (role 'dataset'), and a lane for each
 * target where it is the source (role 'replica', below).
 */
export function datasetTimeline(
  host: string,
  dataset: string,
  listings: Listings,
  pairs: readonly ReplicationPair[] = [],
  options: TimelineOptions = {},
): TimelineModel {
  const me = { host, dataset };
  const self = buildLane(host, dataset, 'dataset', listings(host), pairs.find((p) => same(endpoint(p.source), me))?.retention);
  const above: LaneBuild[] = [];
  const below: LaneBuild[] = [];
  const builds: PairBuild[] = [];
  for (const p of pairs) {
    const s = endpoint(p.source);
    const t = endpoint(p.target);
    if (same(s, me)) {
      const lane = buildLane(t.host, t.dataset, 'replica', listings(t.host));
      below.push(lane);
      builds.push(pairBuild(p, self, lane));
    } else if (same(t, me)) {
      const lane = buildLane(s.host, s.dataset, 'source', listings(s.host), p.retention);
      above.push(lane);
      builds.push(pairBuild(p, lane, self));
    }
  }
  return finish(snapLabel(me), { kind: 'dataset', host, dataset }, [...above, self, ...below], builds, options);
}

function snapLabel(e: { host: string; dataset: string }): string {
  return `${e.host}:${e.dataset}`;
}
