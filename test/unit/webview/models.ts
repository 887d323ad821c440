/**
 * Timeline models for the webview's unit tests, built by the product's own builder
 * (src/core/timeline/model.ts) from listings recorded from real ZFS (test/unit/replication/fixtures:
 * the zfs-fuse lab; test/fixtures/openzfs-2.3: the OpenZFS 2.3.2 VM). Nothing here is written by hand.
 */
import type { TimelineModel } from '../../../src/shared/protocol.js';
import { datasetTimeline, pairTimeline } from '../../../src/core/timeline/model.js';
import { R2, fuseListing, openzfsListing, pair, scenarioPair } from '../replication/fixtures.js';

/** Seed 000 (zfs-fuse): base @20230501-0000 at risk, two target-only snapshots (one with a clone), one unsent. */
export function seed000(): TimelineModel {
  const off1 = fuseListing('seed000', 'off1');
  const ovh3 = fuseListing('seed000', 'ovh3');
  return pairTimeline(scenarioPair('seed000', 'products'), (h) => (h === 'off1' ? off1 : h === 'ovh3' ? ovh3 : undefined));
}

/**
 * The OpenZFS 2.3.2 VM: tank/off/products (with a bookmark) -> backup/off/products (with a clone).
 * Both pools are on the one VM; its two recorded listings are given to the builder as two hosts.
 */
export function openzfsPair(): TimelineModel {
  const tank = openzfsListing('root_zfs_list_tank', 'src');
  const backup = openzfsListing('root_zfs_list_backup', 'dst');
  return pairTimeline(pair('src:tank/off/products', 'dst:backup/off/products'), (h) => (h === 'src' ? tank : h === 'dst' ? backup : undefined));
}

/**
 * The OpenZFS 2.3.2 VM: tank/off/images -> backup/off/images, whose receive was interrupted (recv -s):
 * the target holds a receive_resume_token.
 */
export function openzfsResumePair(): TimelineModel {
  const tank = openzfsListing('root_zfs_list_tank', 'src');
  const backup = openzfsListing('root_zfs_list_backup', 'dst');
  return pairTimeline(pair('src:tank/off/images', 'dst:backup/off/images'), (h) => (h === 'src' ? tank : h === 'dst' ? backup : undefined));
}

/** seed000's replica alone, as a dataset timeline (no pair id: no "sync up to here"). */
export function seed000Dataset(): TimelineModel {
  const ovh3 = fuseListing('seed000', 'ovh3');
  return datasetTimeline('ovh3', `${R2}/seed000/products`, (h) => (h === 'ovh3' ? ovh3 : undefined));
}
