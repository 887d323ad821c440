/**
 * Replication pairs: `source HOST:DATASET -> target HOST:DATASET` with a route. Laid down with the
 * foundation so the tree, the planners and the CLI share one model; the replication engine uses it.
 */
import type { Schedule } from '../queue/schedule.js';
import type { RetentionPolicy } from '../retention/forecast.js';
import { EndpointError, parseEndpoint, type Endpoint } from './endpoint.js';

/** relay: both streams pass through the extension; push: the source runs `send | ssh target recv`; pull: the target runs `ssh source send | recv`. */
export type Route = 'relay' | 'push' | 'pull';

export interface PairOptions {
  recursive: boolean;
  /**
   * Recursive pairs: children of the source left out (`zfs send -R -X`), as paths relative to the
   * source with `*`, `**` and `?` (exclude.ts). Excluded children are neither sent nor counted.
   */
  exclude?: string[];
  /** `send -w`: encrypted datasets sent as they are (an encrypted source is sent raw anyway, unless `decrypt`). */
  raw: boolean;
  /**
   * An encrypted source sent decrypted (not raw): the replica stores its data unencrypted unless
   * the target's parent encrypts it. Only when asked; the plan says so.
   */
  decrypt?: boolean;
  /** `send -c`. */
  compressed: boolean;
  /** `send -L`. */
  largeBlocks: boolean;
  /** `send -p` (or -R's properties). */
  properties: boolean;
  /** `-I` (all intermediate snapshots) or `-i`. */
  intermediates: boolean;
  /** Bytes per second the stream may move (the relay paces it in-process); undefined: no limit. */
  bwlimit?: number;
}

export interface ReplicationPair {
  /** Stable id: `source->target`. */
  id: string;
  label?: string;
  source: Endpoint;
  target: Endpoint;
  route: Route;
  options: PairOptions;
  /** The fleet file's group this pair is a replica of. */
  group?: string;
  /** The fleet file that defines the pair (as its origin names it), when a file does. */
  file?: string;
  /** Where the group is written: its file, its place in `groups`, this replica's place in its `replicas` (0-based). */
  groupAt?: { file: string; index: number; replica: number };
  /** When the agent queues this pair's sync (its group's `schedule`). */
  schedule?: Schedule;
  /** The group's limits for monitoring (else check's thresholds). */
  limits?: { staleAfterSeconds?: number; maxLagSeconds?: number };
  /**
   * How the hosts reach each other where the fleet file says (`[user@]address[:port]`): `target`, as
   * the source's ssh reaches the target (push); `source`, as the target's reaches the source (pull).
   * Undefined: the host's name as written.
   */
  reach?: { source?: string; target?: string };
  /** The source dataset's retention policy (fleet file `policies`): its own, or a recursive ancestor's (`dataset` says which). */
  retention?: { policy: RetentionPolicy; dataset: string };
}

export const DEFAULT_PAIR_OPTIONS: PairOptions = { recursive: false, raw: false, compressed: true, largeBlocks: true, properties: false, intermediates: true };

/** The settings/workspace-file form of a pair. */
export interface PairSpec {
  source: string;
  target: string;
  route?: Route;
  label?: string;
  options?: Partial<PairOptions>;
}

export function parsePair(spec: PairSpec): ReplicationPair {
  const source = parseEndpoint(spec.source);
  const target = parseEndpoint(spec.target);
  for (const [side, e] of [
    ['source', source],
    ['target', target],
  ] as const) {
    if (!e.name) throw new EndpointError(spec[side], `the ${side} of a pair needs a dataset (HOST:DATASET)`);
    if (e.name.kind === 'snapshot' || e.name.kind === 'bookmark')
      throw new EndpointError(spec[side], `the ${side} of a pair is a dataset, not a snapshot or bookmark`);
  }
  const route = spec.route ?? 'relay';
  if (!['relay', 'push', 'pull'].includes(route)) throw new EndpointError(String(route), 'route must be relay, push or pull');
  if (source.host === target.host && source.name!.full === target.name!.full) throw new EndpointError(spec.source, 'source and target are the same dataset');
  return {
    id: `${spec.source}->${spec.target}`,
    label: spec.label,
    source,
    target,
    route,
    options: { ...DEFAULT_PAIR_OPTIONS, ...spec.options },
  };
}
