/**
 * `zfs-fleet store info [--store URL]`: opens the fleet store (creating or migrating it) and says what
 * it holds. `store prune --older-than D [--yes]`: the observations older than D out (the agent does it
 * hourly with --retain); without --yes it only counts what would go.
 */
import { formatDuration } from '../core/monitor/duration.js';
import { defaultStoreUrl } from '../store/location.js';
import { UsageError } from './usage.js';

export async function storeCommand(
  opts: { positional: string[]; store?: string; json: boolean; yes?: boolean; olderThanSeconds?: number },
  out: (s: string) => void,
): Promise<number> {
  const sub = opts.positional[0];
  if (sub !== 'info' && sub !== 'prune') throw new UsageError(sub ? `unknown store command '${sub}'` : 'store needs a command: info, prune');
  if (sub === 'prune' && opts.olderThanSeconds === undefined) throw new UsageError('store prune needs --older-than DURATION (30d)');
  const { openStore } = await import('../store/store.js');
  const store = await openStore(opts.store ?? defaultStoreUrl());
  try {
    if (sub === 'prune') {
      const before = new Date(Date.now() - opts.olderThanSeconds! * 1000);
      const counts = await store.pruneObservations(before, { dryRun: !opts.yes });
      if (opts.json) out(JSON.stringify({ before: before.toISOString(), removed: !!opts.yes, counts }, null, 2));
      else {
        out(
          `${opts.yes ? 'Removed' : 'Would remove'} the observations older than ${formatDuration(opts.olderThanSeconds!)} (before ${before.toISOString()}), the newest sweep kept:`,
        );
        for (const [table, n] of Object.entries(counts)) out(`  ${(table + ':').padEnd(22)}${n} rows`);
        if (!opts.yes) out('Nothing removed: run again with --yes.');
      }
      return 0;
    }
    const info = await store.info();
    if (opts.json) {
      out(JSON.stringify(info, null, 2));
      return 0;
    }
    out(`kind:           ${info.kind}`);
    out(`location:       ${info.location}`);
    out(`schema version: ${info.schemaVersion}`);
    for (const [table, n] of Object.entries(info.counts)) out(`${(table + ':').padEnd(22)}${n} rows`);
    return 0;
  } finally {
    await store.close();
  }
}
