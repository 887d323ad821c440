/**
 * The holds a sync that never finished left behind. A sync holds its base on both sides under the
 * pair's own tag and releases it at the end, even after a failure or a cancel; a process killed
 * with -9 (a queue worker, its machine gone) releases nothing, and the next sync's `zfs hold` of
 * the same snapshot then fails ("tag already exists"). This plan releases the pair's tag from
 * every held snapshot of the two datasets. It destroys nothing; a release that finds no such tag
 * (the hold is another tool's) is a warning, not a failure. `zfs holds` would say which snapshots
 * carry the tag, but zfs-fuse has no `zfs holds`: the snapshots with user holds are read from the
 * listing's `userrefs` and each is asked.
 */
import type { HostListing } from '../fleet/listing.js';
import type { ReplicationPair } from '../fleet/pairs.js';
import { holdTagFor } from './argv.js';
import { makePlan, StepIds, type Plan } from './plan.js';
import { commandStep } from './steps.js';

export function planReleaseStaleHolds(
  pair: ReplicationPair,
  source: HostListing,
  target: HostListing,
  options: { zfs?: string; holdTag?: string } = {},
): Plan | undefined {
  const zfs = options.zfs ?? 'zfs';
  const tag = options.holdTag ?? holdTagFor(pair.id);
  const ids = new StepIds();
  const r = pair.options.recursive ? ['-r'] : [];
  const steps = [
    { host: pair.source.host, listing: source, ds: pair.source.name!.full },
    { host: pair.target.host, listing: target, ds: pair.target.name!.full },
  ].flatMap(({ host, listing, ds }) =>
    (listing.datasets.get(ds)?.snapshots ?? [])
      .filter((s) => (s.userrefs ?? 0) > 0)
      .map((s) =>
        commandStep(ids.next(), 'release', host, [zfs, 'release', ...r, tag, s.name], `Release the hold ${tag} a stopped sync may have left on ${s.name}`, {
          mayFail: 'the snapshot is held by something else, not by this pair',
        }),
      ),
  );
  if (!steps.length) return undefined;
  return makePlan({
    kind: 'sync',
    title: `Release the holds a stopped sync of ${pair.id} left`,
    summary: `${steps.length} held snapshot(s) of ${pair.id}: release the pair's tag ${tag} where a stopped sync left it.`,
    steps,
    preconditions: [],
    warnings: [],
  });
}
