/** `zfs-fleet store info [--store URL]`: opens the fleet store (creating or migrating it) and says what it holds. */
import { defaultStoreUrl } from '../store/location.js';
import { UsageError } from './usage.js';

export async function storeCommand(opts: { positional: string[]; store?: string; json: boolean }, out: (s: string) => void): Promise<number> {
  const sub = opts.positional[0];
  if (sub !== 'info') throw new UsageError(sub ? `unknown store command '${sub}'` : 'store needs a command: info');
  const { openStore } = await import('../store/store.js');
  const store = await openStore(opts.store ?? defaultStoreUrl());
  try {
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
