/** Plain data describing what a host's ZFS has; produced by the parsers, consumed by the tree, the CLI and the planners. */
import type { PoolScan } from './poolStatus.js';

export type ZfsObjectType = 'filesystem' | 'volume' | 'snapshot' | 'bookmark';

export interface ZfsObject {
  name: string;
  type: ZfsObjectType;
  /** Creation time, seconds since the epoch. */
  creation?: number;
  /** Transaction group of creation: orders snapshots exactly (absent on zfs-fuse). */
  createtxg?: number;
  /** 64-bit guid as a decimal string (too large for a JS number). */
  guid?: string;
  used?: number;
  available?: number;
  referenced?: number;
  /** Bytes written since the previous snapshot (for a dataset: since its newest snapshot). */
  written?: number;
  mountpoint?: string;
  mounted?: boolean;
  readonly?: boolean;
  /** For a clone: the snapshot it was cloned from. */
  origin?: string;
  /** Number of user holds on a snapshot. */
  userrefs?: number;
  encryption?: string;
  /** An encrypted dataset's key: loaded (`available`) or not (`unavailable`). */
  keystatus?: 'available' | 'unavailable';
  /** `zfs-fleet:role` (set on it or inherited): a group's primary or replica. */
  role?: 'primary' | 'replica';
  /** A partially received stream can be resumed from this token. */
  receiveResumeToken?: string;
}

export interface PoolInfo {
  name: string;
  health: string;
  size?: number;
  allocated?: number;
  free?: number;
  /** From `zpool status` (poolStatus.ts): the last scrub or resilver; undefined when none ran or the host did not say. */
  scan?: PoolScan;
  /** From `zpool status`: the pool's count of data errors (0: none known); undefined when not read. */
  dataErrors?: number;
}

export type ZfsImplementation = 'openzfs' | 'zfs-fuse' | 'unknown';

/** What a host's zfs can do; decided by a probe, never assumed. */
export interface ZfsCapabilities {
  implementation: ZfsImplementation;
  /** "2.3.2", "0.7.0", or undefined when unknown. */
  version?: string;
  /** What the host printed that identified it. */
  versionText: string;
  /** `zfs list -p` (exact numbers in one line per object). */
  listParsable: boolean;
  /** `zfs list -j` (OpenZFS 2.3+). */
  json: boolean;
  /** `zpool list -p`. */
  zpoolParsable: boolean;
  /** Optional properties this host knows: createtxg, written, userrefs, encryption, receive_resume_token, mounted, clones. */
  properties: string[];
  holds: boolean;
  bookmarks: boolean;
  resumeTokens: boolean;
  /** `zfs allow` (delegation). */
  allow: boolean;
  /** `zfs send -nvP` size estimates. */
  sendEstimate: boolean;
}

export function hasProperty(caps: ZfsCapabilities, property: string): boolean {
  return caps.properties.includes(property);
}
