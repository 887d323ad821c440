/**
 * The sync plan of a pair: a full send when the target does not exist; otherwise an incremental
 * send from the common base (a bookmark where the base snapshot was pruned on the source). `-F` is
 * never added: when the target has snapshots newer than the base, or was modified, the plan holds
 * an explicit rollback step that lists everything it destroys. The base itself is never destroyed.
 */
import type { HostListing } from '../fleet/listing.js';
import type { ReplicationPair } from '../fleet/pairs.js';
import { gatherPermissionFacts, isRoot, type AuditHost, type AuditSide, type GatheredFacts, type GatherOptions } from '../fleet/permissions.js';
import { effectivePermissions } from '../zfs/allow.js';
import { isValidName, parentDataset, validateSnapshotName } from '../zfs/names.js';
import { shellJoin } from '../zfs/quote.js';
import {
  abortRecvArgv,
  bookmarkArgv,
  effectiveSendFlags,
  estimateArgv,
  progressSendArgv,
  holdTagFor,
  recvArgv,
  resumeSendArgv,
  sendArgv,
  sshArgvFor,
  streamFeatures,
  syncBookmarkName,
  type IncrementalFlag,
} from './argv.js';
import { compareAge, compareSnapshots, snapName, type CommonBase } from './commonBase.js';
import type { ZfsObject } from '../zfs/types.js';
import { emptyDestroys, makePlan, PlanError, StepIds, type Destroys, type HostObject, type PipeStep, type Plan, type PlanStep, type Precondition } from './plan.js';
import { checkResumeToken } from './resumeToken.js';
import { rollbackPart } from './rollback.js';
import { pairState } from './state.js';

export interface RouteOptions {
  /** push: the argv the SOURCE uses to reach the target (default `ssh -o BatchMode=yes [-p PORT] TARGET`). */
  sshFromSource?: string[];
  /** pull: the argv the TARGET uses to reach the source. */
  sshFromTarget?: string[];
}

export interface SyncOptions {
  /** Take this snapshot of the source first (the part after '@') and send up to it. */
  newSnapshotName?: string;
  /**
   * Send up to this existing source snapshot (full name or the part after '@') instead of the newest:
   * "sync up to here" from the timeline. Not with newSnapshotName.
   */
  upTo?: string;
  /** 'full' insists on a full send (only possible when the target does not exist). Default 'auto'. */
  incremental?: 'auto' | 'full';
  /** `-I` (all intermediate snapshots) or `-i`; default pair.options.intermediates. */
  intermediates?: boolean;
  zfs?: string;
  /** Hold tag for the base during the send (default: one per pair, `zfs-fleet-sync-XXXXXXXX`). */
  holdTag?: string;
  route?: RouteOptions;
  id?: string;
  now?: Date;
  /**
   * The target is known to be modified since the base although its host cannot say so (no `written`,
   * e.g. a receive just failed with "destination has been modified"): plan the rollback to the base.
   */
  targetModified?: boolean;
  /** Continue numbering steps from here (when the sync is part of a larger plan). */
  ids?: StepIds;
  /**
   * Who runs the plan (from the permission facts: syncFactsFrom). Without them the users are assumed
   * to be root-like: the receive mounts, the base is held on both sides, the bookmark is made.
   */
  facts?: SyncFacts;
  /**
   * After a send, bookmark the newest snapshot sent (`SRC#zfs-fleet-<snap>`), so that the next
   * incremental can start from the bookmark once the snapshot is pruned on the source (as syncoid's
   * --create-bookmark). Default: on where the source has bookmarks (not for recursive pairs: zfs
   * bookmark has no -r) and its user may bookmark. A failing bookmark does not fail the sync.
   */
  bookmark?: boolean;
}

/** A user that runs part of a plan, and the delegated permissions it has on the pair's dataset on that side. */
export interface SyncUser {
  user: string;
  root: boolean;
  /** Delegated permissions on the pair's dataset on this side (root needs none); undefined: not known. */
  permissions?: string[];
}

/** Who runs what (see permissions.ts for the routes): read with `id` and `zfs allow` before planning. */
export interface SyncFacts {
  /** The product's user on the source: snapshot, hold, release, bookmark. */
  source?: SyncUser;
  /** The product's user on the target: hold, release, rollback, recv -A. */
  target?: SyncUser;
  /** The user `zfs recv` runs as: relay and pull, the target's product user; push, the user the source's ssh reaches the target as. */
  receiver?: SyncUser;
}

function syncUser(a: AuditSide, user: AuditSide['user'], dataset: string): SyncUser {
  const root = isRoot(user);
  if (root) return { user: user.user, root };
  if (!a.delegations.supported) return { user: user.user, root, permissions: [] };
  return { user: user.user, root, permissions: [...effectivePermissions(a.delegations.sections, dataset, user, 'dataset')].sort() };
}

/** The planner's facts from what gatherPermissionFacts read (`id` of each user, `zfs allow` of each dataset). */
export function syncFactsFrom(g: Pick<GatheredFacts, 'source' | 'target'>, pair: ReplicationPair): SyncFacts {
  const S = pair.source.name!.full;
  const T = pair.target.name!.full;
  const receiver = pair.route === 'push' ? (g.target.streamUser ?? g.target.user) : g.target.user;
  return { source: syncUser(g.source, g.source.user, S), target: syncUser(g.target, g.target.user, T), receiver: syncUser(g.target, receiver, T) };
}

/**
 * Read who will run a sync of the pair (`id` on both hosts; for push, `id` through the source's ssh to
 * the target, the user zfs recv runs as; `zfs allow` of both datasets) and turn it into SyncFacts.
 * Read-only. Pass `sshFromSource` as the plan's push route uses it.
 */
export async function gatherSyncFacts(pair: ReplicationPair, hosts: { source: AuditHost; target: AuditHost }, options: Pick<GatherOptions, 'zfsPath' | 'timeoutMs' | 'signal' | 'sshFromSource'> = {}): Promise<SyncFacts> {
  const { sshFromSource, ...rest } = options;
  // Only the pair's own datasets matter here (not a recursive pair's descendants, nor the stream's properties).
  const g = await gatherPermissionFacts({ ...pair, options: { ...pair.options, recursive: false, properties: false } }, hosts, {
    ...rest,
    ...(pair.route === 'push' ? { sshFromSource: sshFromSource ?? sshArgvFor(pair.target.host) } : {}),
  });
  return syncFactsFrom(g, pair);
}

/** Whether a user may run a delegated command: undefined when not known (no facts). */
function may(u: SyncUser | undefined, permission: string): boolean | undefined {
  if (!u) return undefined;
  if (u.root) return true;
  return u.permissions?.includes(permission);
}

/** The parts of a sync plan, for composition (diagnose). */
export interface SyncPart {
  title: string;
  summary: string;
  steps: PlanStep[];
  preconditions: Precondition[];
  warnings: string[];
  comparison: CommonBase;
  blockedBy?: Plan['blockedBy'];
  alternatives?: string[];
}

function ref(host: string, name: string, guid?: string): HostObject {
  return guid !== undefined ? { host, name, guid } : { host, name };
}

/** A send/recv pipe for the pair's route. */
export function transferStep(pair: ReplicationPair, id: string, description: string, send: string[], recv: string[], route: RouteOptions = {}): PipeStep {
  const src = pair.source.host;
  const dst = pair.target.host;
  const step: PipeStep = {
    id,
    type: 'pipe',
    op: 'send',
    route: pair.route,
    from: { host: src, argv: send },
    to: { host: dst, argv: recv },
    description,
    destroys: emptyDestroys(),
    confirm: false,
  };
  try {
    if (pair.route === 'push') {
      const ssh = route.sshFromSource ?? sshArgvFor(dst);
      step.exec = { host: src, argv: ['sh', '-c', `${shellJoin(send)} | ${shellJoin([...ssh, shellJoin(recv)])}`] };
    } else if (pair.route === 'pull') {
      const ssh = route.sshFromTarget ?? sshArgvFor(src);
      step.exec = { host: dst, argv: ['sh', '-c', `${shellJoin([...ssh, shellJoin(send)])} | ${shellJoin(recv)}`] };
    }
  } catch (e) {
    throw new PlanError('unsupported', `route ${pair.route}: ${(e as Error).message}`);
  }
  return step;
}

/** "Sync up to here": forget the source snapshots newer than `upTo`, so the plan sends up to it. */
function limitTo(cmp: CommonBase, upTo: string, withNew: boolean, host: string, srcDs: string): void {
  if (withNew) throw new PlanError('invalid', 'a sync either takes a new snapshot or goes up to an existing one, not both');
  const name = upTo.includes('@') ? upTo : `${srcDs}@${upTo}`;
  const snap = cmp.sourceSnapshots.find((s) => s.name === name);
  if (!snap) throw new PlanError('invalid', `${host}: ${name} is not a snapshot of the source ${srcDs}`);
  const inc = cmp.incremental;
  if (inc && compareAge(snap, inc.source) < 0) {
    throw new PlanError('invalid', `${name} is older than the common base ${inc.source.name}: the target already has everything up to it (roll the target back to it instead)`);
  }
  const keep = (s: ZfsObject) => compareAge(s, snap) <= 0;
  cmp.sourceSnapshots = cmp.sourceSnapshots.filter(keep);
  cmp.newerOnSource = cmp.newerOnSource.filter(keep);
}

export function syncPart(pair: ReplicationPair, src: HostListing, dst: HostListing, options: SyncOptions = {}): SyncPart {
  const zfs = options.zfs ?? 'zfs';
  const ids = options.ids ?? new StepIds();
  const S = pair.source.host;
  const T = pair.target.host;
  const srcDs = pair.source.name!.full;
  const dstDs = pair.target.name!.full;
  const srcEntry = src.datasets.get(srcDs);
  if (!srcEntry) throw new PlanError('source-missing', `${S}: the source ${srcDs} does not exist`);
  const dstEntry = dst.datasets.get(dstDs);
  const cmp = compareSnapshots({ dataset: srcDs, snapshots: srcEntry.snapshots, bookmarks: srcEntry.bookmarks }, dstEntry ? { dataset: dstDs, snapshots: dstEntry.snapshots } : undefined, dstDs);
  if (options.upTo !== undefined) limitTo(cmp, options.upTo, options.newSnapshotName !== undefined, S, srcDs);
  const intermediates = options.intermediates ?? pair.options.intermediates;
  const incFlag: IncrementalFlag = intermediates ? '-I' : '-i';
  const recursive = pair.options.recursive;
  const { flags, dropped } = effectiveSendFlags(pair.options, src.capabilities, dst.capabilities);
  const srcFeat = streamFeatures(src.capabilities);
  const dstFeat = streamFeatures(dst.capabilities);
  const warnings = dropped.map((d) => `send ${d}; left out`);
  const steps: PlanStep[] = [];
  const pre: Precondition[] = [{ kind: 'dataset-exists', host: S, dataset: srcDs, ...(srcEntry.object.guid ? { guid: srcEntry.object.guid } : {}) }];
  const receiver = options.facts?.receiver;
  const unmounted = receiver !== undefined && !receiver.root;
  const recv = recvArgv(zfs, dstDs, dst.capabilities, { unmounted });
  const recvNote = unmounted ? `; received with -u (left unmounted): ${receiver.user} is not root, and on Linux only root can mount (without -u the data arrives, the mount fails and zfs still exits 0)` : '';

  // 1. What is sent up to: a new snapshot, or the source's newest.
  let sendTo: { name: string; guid?: string; isNew: boolean };
  if (options.newSnapshotName !== undefined) {
    const name = options.newSnapshotName.includes('@') ? options.newSnapshotName : `${srcDs}@${options.newSnapshotName}`;
    try {
      validateSnapshotName(name);
    } catch (e) {
      throw new PlanError('invalid', (e as Error).message);
    }
    if (name.slice(0, name.indexOf('@')) !== srcDs) throw new PlanError('invalid', `${name} is not a snapshot of the source ${srcDs}`);
    if (srcEntry.snapshots.some((s) => s.name === name)) throw new PlanError('target-exists', `${S}: ${name} already exists`);
    sendTo = { name, isNew: true };
    pre.push({ kind: 'snapshot-absent', host: S, name });
  } else {
    const newest = cmp.sourceSnapshots[cmp.sourceSnapshots.length - 1];
    if (!newest) throw new PlanError('no-source-snapshot', `${S}: ${srcDs} has no snapshot to send; give a name for a new one`);
    sendTo = { name: newest.name, ...(newest.guid ? { guid: newest.guid } : {}), isNew: false };
    pre.push({ kind: 'snapshot-exists', host: S, name: newest.name, guid: newest.guid ?? '' });
  }
  const snapshotStep = (): PlanStep => ({
    id: ids.next(),
    type: 'command',
    op: 'snapshot',
    host: S,
    argv: [zfs, 'snapshot', ...(recursive ? ['-r'] : []), sendTo.name],
    description: `Snapshot the source${recursive ? ' and its descendants' : ''}: ${sendTo.name}`,
    destroys: emptyDestroys(),
    confirm: false,
  });
  const estimate = (send: string[], what: string): PlanStep | undefined =>
    srcFeat.estimate && !sendTo.isNew
      ? { id: ids.next(), type: 'command', op: 'estimate', host: S, argv: estimateArgv(send), description: `Estimate the size of ${what}`, destroys: emptyDestroys(), confirm: false, estimate: true }
      : undefined;
  const pushSend = (send: string[], what: string) => {
    const e = estimate(send, what);
    if (e) steps.push(e);
    // push/pull: the stream does not pass through us; `-v -P` prints its progress where we can read it.
    const sent = pair.route !== 'relay' && srcFeat.estimate ? progressSendArgv(send) : send;
    steps.push(transferStep(pair, ids.next(), what + recvNote, sent, recv, options.route));
  };
  // After the sends: bookmark the newest snapshot sent, so a prune of it on the source does not lose the base.
  const bookmarkStep = (): PlanStep | undefined => {
    const wanted = options.bookmark ?? true;
    if (!wanted || recursive || !srcFeat.bookmarks) {
      if (options.bookmark && recursive) warnings.push('No bookmark of the sent snapshot: zfs bookmark has no -r (recursive pair).');
      else if (options.bookmark && !srcFeat.bookmarks) warnings.push(`No bookmark of the sent snapshot: ${S} has no bookmarks.`);
      return undefined;
    }
    const name = syncBookmarkName(sendTo.name);
    if (!isValidName(name, 'bookmark')) {
      warnings.push(`No bookmark of the sent snapshot: ${name} is not a valid bookmark name (too long?).`);
      return undefined;
    }
    if (srcEntry.bookmarks.some((b) => b.name === name || (sendTo.guid !== undefined && b.guid === sendTo.guid))) return undefined;
    const can = may(options.facts?.source, 'bookmark');
    if (can === false) {
      if (options.bookmark) warnings.push(`No bookmark of the sent snapshot: ${options.facts!.source!.user} may not bookmark on ${S} (zfs allow -u ${options.facts!.source!.user} bookmark ${srcDs}).`);
      return undefined;
    }
    return {
      id: ids.next(),
      type: 'command',
      op: 'bookmark',
      host: S,
      argv: bookmarkArgv(zfs, sendTo.name, name),
      description: `Bookmark the sent snapshot on the source (${name}): the next sync can start from it after @${snapName(sendTo.name)} is pruned`,
      destroys: emptyDestroys(),
      confirm: false,
      mayFail: 'the data is sent: a missing bookmark only means the next sync needs @' + snapName(sendTo.name) + ' itself',
    };
  };
  const title = `Sync ${S}:${srcDs} → ${T}:${dstDs}`;

  // 2. A partially received stream on the target: resume it (the next sync plans from there), or,
  // when the source no longer has what it sends (a stale token), discard it, once confirmed.
  const token = dstEntry?.object.receiveResumeToken;
  if (token && srcFeat.resume && dstFeat.resume) {
    const check = checkResumeToken(token, src, srcDs, recursive);
    pre.push({ kind: 'dataset-exists', host: T, dataset: dstDs, ...(dstEntry!.object.guid ? { guid: dstEntry!.object.guid } : {}) });
    pre.push({ kind: 'resume-token', host: T, dataset: dstDs, token });
    if (check.stale) {
      const first = dstEntry!.snapshots.length === 0;
      const partial: HostObject = first
        ? { host: T, name: dstDs, ...(dstEntry!.object.guid ? { guid: dstEntry!.object.guid } : {}), what: 'its first receive was cut: it holds only the partially received stream, no snapshot' }
        : { host: T, name: `${dstDs}/%recv`, what: 'the partially received stream' };
      steps.push({
        id: ids.next(),
        type: 'command',
        op: 'destroy',
        host: T,
        argv: abortRecvArgv(zfs, dstDs),
        description: `Discard the partially received stream in ${dstDs} (zfs recv -A): it cannot be resumed, ${check.stale}`,
        destroys: { ...emptyDestroys(), datasets: [partial] },
        confirm: true,
      });
      if (!first) pre.push({ kind: 'snapshots', host: T, dataset: dstDs, snapshots: cmp.targetSnapshots.map((x) => ({ name: x.name, guid: x.guid ?? '' })) });
      warnings.push(
        `${T}: the resume token of ${dstDs} is stale: ${check.stale}. ${first ? `${dstDs} received nothing complete yet: discarding the stream destroys the dataset (${dstEntry!.object.referenced ?? '?'} bytes referenced).` : `Its snapshots are kept; only the partial stream (${check.info?.bytes ?? '?'} bytes received) is destroyed.`} Plan the sync again afterwards.`,
      );
      return {
        title: `Discard the stale partial receive ${T}:${dstDs}`,
        summary: `The partially received stream in ${T}:${dstDs} cannot be resumed: resume token is stale: ${check.stale}. Discard it with zfs recv -A (confirmed), then sync again.`,
        steps,
        preconditions: pre,
        warnings,
        comparison: cmp,
      };
    }
    if (check.sending) {
      // Re-checked right before the resume: the snapshot it sends still exists with the same guid.
      pre.push({ kind: 'snapshot-exists', host: S, name: check.sending.name, guid: check.sending.guid ?? '' });
      if (check.from) pre.push({ kind: 'snapshot-exists', host: S, name: check.from.name, guid: check.from.guid ?? '' });
    } else if (check.unreadable) {
      warnings.push(`The resume token of ${dstDs} could not be read (${check.unreadable}): whether the source still has what it sends is known only when the resume runs.`);
    }
    pushSend(resumeSendArgv(zfs, token), `Resume the interrupted receive into ${dstDs}${check.sending ? ` (@${snapName(check.sending.name)}${check.info?.bytes !== undefined ? `, ${check.info.bytes} bytes already received` : ''})` : ''}`);
    warnings.push(`${T}: ${dstDs} holds a partially received stream; this plan only resumes it. Plan the sync again afterwards to send what remains.`);
    return { title: `Resume ${S}:${srcDs} → ${T}:${dstDs}`, summary: `Resume the interrupted receive into ${T}:${dstDs} (receive_resume_token).`, steps, preconditions: pre, warnings, comparison: cmp };
  }

  // 3. Nothing received yet: a full send.
  if (!dstEntry || dstEntry.snapshots.length === 0) {
    if (dstEntry) {
      if (dstEntry.children.length) throw new PlanError('target-exists', `${T}: ${dstDs} exists with child datasets and no snapshot; it cannot receive a full stream. Choose another target or remove it yourself.`);
      steps.push({
        id: ids.next(),
        type: 'command',
        op: 'destroy',
        host: T,
        argv: [zfs, 'destroy', dstDs],
        description: `Destroy the empty target ${dstDs} (it exists without snapshots; a full stream needs a new dataset)`,
        destroys: { ...emptyDestroys(), datasets: [ref(T, dstDs, dstEntry.object.guid)] },
        confirm: true,
      });
      warnings.push(`${T}: ${dstDs} exists but has no snapshot; the plan destroys it (with any files in it${dstEntry.object.referenced !== undefined ? `: ${dstEntry.object.referenced} bytes referenced` : ''}) before the full receive.`);
      pre.push({ kind: 'dataset-exists', host: T, dataset: dstDs, ...(dstEntry.object.guid ? { guid: dstEntry.object.guid } : {}) });
      pre.push({ kind: 'snapshots', host: T, dataset: dstDs, snapshots: [] });
    } else {
      pre.push({ kind: 'dataset-absent', host: T, dataset: dstDs });
      const parent = parentDataset(dstDs);
      if (parent !== undefined && !dst.datasets.has(parent)) {
        steps.push({
          id: ids.next(),
          type: 'command',
          op: 'create',
          host: T,
          argv: [zfs, 'create', '-p', parent],
          description: `Create the target's parent ${parent}`,
          destroys: emptyDestroys(),
          confirm: false,
        });
        pre.push({ kind: 'dataset-absent', host: T, dataset: parent });
      }
    }
    if (sendTo.isNew) steps.push(snapshotStep());
    const oldest = cmp.sourceSnapshots[0];
    if (recursive || !intermediates || !oldest || oldest.name === sendTo.name) {
      pushSend(sendArgv(zfs, flags, sendTo.name), `Full send of ${sendTo.name}${recursive ? ' with its descendants and all their snapshots (-R)' : ''} to ${T}:${dstDs}`);
    } else {
      pre.push({ kind: 'snapshot-exists', host: S, name: oldest.name, guid: oldest.guid ?? '' });
      pushSend(sendArgv(zfs, flags, oldest.name), `Full send of the oldest snapshot ${oldest.name} to ${T}:${dstDs}`);
      pushSend(sendArgv(zfs, flags, sendTo.name, { flag: '-I', name: oldest.name }), `Incremental send of every snapshot after @${snapName(oldest.name)} up to @${snapName(sendTo.name)} (-I)`);
    }
    const mark = bookmarkStep();
    if (mark) steps.push(mark);
    const n = recursive || !intermediates ? 1 : cmp.sourceSnapshots.length + (sendTo.isNew ? 1 : 0);
    return {
      title,
      summary: `${T}:${dstDs} ${dstEntry ? 'has no snapshot' : 'does not exist'}: a full send creates it from ${S}:${srcDs} (${n} snapshot${n === 1 ? '' : 's'}, up to @${snapName(sendTo.name)}).`,
      steps,
      preconditions: pre,
      warnings,
      comparison: cmp,
    };
  }

  // 4. The target has snapshots.
  if (options.incremental === 'full') {
    throw new PlanError('target-exists', `${T}: ${dstDs} already has snapshots; a full send needs a target that does not exist (destroy or rename it yourself, or send incrementally).`);
  }
  const inc = cmp.incremental;
  if (!inc) {
    const st = pairState(pair, src, dst);
    throw new PlanError(
      'no-common-base',
      `${T}:${dstDs} and ${S}:${srcDs} have no snapshot in common (${st.noCommon?.reason ?? 'unrelated'}): ${st.noCommon?.detail ?? ''}. ` +
        `An incremental send is impossible and a full send would have to destroy the target's ${cmp.targetSnapshots.length} snapshot(s); ` +
        `ZFS Fleet does not plan that. Rename or destroy the target yourself, or replicate to a new target.`,
    );
  }
  const written = dstEntry.object.written;
  const modified = options.targetModified ? 'yes' : written === undefined ? 'unknown' : written > 0 ? 'yes' : 'no';
  const needsRollback = cmp.newerOnTarget.length > 0 || modified === 'yes';
  if (recursive && needsRollback) {
    throw new PlanError('unsupported', `${T}: ${dstDs} has snapshots newer than the base or was modified; rolling back a recursive target (every descendant) is not planned yet: roll back each dataset first.`);
  }
  const baseLabel = inc.kind === 'bookmark' ? inc.source.name : `@${snapName(inc.source.name)}`;
  if (!sendTo.isNew && cmp.newerOnSource.length === 0) {
    const extra = cmp.newerOnTarget.length
      ? ` The target has ${cmp.newerOnTarget.length} snapshot(s) newer than the base (${cmp.newerOnTarget.map((s) => '@' + snapName(s.name)).join(', ')}); nothing is destroyed since there is nothing to send.`
      : '';
    if (extra) warnings.push(extra.trim());
    pre.push({ kind: 'newest-snapshot', host: T, dataset: dstDs, guid: dstEntry.snapshots[0]?.guid ?? null, name: dstEntry.snapshots[0]?.name });
    return { title, summary: `Nothing to send: the target already has the source's newest snapshot ${baseLabel}.${extra}`, steps: [], preconditions: pre, warnings, comparison: cmp };
  }

  pre.push({ kind: 'snapshot-exists', host: S, name: inc.source.name, guid: inc.guid });
  const tag = options.holdTag ?? holdTagFor(pair.id);
  const holds = srcFeat.holds && dstFeat.holds;
  const releases: PlanStep[] = [];
  if (sendTo.isNew) steps.push(snapshotStep());
  // A hold is placed only where its user may also release it: a hold that cannot be released would
  // stay until root releases it (and keep the snapshot from being destroyed).
  const mayHold = (side: 'source' | 'target', host: string, ds: string): boolean => {
    const u = options.facts?.[side];
    const hold = may(u, 'hold');
    const release = may(u, 'release');
    if (hold !== false && release !== false) return true;
    const fix = shellJoin([zfs, 'allow', '-u', u!.user, [hold === false ? 'hold' : '', release === false ? 'release' : ''].filter(Boolean).join(','), ds]);
    warnings.push(
      hold === false
        ? `The base is not held on the ${side} during the send: ${u!.user} may not hold snapshots of ${host}:${ds}. To have it held: ${fix}`
        : `The base is not held on the ${side} during the send: ${u!.user} may hold snapshots of ${host}:${ds} but not release them, and a hold it placed would stay until root releases it. To have it held: ${fix}`,
    );
    return false;
  };
  if (holds) {
    const hold = (host: string, snap: string, side: string) => {
      const h: PlanStep = { id: ids.next(), type: 'command', op: 'hold', host, argv: [zfs, 'hold', ...(recursive ? ['-r'] : []), tag, snap], description: `Hold the base on the ${side} (${snap}, tag ${tag}) so nothing prunes it during the send`, destroys: emptyDestroys(), confirm: false };
      steps.push(h);
      releases.unshift({ id: '', type: 'command', op: 'release', host, argv: [zfs, 'release', ...(recursive ? ['-r'] : []), tag, snap], description: `Release the hold ${tag} on ${snap}`, destroys: emptyDestroys(), confirm: false, cleanupOf: h.id });
    };
    if (inc.kind === 'snapshot' && mayHold('source', S, srcDs)) hold(S, inc.source.name, 'source');
    if (mayHold('target', T, dstDs)) hold(T, inc.target.name, 'target');
  } else {
    warnings.push(`The base is not held during the send: ${!srcFeat.holds ? S : T} has no zfs hold.`);
  }

  let destroys: Destroys = emptyDestroys();
  if (needsRollback) {
    const why = cmp.newerOnTarget.length ? 'the target must be exactly at the base to receive an incremental stream' : 'the target was modified since the base';
    const part = rollbackPart(T, dst, inc.target.name, ids, { zfs, why });
    pre.push(...part.preconditions);
    warnings.push(...part.warnings);
    if (part.steps.length === 0) {
      const clones = part.blockingClones.map((c) => c.name);
      const reason = `${T}: ${dstDs} must be rolled back to ${inc.target.name} to receive, but clone${clones.length > 1 ? 's' : ''} ${clones.join(', ')} of ${clones.length > 1 ? 'snapshots' : 'a snapshot'} newer than the base block${clones.length > 1 ? '' : 's'} the rollback.`;
      return {
        title: `${title} (blocked)`,
        summary: `${reason} Re-base ${clones.length > 1 ? 'them' : 'it'} onto ${inc.target.name} first (see diagnose), then sync.`,
        steps: [],
        preconditions: pre,
        warnings,
        comparison: cmp,
        blockedBy: { reason, clones: part.blockingClones, withDestroyClones: part.withR },
        alternatives: ['rebase'],
      };
    }
    steps.push(...part.steps);
    destroys = part.destroys;
    warnings.push(
      cmp.newerOnTarget.length
        ? `${T}: the target has ${cmp.newerOnTarget.length} snapshot(s) newer than the base; the plan rolls it back to ${inc.target.name}, destroying ${cmp.newerOnTarget.map((s) => '@' + snapName(s.name)).join(', ')} (zfs recv -F is never used).`
        : `${T}: the target was modified since ${inc.target.name} (${written !== undefined ? `${written} bytes written` : 'as told'}); the plan rolls it back, discarding those changes (zfs recv -F is never used).`,
    );
  } else {
    pre.push(
      { kind: 'dataset-exists', host: T, dataset: dstDs, ...(dstEntry.object.guid ? { guid: dstEntry.object.guid } : {}) },
      { kind: 'snapshots', host: T, dataset: dstDs, snapshots: cmp.targetSnapshots.map((s) => ({ name: s.name, guid: s.guid ?? '' })) },
    );
    if (modified === 'unknown') {
      warnings.push(`${T} cannot tell whether ${dstDs} was modified since ${inc.target.name} (no \`written\` property); if it was, the receive fails with "destination has been modified since most recent snapshot": then plan a rollback to ${inc.target.name}.`);
    }
  }

  // The sends.
  if (inc.kind === 'bookmark') {
    const first = cmp.newerOnSource[0];
    if (intermediates && !recursive && first && first.name !== sendTo.name) {
      pushSend(sendArgv(zfs, flags, first.name, { flag: '-i', name: inc.source.name }), `Incremental send from the bookmark ${inc.source.name} to @${snapName(first.name)} (-i: a bookmark cannot start -I)`);
      pushSend(sendArgv(zfs, flags, sendTo.name, { flag: '-I', name: first.name }), `Incremental send of every snapshot after @${snapName(first.name)} up to @${snapName(sendTo.name)} (-I)`);
    } else {
      pushSend(sendArgv(zfs, flags, sendTo.name, { flag: '-i', name: inc.source.name }), `Incremental send from the bookmark ${inc.source.name} to @${snapName(sendTo.name)}`);
    }
    warnings.push(`The base snapshot was pruned on ${S}; its bookmark ${inc.source.name} is the incremental source.`);
  } else {
    const skipped = intermediates ? 0 : cmp.newerOnSource.filter((s) => s.name !== sendTo.name).length;
    pushSend(
      sendArgv(zfs, flags, sendTo.name, { flag: incFlag, name: inc.source.name }),
      `Incremental send from @${snapName(inc.source.name)} to @${snapName(sendTo.name)} (${incFlag}${incFlag === '-I' ? ': every snapshot in between' : ''})${recursive ? ' with descendants (-R)' : ''}`,
    );
    if (skipped) warnings.push(`-i sends only @${snapName(sendTo.name)}: the ${skipped} snapshot(s) in between are not replicated.`);
  }
  const mark = bookmarkStep();
  if (mark) steps.push(mark);
  for (const r of releases) {
    r.id = ids.next();
    steps.push(r);
  }
  if (cmp.sourceSnapshots.length > 1 && inc.kind === 'snapshot' && cmp.sourceSnapshots[0] === inc.source) {
    warnings.push(`The base @${snapName(inc.source.name)} is the source's oldest snapshot: had ${S} pruned it, no common snapshot would remain. Keep more snapshots on the source (never delete the last one sent).`);
  }
  const count = cmp.newerOnSource.length + (sendTo.isNew ? 1 : 0);
  const sends = intermediates ? count : 1;
  return {
    title,
    summary:
      `Send ${sends} snapshot${sends === 1 ? '' : 's'} from ${S}:${srcDs} to ${T}:${dstDs}, from the common base ${baseLabel} up to @${snapName(sendTo.name)}` +
      (needsRollback ? `, after rolling the target back to the base (destroying ${destroys.snapshots.length} snapshot${destroys.snapshots.length === 1 ? '' : 's'})` : '') +
      '.',
    steps,
    preconditions: pre,
    warnings,
    comparison: cmp,
  };
}

export function planSync(pair: ReplicationPair, sourceListing: HostListing, targetListing: HostListing, options: SyncOptions = {}): Plan {
  const part = syncPart(pair, sourceListing, targetListing, options);
  const plan = makePlan({
    kind: 'sync',
    id: options.id,
    now: options.now,
    title: part.title,
    summary: part.summary,
    steps: part.steps,
    preconditions: part.preconditions,
    warnings: part.warnings,
    ...(part.blockedBy ? { blockedBy: part.blockedBy } : {}),
    ...(part.alternatives ? { alternatives: part.alternatives } : {}),
  });
  assertBaseKept(plan, part.comparison, pair);
  return plan;
}

/** The invariant: no plan destroys the last common snapshot, on either side. */
export function assertBaseKept(plan: Plan, cmp: CommonBase, pair: ReplicationPair): void {
  const inc = cmp.incremental;
  if (!inc) return;
  const base = new Set([`${pair.source.host}\0${inc.source.name}`, `${pair.target.host}\0${inc.target.name}`]);
  for (const s of plan.destroys.snapshots) {
    if (base.has(`${s.host}\0${s.name}`)) throw new Error(`internal: the plan would destroy the common base ${s.host}:${s.name}`);
  }
}
