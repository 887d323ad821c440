/**
 * A rename that takes the replicas along (issue 12 §5, seed 001's restructuring): the source
 * dataset renamed, and the replica of every pair sending from it (or from below it) renamed the
 * same way on its host, so the guids stay and the next sync is incremental; the fleet file then
 * names the new paths (the application layer writes it once every rename ran). Pure: one plan of
 * the single renames (each planned by planRename, with its preview of mountpoints and shares),
 * the replicas first: a failure leaves the source, which applications use, as it was.
 */
import type { HostListing } from '../fleet/listing.js';
import type { ReplicationPair } from '../fleet/pairs.js';
import { makePlan, PlanError, StepIds, type Plan, type PlanStep } from '../replication/plan.js';
import { parentDataset, shortName } from '../zfs/names.js';
import type { PropertyRow } from '../zfs/properties.js';
import { planRename } from './datasets.js';
import type { OpOptions } from './snapshots.js';

/** Below its pool: `tank/data/app` -> `data/app`. */
const belowPool = (n: string) => n.slice(n.indexOf('/') + 1);

/**
 * Where a replica goes when its source moves from `from` to `to`: where its name ends as the
 * source's does below the pool (`backup/host1/data/app` for `tank/data/app`), that part changes the
 * same way; else, when only the source's last component changed, the replica's last component is
 * the new one; else it cannot be told (undefined).
 */
export function replicaName(from: string, to: string, replica: string): string | undefined {
  const [f, t] = [belowPool(from), belowPool(to)];
  if (replica.endsWith(`/${f}`)) return replica.slice(0, replica.length - f.length) + t;
  if (parentDataset(from) === parentDataset(to) && parentDataset(replica)) return `${parentDataset(replica)}/${shortName(to)}`;
  return undefined;
}

export interface RenameMove {
  host: string;
  from: string;
  to: string;
  /** The pair whose replica this is (absent: the source itself). */
  pair?: ReplicationPair;
}

/** The renames: each replica of a pair sending from `from` or below it, then the source. */
export function renameMoves(host: string, from: string, to: string, pairs: readonly ReplicationPair[]): RenameMove[] {
  const inside = (d: string | undefined) => d !== undefined && (d === from || d.startsWith(`${from}/`));
  const moves: RenameMove[] = [];
  for (const pair of pairs) {
    const src = pair.source.name!.full;
    if (pair.source.host !== host || !inside(src)) continue;
    const srcTo = to + src.slice(from.length);
    const target = pair.target.name!.full;
    const next = replicaName(src, srcTo, target);
    if (!next)
      throw new PlanError(
        'invalid',
        `the replica ${pair.target.host}:${target} of pair ${pair.id} is not named after its source, so where it goes cannot be told: rename it yourself (zfs-fleet rename ${pair.target.host}:${target} NEWNAME), or rename without --with-replicas`,
      );
    // A replica inside another one renamed here moves with it.
    if (moves.some((m) => m.host === pair.target.host && target.startsWith(`${m.from}/`))) continue;
    if (next !== target) moves.push({ host: pair.target.host, from: target, to: next, pair });
  }
  return [...moves, { host, from, to }];
}

/**
 * The plan of every move: `listings`, `rows` and `parentRows` by host and dataset as planRename
 * takes them (`rows.get(host)?.get(from)`, `parentRows.get(host)?.get(parent of to)`).
 */
export function planRenameWithReplicas(
  moves: readonly RenameMove[],
  listings: ReadonlyMap<string, HostListing>,
  rows: (m: RenameMove) => { rows: readonly PropertyRow[]; parentRows: readonly PropertyRow[] },
  o: OpOptions & { pairs?: readonly ReplicationPair[]; fleetFile?: string } = {},
): Plan {
  const source = moves.at(-1)!;
  if (moves.length === 1)
    throw new PlanError('invalid', `no pair of the fleet file sends from ${source.host}:${source.from} (or below it): there is no replica to rename along`);
  const ids = new StepIds();
  const steps: PlanStep[] = [];
  const preconditions: Plan['preconditions'] = [];
  const warnings: string[] = [];
  const effects: string[] = [];
  const moved = new Set(moves.map((m) => `${m.host}\0${m.from}`));
  for (const m of moves) {
    const l = listings.get(m.host);
    if (!l) throw new PlanError('not-found', `${m.host}: not listed`);
    const r = rows(m);
    // The pairs renamed here are followed in the fleet file: only the others are warned about.
    const others = (o.pairs ?? []).filter(
      (p) => !moved.has(`${p.source.host}\0${p.source.name!.full}`) && !moved.has(`${p.target.host}\0${p.target.name!.full}`),
    );
    const one = planRename(m.host, l, m.from, m.to, r.rows, r.parentRows, { ...(o.zfs ? { zfs: o.zfs } : {}), pairs: others });
    for (const s of one.steps)
      steps.push({ ...s, id: ids.next(), description: `${s.description} on ${m.host}${m.pair ? ` (the replica of ${m.pair.id})` : ''}` });
    preconditions.push(...one.preconditions);
    warnings.push(...one.warnings.map((w) => `${m.host}: ${w}`));
    effects.push(
      `${m.host}:${m.from} -> ${m.to}${m.pair ? ` (the replica; its guids stay, so the next sync is incremental)` : ''}`,
      ...(one.effects ?? []).map((e) => `  ${e}`),
    );
  }
  effects.push(
    `The fleet file${o.fleetFile ? ` ${o.fleetFile}` : ''}: every pair and group naming a renamed dataset names its new path (written once every rename ran).`,
  );
  return makePlan({
    kind: 'rename',
    ...(o.id ? { id: o.id } : {}),
    ...(o.now ? { now: o.now } : {}),
    title: `Rename ${source.from} to ${source.to} with ${moves.length - 1} replica${moves.length === 2 ? '' : 's'}`,
    summary: `Rename ${source.host}:${source.from} to ${source.to} and its replica${moves.length === 2 ? '' : 's'} the same way (first), so replication goes on incrementally. Nothing is destroyed.`,
    steps,
    preconditions,
    warnings,
    effects,
  });
}
