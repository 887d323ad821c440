/** The hosts of the fleet: one ZfsHost (one connection) per host spec, loaded with bounded concurrency. */
import type { Logger } from '../log.js';
import { RunnerError, type Runner } from '../runner.js';
import { ZfsHost, type CapabilityCache, type HostSettings } from './host.js';
import type { HostListing } from './listing.js';

export type RunnerFactory = (spec: string) => Runner;

/** Run `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export class Fleet {
  private readonly byName = new Map<string, ZfsHost>();
  private order: string[] = [];

  constructor(
    private readonly runnerFactory: RunnerFactory,
    private settings: HostSettings,
    private readonly logger: Logger,
    private readonly capabilityCache?: CapabilityCache,
    /** Only the hosts given to setHosts connect (the extension: a host named by restored state or a command's arguments does not). */
    private readonly onlyListed = false,
  ) {}

  /** Replace the host list; hosts kept keep their connection and cache, removed ones are disposed. */
  setHosts(specs: readonly string[]): void {
    const wanted = [...new Set(specs)];
    for (const [name, host] of this.byName) {
      if (!wanted.includes(name)) {
        this.byName.delete(name);
        void host.dispose();
      }
    }
    this.order = wanted;
  }

  /** New settings: every connection is rebuilt on next use. */
  updateSettings(settings: HostSettings): void {
    this.settings = settings;
    this.reconnectAll();
  }

  get names(): readonly string[] {
    return this.order;
  }

  host(name: string): ZfsHost {
    let h = this.byName.get(name);
    if (!h) {
      if (this.onlyListed && !this.order.includes(name))
        throw new RunnerError('config', `${name} is not one of the configured hosts (zfsFleet.hosts): add it there to connect to it`, name);
      h = new ZfsHost(name, this.runnerFactory(name), this.settings, this.logger, this.capabilityCache);
      this.byName.set(name, h);
    }
    return h;
  }

  /** Drop a host's connection and cache (after a failure, for a retry). */
  reconnect(name: string): ZfsHost {
    const old = this.byName.get(name);
    this.byName.delete(name);
    if (old) void old.dispose();
    return this.host(name);
  }

  reconnectAll(): void {
    for (const name of [...this.byName.keys()]) this.reconnect(name);
  }

  refreshAll(concurrency: number, onHostDone?: (name: string) => void): Promise<PromiseSettledResult<HostListing>[]> {
    return mapLimit(this.order, concurrency, async (name) => {
      try {
        return await this.host(name).refresh();
      } finally {
        onHostDone?.(name);
      }
    });
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.byName.values()].map((h) => h.dispose()));
    this.byName.clear();
  }
}
