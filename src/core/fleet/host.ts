/** A ZFS host as the product sees it: a runner, its probed capabilities and a cached listing. */
import type { Logger } from '../log.js';
import type { Runner } from '../../transport/runner.js';
import { probeCapabilities } from '../zfs/capabilities.js';
import { listAllCommand, zpoolListCommand, type ZfsCommand } from '../zfs/commands.js';
import { ZfsError } from '../zfs/errors.js';
import type { ZfsCapabilities } from '../zfs/types.js';
import { buildListing, type HostListing } from './listing.js';

export interface HostSettings {
  zfsPath: string;
  zpoolPath: string;
  commandTimeoutMs: number;
}

export class ZfsHost {
  private caps?: Promise<ZfsCapabilities>;
  private listingPromise?: Promise<HostListing>;

  constructor(
    readonly name: string,
    readonly runner: Runner,
    private readonly settings: HostSettings,
    private readonly logger: Logger,
  ) {}

  capabilities(): Promise<ZfsCapabilities> {
    if (!this.caps) {
      this.caps = probeCapabilities(this.runner, { zfsPath: this.settings.zfsPath, zpoolPath: this.settings.zpoolPath, timeoutMs: this.settings.commandTimeoutMs });
      this.caps.catch(() => (this.caps = undefined));
    }
    return this.caps;
  }

  /** Run a ZFS command; a non-zero exit becomes a classified ZfsError that keeps the original text. */
  async exec<T>(cmd: ZfsCommand<T>, signal?: AbortSignal): Promise<T> {
    const res = await this.runner.run(cmd.argv, { timeoutMs: this.settings.commandTimeoutMs, signal });
    if (res.exitCode !== 0) throw new ZfsError(this.name, cmd.argv, res.exitCode, res.stderr);
    return cmd.parse(res.stdout);
  }

  /** The whole host in one listing (plus one zpool list), cached until refresh(). */
  listing(force = false): Promise<HostListing> {
    if (force || !this.listingPromise) {
      const p = this.load();
      this.listingPromise = p;
      p.catch(() => {
        if (this.listingPromise === p) this.listingPromise = undefined;
      });
    }
    return this.listingPromise;
  }

  /** The cached listing if one has loaded, without starting work. */
  get cached(): Promise<HostListing> | undefined {
    return this.listingPromise;
  }

  refresh(): Promise<HostListing> {
    return this.listing(true);
  }

  private async load(): Promise<HostListing> {
    const t0 = performance.now();
    const caps = await this.capabilities();
    const [objects, pools] = await Promise.all([this.exec(listAllCommand(caps, this.settings.zfsPath)), this.exec(zpoolListCommand(caps, this.settings.zpoolPath))]);
    const ms = performance.now() - t0;
    const listing = buildListing(this.name, caps, pools, objects, ms);
    this.logger.debug(`${this.name}: listed ${listing.datasets.size} datasets, ${listing.snapshotCount} snapshots in ${ms.toFixed(0)} ms`);
    return listing;
  }

  async dispose(): Promise<void> {
    await this.runner.dispose();
  }
}
