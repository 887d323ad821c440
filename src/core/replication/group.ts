/**
 * A sync group's status (seed 002's "sync groups"): every replica's position against the primary's
 * newest snapshot, its conflicts (snapshots only the replica has, data written on the replica, a
 * snapshot name on both sides with different guids), and the instruction that brings it level. The
 * plans themselves are the usual sync plans of each replica's pair (app/replication.ts).
 */
import type { HostListing } from '../fleet/listing.js';
import type { ReplicationPair } from '../fleet/pairs.js';
import { snapName } from './commonBase.js';
import { pairState, type PairState } from './state.js';

export type ReplicaPosition = 'level' | 'behind' | 'conflict' | 'split-brain' | 'never-sent' | 'no-common-base' | 'source-missing' | 'unreadable';

export interface ReplicaStatus {
  pair: ReplicationPair;
  /** `HOST:DATASET`. */
  replica: string;
  position: ReplicaPosition;
  state?: PairState;
  /** Why the state could not be read (a host unreachable). */
  unreadable?: string;
  /** Snapshots the replica lacks (0 when level or unknown). */
  behind: number;
  conflicts: string[];
  /** What brings it level, as a command line ('' when level). */
  instruction: string;
  /** A group's replica that is not read-only (readonly=off): anything written there is lost at the next sync. */
  writable?: boolean;
}

export interface GroupStatus {
  /** A group of the fleet file, or a pair outside groups (shown as a group of one). */
  kind: 'group' | 'pair';
  name: string;
  /** `HOST:DATASET`. */
  primary: string;
  /** The primary's newest snapshot (`@name`), when its host answered. */
  newest?: string;
  replicas: ReplicaStatus[];
  /** Every replica has the primary's newest snapshot and no conflict. */
  level: boolean;
}

const endpoint = (e: ReplicationPair['target']) => `${e.host}:${e.name!.full}`;

function conflictsOf(s: PairState): string[] {
  const out: string[] = [];
  if (s.targetNewer.length)
    out.push(`${s.targetNewer.length} snapshot(s) only on the replica, newer than the common base (${s.targetNewer.map((n) => `@${snapName(n)}`).join(', ')})`);
  if (s.targetModified === 'yes') out.push(`written on the replica since its newest snapshot (${s.targetWrittenBytes ?? '?'} bytes)`);
  for (const c of s.nameClashes) out.push(`@${snapName(c.target.name)} on both sides with different guids`);
  return out;
}

function positionOf(s: PairState, conflicts: string[]): ReplicaPosition {
  if (s.status === 'source-missing') return 'source-missing';
  if (s.noCommon) return s.noCommon.reason === 'never-sent' ? 'never-sent' : 'no-common-base';
  if (conflicts.length) return 'conflict';
  return s.behind?.count ? 'behind' : 'level';
}

/** The status of a group's replicas (`pairs`: the group's pairs, one per replica; `listings`: by host, or why the host could not be listed). */
export function groupStatus(
  name: string,
  pairs: readonly ReplicationPair[],
  listings: ReadonlyMap<string, HostListing | { error: string }>,
  now?: number,
  kind: GroupStatus['kind'] = 'group',
): GroupStatus {
  const primary = pairs[0] ? endpoint(pairs[0].source) : '';
  const src = pairs[0] ? listings.get(pairs[0].source.host) : undefined;
  const newestName = src && 'datasets' in src ? src.datasets.get(pairs[0]!.source.name!.full)?.snapshots[0]?.name : undefined;
  const replicas = pairs.map((pair): ReplicaStatus => {
    const replica = endpoint(pair.target);
    const [s, t] = [listings.get(pair.source.host), listings.get(pair.target.host)];
    const missing = [s, t].find((l): l is { error: string } => !l || 'error' in l);
    const args = `${endpoint(pair.source)} ${replica}`;
    if (missing !== undefined || !s || !t)
      return {
        pair,
        replica,
        position: 'unreadable',
        unreadable: missing?.error ?? 'not listed',
        behind: 0,
        conflicts: [],
        instruction: `zfs-fleet status ${args}`,
      };
    const state = pairState(pair, s as HostListing, t as HostListing, now !== undefined ? { now } : {});
    const conflicts = conflictsOf(state);
    // A replica whose zfs-fleet:role says primary was taken over while it was away.
    const splitBrain = kind === 'group' && (t as HostListing).datasets.get(pair.target.name!.full)?.object.role === 'primary';
    if (splitBrain)
      conflicts.unshift(
        `it still says it is the primary (zfs-fleet:role=primary) while the fleet file names ${primary}: the group was taken over while it was away (split brain)`,
      );
    const position = splitBrain ? 'split-brain' : positionOf(state, conflicts);
    const instruction = splitBrain
      ? `zfs-fleet demote ${name} ${replica} --keep-data   (read-only, its divergent data copied aside, rolled back, synced)`
      : position === 'level'
        ? ''
        : position === 'behind' || position === 'never-sent'
          ? `zfs-fleet sync ${args}`
          : position === 'conflict' && state.targetNewer.length === 0 && state.nameClashes.length === 0
            ? `zfs-fleet sync ${args}   (rolls the replica back to its newest snapshot first)`
            : `zfs-fleet diagnose ${args}`;
    // zfs-fuse lists a readonly=on it enforces as off (see readonlyOn): there a listing cannot tell.
    const tl = t as HostListing;
    const writable = kind === 'group' && tl.capabilities.implementation !== 'zfs-fuse' && tl.datasets.get(pair.target.name!.full)?.object.readonly === false;
    return { pair, replica, position, state, behind: state.behind?.count ?? 0, conflicts, instruction, ...(writable ? { writable } : {}) };
  });
  return { kind, name, primary, ...(newestName ? { newest: `@${snapName(newestName)}` } : {}), replicas, level: replicas.every((r) => r.position === 'level') };
}

const WORDS: Record<ReplicaPosition, (r: ReplicaStatus) => string> = {
  level: () => 'level',
  behind: (r) => `behind ${r.behind}`,
  conflict: () => 'conflict',
  'split-brain': () => 'split brain',
  'never-sent': () => 'never sent',
  'no-common-base': () => 'no common base',
  'source-missing': () => 'primary missing',
  unreadable: () => 'not readable',
};

/** The group as text: a header, one line per replica, its conflicts and instruction indented below. */
export function formatGroupStatus(g: GroupStatus): string {
  const lines = [`${g.kind} ${g.name}: ${g.primary}${g.newest ? ` (newest ${g.newest})` : ''}: ${g.level ? 'every replica level' : 'not level'}`];
  const width = Math.max(...g.replicas.map((r) => r.replica.length));
  for (const r of g.replicas) {
    const base = r.state?.base ? `  base @${snapName(r.state.base.source)}` : '';
    lines.push(`  ${r.replica.padEnd(width)}  ${WORDS[r.position](r)}${base}`);
    if (r.unreadable) lines.push(`      ${r.unreadable}`);
    else if (r.position === 'no-common-base' || r.position === 'source-missing') lines.push(`      ${r.state!.summary}`);
    for (const c of r.conflicts) lines.push(`      conflict: ${c}`);
    if (r.writable)
      lines.push(`      writable: readonly=off (what is written there is lost at the next sync; zfs-fleet roles ${g.name} --yes makes it read-only)`);
    if (r.instruction) lines.push(`      -> ${r.instruction}`);
  }
  return lines.join('\n');
}
