/** Who runs a sync (id + zfs allow on both hosts), read before planning it, as the CLI does: recv -u for a non-root receiver, no hold that user could not release. */
import type { ReplicationPair } from '../../core/fleet/pairs.js';
import { gatherSyncFacts, type SyncFacts } from '../../core/replication/sync.js';
import type { FleetContext } from '../context.js';
import { readSettings } from '../settings.js';

/** Undefined when the users cannot be read: the plan is then made as for root, and the log says so. */
export async function syncFacts(ctx: FleetContext, pair: ReplicationPair): Promise<SyncFacts | undefined> {
  const host = (name: string) => ({ name, runner: ctx.fleet.host(name).runner, capabilities: () => ctx.fleet.host(name).capabilities() });
  try {
    return await gatherSyncFacts(pair, { source: host(pair.source.host), target: host(pair.target.host) }, { zfsPath: readSettings().zfsPath });
  } catch (e) {
    ctx.log.warn(`${pair.id}: the users that run the sync could not be read (${(e as Error).message}); planning as for root`);
    return undefined;
  }
}
