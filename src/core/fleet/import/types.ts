/**
 * What an import of existing replication and snapshot configs (syncoid argument files, sanoid.conf)
 * produces, as plain data: pairs, the groups they form, retention policies, and warnings. Nothing in
 * a config is dropped silently: what is not understood or not applied is a warning naming its line.
 */
import type { PairOptions } from '../pairs.js';

/** Where a line came from. */
export interface SourceLine {
  file: string;
  /** 1-based. */
  line: number;
}

export type ImportWarningKind =
  /** The same syncoid line (same arguments) appears twice. */
  | 'duplicate-line'
  /** One source sent to one target on two lines (with different flags). */
  | 'duplicate-pair'
  /** A target equal to or inside another pair's (recursive) target: two streams writing one tree. */
  | 'overlapping-target'
  /** A syncoid flag this import does not know: kept in `imported`, not applied. */
  | 'unknown-flag'
  /** A syncoid flag understood but with no pair option: kept in `imported`, not applied. */
  | 'not-applied'
  /** A remote host that matches no fleet host: the pair keeps `user@host` as written. */
  | 'unknown-host'
  /** A line (or a value) that cannot be parsed. */
  | 'unparsable'
  /** sanoid.conf: a setting sanoid does not know (sanoid itself refuses to start on it). */
  | 'unknown-key'
  /** sanoid.conf: `use_template` names a template that is not defined. */
  | 'unknown-template'
  /** sanoid.conf: a key sanoid ignores where it is written (e.g. `recursive` in a template), or a duplicate key. */
  | 'ignored-key';

export interface ImportWarning extends SourceLine {
  kind: ImportWarningKind;
  message: string;
}

/** pull: the target host runs it (`[user@]host:SRC DST`); push: the source host (`SRC [user@]host:DST`); local: both on the host; relay: both remote. */
export type ImportedRoute = 'pull' | 'push' | 'local' | 'relay';

export interface ImportedPair extends SourceLine {
  /** `HOST:DATASET`, as the fleet file writes it. */
  source: string;
  target: string;
  route: ImportedRoute;
  options: PairOptions;
  /** The flags with no pair option (values as written; a flag without value is `true`). */
  imported: Record<string, string | true | string[]>;
  /** The original arguments. */
  args: string[];
}

/** The pairs between two hosts in one direction (a replication group as the Replication view shows it). */
export interface ImportedGroup {
  /** `SOURCE_HOST->TARGET_HOST`. */
  id: string;
  sourceHost: string;
  targetHost: string;
  route: ImportedRoute;
  /** Pair ids (`source->target`). */
  pairs: string[];
}

export type SnapshotPeriod = 'frequently' | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';
export const SNAPSHOT_PERIODS: readonly SnapshotPeriod[] = ['frequently', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'];

/** A retention policy and the freshness thresholds of one dataset, as sanoid computes them. */
export interface ImportedPolicy extends SourceLine {
  /** `HOST:DATASET`. */
  dataset: string;
  /** The templates applied, in order (`default` first when the file defines `[template_default]`). */
  templates: string[];
  /** `yes`: sanoid walks the children; `zfs`: `zfs snapshot -r`; false: this dataset only. */
  recursive: 'yes' | 'zfs' | false;
  processChildrenOnly: boolean;
  autosnap: boolean;
  autoprune: boolean;
  /** Snapshots kept per period (0: none taken, existing ones pruned). */
  retention: Record<SnapshotPeriod, number>;
  /** Whether sanoid --monitor-snapshots checks this dataset at all. */
  monitor: boolean;
  /** Age of the newest snapshot of each period, in seconds, above which sanoid warns / is critical; 0: not checked. */
  freshness: Record<SnapshotPeriod, { warnSeconds: number; critSeconds: number }>;
}

/** How the host running the syncoid lines reached another fleet host (`user@address` as a line wrote it): the fleet file's `hosts.HOST.from.FROM`. */
export interface ImportedReach extends SourceLine {
  /** The fleet host reached (its name in the pairs). */
  host: string;
  /** The host that reaches it (the one running syncoid). */
  from: string;
  address?: string;
  user?: string;
}

export interface ImportResult {
  pairs: ImportedPair[];
  /** syncoid-args: how the host reached the others; absent for sanoid.conf. */
  reach?: ImportedReach[];
  groups: ImportedGroup[];
  policies: ImportedPolicy[];
  warnings: ImportWarning[];
}

export const pairId = (p: { source: string; target: string }): string => `${p.source}->${p.target}`;
