/**
 * The runs of the fleet store, read and written the way the application layer records a plan's
 * result (src/app/history.ts RunLog): one record of what the CLI and the extension (and later the
 * agent and the workers) ran. The store is opened on first use; history.jsonl files kept before are
 * imported once, then renamed `*.imported`.
 */
import * as fs from 'node:fs/promises';
import { defaultStoreUrl, describeLocation, parseStoreUrl } from './location.js';
import type { FleetStore, LatestObservations, RunRecord } from './store.js';
import type { Job } from '../core/queue/job.js';

export class StoreRunLog {
  private store: Promise<FleetStore> | undefined;

  constructor(
    readonly url: string = defaultStoreUrl(),
    /** history.jsonl files to import once (missing ones are skipped). */
    private readonly legacy: readonly string[] = [],
  ) {}

  /** The SQLite file, or the PostgreSQL URL without its password. */
  get file(): string {
    const loc = parseStoreUrl(this.url);
    return loc.kind === 'sqlite' ? loc.file : describeLocation(loc);
  }

  private open(): Promise<FleetStore> {
    this.store ??= (async () => {
      // Loaded on first use: the database code (Kysely, pg, SQLite's WebAssembly) costs a CLI run that records nothing its start-up time.
      const { openStore } = await import('./store.js');
      const store = await openStore(this.url);
      for (const f of this.legacy) await importOnce(store, f);
      return store;
    })().catch((e: unknown) => {
      this.store = undefined; // the next run tries again (a store that was down may be back)
      throw e;
    });
    return this.store;
  }

  async append(entry: RunRecord): Promise<void> {
    await (await this.open()).recordRun(entry);
  }

  async read(limit = 200): Promise<{ entries: RunRecord[]; unreadable: number }> {
    return { entries: await (await this.open()).runs({ limit }), unreadable: 0 };
  }

  /** The newest observations the agent recorded for these hosts and pairs (the same store, the same connection). */
  async latestObservations(q: { hosts: readonly string[]; pairIds: readonly string[] }): Promise<LatestObservations> {
    return (await this.open()).latestObservations(q);
  }

  /** The job queue's newest jobs (running, waiting, then finished newest first), for `check`. */
  async jobs(limit = 5000): Promise<Job[]> {
    const { JobQueue } = await import('./queue.js');
    return new JobQueue(await this.open()).list({ limit });
  }

  async close(): Promise<void> {
    const s = this.store;
    this.store = undefined;
    if (s) await (await s.catch(() => undefined))?.close();
  }
}

async function importOnce(store: FleetStore, file: string): Promise<void> {
  try {
    await store.importHistory(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  await fs.rename(file, `${file}.imported`);
}
