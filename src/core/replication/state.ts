/**
 * The state of a replication pair, in words and in data, from the two hosts' listings alone.
 */
import { formatAge } from '../format.js';
import type { HostListing } from '../fleet/listing.js';
import type { ReplicationPair } from '../fleet/pairs.js';
import { compareSnapshots, snapName, type CommonBase, type NameClash } from './commonBase.js';
import type { ZfsObject } from '../zfs/types.js';
import { checkResumeToken } from './resumeToken.js';
import { forecastRetention, formatUtc } from '../retention/forecast.js';
import { exclusionOf, missingChildren } from '../fleet/exclude.js';

export type PairStatus = 'in-sync' | 'behind' | 'target-modified' | 'target-has-newer' | 'no-common' | 'resume-token' | 'source-missing';

export type NoCommonReason = 'pruned-on-source' | 'never-sent' | 'unrelated';

export interface PairState {
  pairId: string;
  source: { host: string; dataset: string };
  target: { host: string; dataset: string };
  /** What decides the next action (the first of `statuses`). */
  status: PairStatus;
  /** Every condition that holds, most important first. */
  statuses: PairStatus[];
  /** One paragraph for a person. */
  summary: string;
  comparison?: CommonBase;
  targetExists: boolean;
  /** Where a sync starts from. */
  base?: { kind: 'snapshot' | 'bookmark'; source: string; target: string; guid: string; creation?: number };
  behind?: {
    count: number;
    /** Oldest first. */
    snapshots: string[];
    newestUnsent: string;
    /** Seconds between the newest unsent snapshot's creation and `now`. */
    newestUnsentAgeSeconds?: number;
  };
  /** yes/no from `written` where the host has it; unknown where it does not (zfs-fuse). */
  targetModified: 'yes' | 'no' | 'unknown';
  targetWrittenBytes?: number;
  /** Target snapshots newer than the base (a rollback to the base destroys them), oldest first. */
  targetNewer: string[];
  noCommon?: { reason: NoCommonReason; detail: string };
  resumeToken?: string;
  /** What the resume token says (read without running anything; see resumeToken.ts) and whether the source can still resume it. */
  resume?: {
    /** The snapshot the interrupted stream sends, as the source names it now. */
    sending?: string;
    /** Bytes of the stream received so far. */
    bytes?: number;
    /** Why the stream cannot be resumed ("@X no longer exists on the source"): the partial state must be discarded (`zfs recv -A`). */
    stale?: string;
    /** The token could not be read: whether it can be resumed is known only when the resume runs. */
    unreadable?: string;
  };
  /**
   * The common base is about to be pruned on the source: with the source's retention policy, the
   * forecast prunes it within `baseRiskSeconds`; without one, the estimate (it is the source's
   * oldest snapshot). Undefined when a bookmark or a hold of the base keeps the incremental possible.
   */
  retentionWarning?: string;
  /** What the retention forecast says of a snapshot base (absent for a bookmark base or no base). */
  baseForecast?: {
    /** The `HOST:DATASET` whose policy applies; undefined: no policy, the estimate. */
    policy?: string;
    estimate: boolean;
    /** When sanoid prunes the base (seconds since the epoch); undefined: not forecast. */
    pruneAt?: number;
    /** What keeps the incremental possible after the prune. */
    keptBy?: { kind: 'bookmark' | 'hold'; name: string };
    reason: string;
  };
  nameClashes: NameClash[];
  /**
   * Recursive pairs: the source's descendants that are replicated (`sent`), and those its `exclude`
   * patterns leave out (`excluded`: the topmost ones; `excludedCount` with what is below them),
   * which are neither sent nor counted; `missing`: sent ones the target does not have; `lost` (when
   * any): those of `missing` the source had at the common base, which block the recursive sync
   * (absent in states an older agent recorded).
   */
  descendants?: { sent: number; excluded: string[]; excludedCount: number; missing: string[]; lost?: string[] };
}

export interface PairStateOptions {
  /** "Now" in ms for ages (default: the source listing's time). */
  now?: number;
  /** Warn when the forecast prunes the common base within this many seconds (default: a day). */
  baseRiskSeconds?: number;
  /** How often sanoid runs on the source, seconds (default 900, its systemd timer). */
  sanoidEverySeconds?: number;
}

export const DEFAULT_BASE_RISK_SECONDS = 24 * 60 * 60;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function at(o: { name: string }): string {
  return '@' + snapName(o.name);
}

/** Why two datasets share no snapshot. */
function noCommonReason(cmp: CommonBase, targetExists: boolean): { reason: NoCommonReason; detail: string } {
  const t = cmp.targetSnapshots;
  if (!targetExists) return { reason: 'never-sent', detail: `the target ${cmp.targetDataset} does not exist: nothing was ever received` };
  if (t.length === 0) return { reason: 'never-sent', detail: `the target ${cmp.targetDataset} has no snapshots: nothing was ever received` };
  const s = cmp.sourceSnapshots;
  const newestTarget = t[t.length - 1]!;
  const oldestSource = s[0];
  const clash = cmp.nameClashes[0];
  if (clash) {
    return {
      reason: 'unrelated',
      detail: `${at(clash.target)} exists on both sides with different guids (source ${clash.source.guid}, target ${clash.target.guid}): the target was not received from this source, or the source was re-created`,
    };
  }
  // Received snapshots keep the creation time of the source's snapshot: if every target snapshot is
  // older than the source's oldest, the snapshots they shared were deleted on the source.
  if (!oldestSource || (newestTarget.creation !== undefined && oldestSource.creation !== undefined && newestTarget.creation <= oldestSource.creation)) {
    return {
      reason: 'pruned-on-source',
      detail: oldestSource
        ? `none of the target's ${plural(t.length, 'snapshot')} (newest ${at(newestTarget)}) exists on the source any more: its oldest snapshot is ${at(oldestSource)}, so the snapshots both sides had were pruned on the source`
        : `the source has no snapshots any more; the target's ${plural(t.length, 'snapshot')} (newest ${at(newestTarget)}) cannot be continued`,
    };
  }
  return {
    reason: 'unrelated',
    detail: `the target's snapshots overlap the source's in time but none has a guid the source knows: the target was not received from this source`,
  };
}

export function pairState(pair: ReplicationPair, sourceListing: HostListing, targetListing: HostListing, options: PairStateOptions = {}): PairState {
  const srcName = pair.source.name!.full;
  const dstName = pair.target.name!.full;
  const src = sourceListing.datasets.get(srcName);
  const dst = targetListing.datasets.get(dstName);
  const now = options.now ?? sourceListing.takenAt.getTime();
  const base = {
    pairId: pair.id,
    source: { host: pair.source.host, dataset: srcName },
    target: { host: pair.target.host, dataset: dstName },
    targetExists: dst !== undefined,
    targetNewer: [] as string[],
    nameClashes: [] as NameClash[],
  };

  if (!src) {
    return {
      ...base,
      status: 'source-missing',
      statuses: ['source-missing'],
      targetModified: 'unknown',
      summary: `The source ${pair.source.host}:${srcName} does not exist, so there is nothing to replicate.`,
    };
  }

  const cmp = compareSnapshots(
    { dataset: srcName, snapshots: src.snapshots, bookmarks: src.bookmarks },
    dst ? { dataset: dstName, snapshots: dst.snapshots } : undefined,
    dstName,
  );
  const statuses: PairStatus[] = [];
  const say: string[] = [];
  const state: PairState = { ...base, status: 'in-sync', statuses, summary: '', comparison: cmp, targetModified: 'unknown', nameClashes: cmp.nameClashes };

  // Modification of the target since its newest snapshot.
  if (dst) {
    // `written` counts bytes since the newest snapshot; without a snapshot it means nothing here.
    const w = dst.snapshots.length ? dst.object.written : undefined;
    if (w !== undefined) {
      state.targetModified = w > 0 ? 'yes' : 'no';
      state.targetWrittenBytes = w;
    } else {
      state.targetModified = 'unknown';
    }
    if (dst.object.receiveResumeToken) {
      state.resumeToken = dst.object.receiveResumeToken;
      const c = checkResumeToken(state.resumeToken, sourceListing, srcName, pair.options.recursive);
      state.resume = {
        ...(c.sending ? { sending: c.sending.name } : {}),
        ...(c.info?.bytes !== undefined ? { bytes: c.info.bytes } : {}),
        ...(c.stale ? { stale: c.stale } : {}),
        ...(c.unreadable ? { unreadable: c.unreadable } : {}),
      };
    }
  }

  const inc = cmp.incremental;
  if (!inc) {
    state.noCommon = noCommonReason(cmp, dst !== undefined);
    statuses.push('no-common');
    say.push(`No common snapshot: ${state.noCommon.detail}.`);
  } else {
    state.base = {
      kind: inc.kind,
      source: inc.source.name,
      target: inc.target.name,
      guid: inc.guid,
      ...(inc.source.creation !== undefined ? { creation: inc.source.creation } : {}),
    };
    state.targetNewer = cmp.newerOnTarget.map((t) => t.name);
    if (cmp.newerOnTarget.length) {
      statuses.push('target-has-newer');
      const onSource = new Set(cmp.sourceSnapshots.map((s) => snapName(s.name)));
      const gone = cmp.newerOnTarget.filter((t) => !onSource.has(snapName(t.name)));
      say.push(
        `The target has ${plural(cmp.newerOnTarget.length, 'snapshot')} newer than the common base ${inc.kind === 'bookmark' ? inc.source.name : at(inc.source)} (${cmp.newerOnTarget.map(at).join(', ')})` +
          (gone.length === cmp.newerOnTarget.length ? ', none of which exists on the source' : '') +
          `; a receive needs the target rolled back to the base, which destroys them.`,
      );
    }
  }
  if (state.resumeToken) {
    statuses.push('resume-token');
    const r = state.resume;
    if (r?.stale) {
      say.push(
        `The target holds a partially received stream, and its resume token is stale: ${r.stale}. It can never be resumed, and nothing else can be received until it is discarded: the next sync plans \`zfs recv -A\` (it destroys the partially received data, so it asks first).`,
      );
    } else {
      const what = r?.sending ? ` of ${at({ name: r.sending })}${r.bytes !== undefined ? ` (${r.bytes} bytes received)` : ''}` : '';
      say.push(
        `The target holds a partially received stream${what} (receive_resume_token): the next sync resumes it with \`zfs send -t\` (or abort it with \`zfs recv -A\`).`,
      );
    }
  }
  if (state.targetModified === 'yes') {
    statuses.push('target-modified');
    say.push(
      `The target was modified since its newest snapshot (${state.targetWrittenBytes} bytes written); a receive fails until it is rolled back to that snapshot.`,
    );
  }
  if (inc && cmp.newerOnSource.length) {
    const unsent = cmp.newerOnSource;
    const newest = unsent[unsent.length - 1]!;
    state.behind = {
      count: unsent.length,
      snapshots: unsent.map((s) => s.name),
      newestUnsent: newest.name,
      ...(newest.creation !== undefined ? { newestUnsentAgeSeconds: Math.max(0, Math.round(now / 1000 - newest.creation)) } : {}),
    };
    statuses.push('behind');
    say.push(
      `The target is behind by ${plural(unsent.length, 'snapshot')} (${unsent.map(at).join(', ')}); the newest unsent one, ${at(newest)}, was taken ${formatAge(newest.creation, now)}.`,
    );
  }
  if (statuses.length === 0) {
    statuses.push('in-sync');
    say.unshift(`In sync: the target has the source's newest snapshot ${at(inc!.source)}.`);
  }
  if (dst && state.targetModified === 'unknown' && !statuses.includes('no-common')) {
    say.push(
      `Whether the target was modified since its newest snapshot is unknown (no \`written\` property on ${pair.target.host}): if it was, the receive will say so ("destination has been modified since most recent snapshot").`,
    );
  }
  if (inc && inc.kind === 'snapshot') baseRetention(state, pair, src, cmp, inc.source, now, options, say);
  if (pair.options.recursive) recursiveCounts(state, pair, sourceListing, targetListing, dst !== undefined, say);
  if (cmp.nameClashes.length && state.noCommon?.reason !== 'unrelated') {
    say.push(`Same name, different snapshot: ${cmp.nameClashes.map((c) => at(c.target)).join(', ')} (guids differ; matched by guid, never by name).`);
  }

  state.status = statuses[0]!;
  state.summary = say.join(' ');
  return state;
}

/** A recursive pair's descendants: how many are replicated, which the target lacks, which are excluded (and not counted). */
function recursiveCounts(state: PairState, pair: ReplicationPair, src: HostListing, dst: HostListing, targetExists: boolean, say: string[]): void {
  const S = state.source.dataset;
  const T = state.target.dataset;
  const x = exclusionOf(src, S, pair.options.exclude);
  const base = state.base?.kind === 'snapshot' ? snapName(state.base.source) : undefined;
  const m = targetExists && state.base ? missingChildren(src, S, dst, T, x.sent, base) : { fresh: [], lost: [] };
  state.descendants = {
    sent: x.sent.length,
    excluded: x.roots,
    excludedCount: x.all.length,
    missing: [...m.lost, ...m.fresh],
    ...(m.lost.length ? { lost: m.lost } : {}),
  };
  if (m.lost.length)
    say.push(
      `The target lacks ${m.lost.join(', ')}, which the source had at the common base: an incremental recursive stream cannot be received there ("destination does not exist"). Send ${m.lost.length === 1 ? 'it' : 'each'} on its own first, or exclude ${m.lost.length === 1 ? 'it' : 'them'}.`,
    );
  if (m.fresh.length)
    say.push(
      `New on the source since the base, not on the target yet: ${m.fresh.join(', ')} (the next recursive send creates ${m.fresh.length === 1 ? 'it' : 'them'}).`,
    );
  if (x.roots.length)
    say.push(
      `Excluded by the pair's patterns (neither sent nor counted): ${x.roots.join(', ')}${x.all.length > x.roots.length ? ` (${x.all.length} datasets with their descendants)` : ''}.`,
    );
}

/** The common base against the source's retention: the forecast with a policy, the estimate without. */
function baseRetention(
  state: PairState,
  pair: ReplicationPair,
  src: { snapshots: ZfsObject[]; bookmarks: ZfsObject[] },
  cmp: CommonBase,
  base: ZfsObject,
  now: number,
  options: PairStateOptions,
  say: string[],
): void {
  const SRC = `${pair.source.host}:${cmp.sourceDataset}`;
  const DST = `${pair.target.host}:${cmp.targetDataset}`;
  const bookmark = src.bookmarks.find((b) => b.guid !== undefined && b.guid === base.guid);
  const kept = (what: string): void => {
    say.push(`${what}: the source's bookmark ${bookmark!.name} has the base's guid, so an incremental send can still start from it.`);
  };
  if (!pair.retention) {
    // No policy: the estimate. The base is the source's oldest snapshot: the next prune deletes the last common snapshot.
    if (cmp.sourceSnapshots.length < 2 || cmp.sourceSnapshots[0] !== base) return;
    // As before the forecast: a bookmark or a hold of the base does not lift the estimate (the timeline says when a hold keeps it).
    state.baseForecast = { estimate: true, reason: `the source's oldest snapshot (no retention policy for ${SRC})` };
    state.retentionWarning = `The common base ${at(base)} is the source's oldest snapshot: the next prune on ${pair.source.host} deletes the last snapshot both sides share, and the pair can then only be re-seeded with a full send. Sync now, or keep the base (a hold, or a bookmark where supported). No retention policy for ${SRC}: estimate.`;
    return void say.push(state.retentionWarning);
  }
  const nowSeconds = now / 1000;
  const f = forecastRetention(pair.retention.policy, src.snapshots, {
    now: nowSeconds,
    ...(options.sanoidEverySeconds !== undefined ? { runEverySeconds: options.sanoidEverySeconds } : {}),
  });
  const mine = f.snapshots.find((x) => x.name === base.name);
  if (!mine) return;
  state.baseForecast = {
    policy: pair.retention.dataset,
    estimate: false,
    reason: mine.reason,
    ...(mine.pruneAt !== undefined ? { pruneAt: mine.pruneAt } : {}),
  };
  if (mine.pruneAt === undefined) return;
  const when = formatUtc(mine.pruneAt);
  if (bookmark) {
    state.baseForecast.keptBy = { kind: 'bookmark', name: bookmark.name };
    return kept(`The retention forecast (policy of ${pair.retention.dataset}) prunes the common base ${at(base)} at ${when}`);
  }
  if (mine.held) {
    state.baseForecast.keptBy = { kind: 'hold', name: base.name };
    return void say.push(
      `The retention forecast (policy of ${pair.retention.dataset}) prunes the common base ${at(base)} at ${when}, but it is held: sanoid's destroy fails while the hold stays.`,
    );
  }
  if (mine.pruneAt - nowSeconds <= (options.baseRiskSeconds ?? DEFAULT_BASE_RISK_SECONDS)) {
    state.retentionWarning = `the common base ${at(base)} of ${SRC} -> ${DST} is pruned at ${when} unless a sync succeeds first`;
    return void say.push(`The retention forecast (policy of ${pair.retention.dataset}): ${state.retentionWarning}.`);
  }
  say.push(`The retention forecast (policy of ${pair.retention.dataset}) keeps the common base ${at(base)} until ${when}.`);
}
