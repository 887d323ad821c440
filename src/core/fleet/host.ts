/** A ZFS host as the product sees it: a runner, its probed capabilities and a cached listing. */
import type { Logger } from '../log.js';
import type { Runner } from '../runner.js';
import { runBatch, type BatchResult } from '../zfs/batch.js';
import { identityCommands, probeHost, zfsIdentity } from '../zfs/capabilities.js';
import { listAllCommand, zpoolListCommand, type ZfsCommand } from '../zfs/commands.js';
import { mergePoolStatus, zpoolStatusCommand, type PoolStatus } from '../zfs/poolStatus.js';
import { ZfsError } from '../zfs/errors.js';
import type { PoolInfo, ZfsCapabilities, ZfsObject } from '../zfs/types.js';
import { buildListing, type HostListing } from './listing.js';

export interface HostSettings {
  zfsPath: string;
  zpoolPath: string;
  commandTimeoutMs: number;
}

/** A probe kept between runs (the CLI keeps one on disk), valid while the host's ZFS identifies itself the same. */
export interface CachedProbe {
  identity: string;
  capabilities: ZfsCapabilities;
}

/** Where probes are kept between processes; keyed by host spec and the zfs/zpool paths. */
export interface CapabilityCache {
  get(key: string): CachedProbe | undefined;
  set(key: string, probe: CachedProbe): void;
  delete(key: string): void;
}

const argvs = (cmds: readonly (ZfsCommand<unknown> | undefined)[]) => cmds.flatMap((c) => (c ? [c.argv] : []));

export class ZfsHost {
  private caps?: Promise<ZfsCapabilities>;
  private listingPromise?: Promise<HostListing>;

  constructor(
    readonly name: string,
    readonly runner: Runner,
    private readonly settings: HostSettings,
    private readonly logger: Logger,
    private readonly cache?: CapabilityCache,
  ) {}

  private get cacheKey(): string {
    return JSON.stringify([this.name, this.settings.zfsPath, this.settings.zpoolPath]);
  }

  /** Probe the host (one or two remote commands) once per ZfsHost; the result goes to the cache. */
  capabilities(): Promise<ZfsCapabilities> {
    if (!this.caps) {
      const p = probeHost(this.runner, { zfsPath: this.settings.zfsPath, zpoolPath: this.settings.zpoolPath, timeoutMs: this.settings.commandTimeoutMs }).then(
        (r) => {
          this.cache?.set(this.cacheKey, r);
          return r.capabilities;
        },
      );
      this.caps = p;
      p.catch(() => {
        if (this.caps === p) this.caps = undefined;
      });
    }
    return this.caps;
  }

  /** Run a ZFS command; a non-zero exit becomes a classified ZfsError that keeps the original text. */
  async exec<T>(cmd: ZfsCommand<T>, signal?: AbortSignal): Promise<T> {
    const res = await this.runner.run(cmd.argv, { timeoutMs: this.settings.commandTimeoutMs, signal });
    if (res.exitCode !== 0) throw new ZfsError(this.name, cmd.argv, res.exitCode, res.stderr);
    return cmd.parse(res.stdout);
  }

  /** The whole host in one listing (one remote command with the pools), cached until refresh(). */
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

  /** One dataset and its descendants (`zfs list -r DATASET`), not cached, without the pools: for a caller that asked for one subtree. */
  subtree(dataset: string): Promise<HostListing> {
    return this.load(dataset);
  }

  /**
   * Listing and pools in one remote command. With capabilities only known from the cache, the same
   * command also asks the host who it is; if that changed, the host is probed again and listed again.
   */
  private async load(root?: string): Promise<HostListing> {
    const t0 = performance.now();
    const cached = this.caps ? undefined : this.cache?.get(this.cacheKey);
    if (cached) {
      const identity = identityCommands(this.settings);
      const results = await runBatch(this.runner, [...identity, ...argvs(this.listingCommands(cached.capabilities, root))], {
        timeoutMs: this.settings.commandTimeoutMs,
      });
      if (zfsIdentity(results[0]!, results[1]!) === cached.identity) {
        this.caps ??= Promise.resolve(cached.capabilities);
        return this.finish(cached.capabilities, root, results.slice(identity.length), t0);
      }
      this.logger.info(`${this.name}: its ZFS changed since the capabilities were cached; probing again`);
      this.cache?.delete(this.cacheKey);
    }
    const caps = await this.capabilities();
    const results = await runBatch(this.runner, argvs(this.listingCommands(caps, root)), { timeoutMs: this.settings.commandTimeoutMs });
    return this.finish(caps, root, results, t0);
  }

  /** The listing, and the pools for a whole host with their status (a subtree's caller has no use for them). */
  private listingCommands(caps: ZfsCapabilities, root?: string): [ZfsCommand<ZfsObject[]>, ZfsCommand<PoolInfo[]>?, ZfsCommand<PoolStatus[]>?] {
    const list = listAllCommand(caps, this.settings.zfsPath, root);
    return root === undefined ? [list, zpoolListCommand(caps, this.settings.zpoolPath), zpoolStatusCommand(this.settings.zpoolPath)] : [list];
  }

  private finish(caps: ZfsCapabilities, root: string | undefined, results: BatchResult[], t0: number): HostListing {
    const [listCmd, poolCmd, statusCmd] = this.listingCommands(caps, root);
    const parsed = <T>(cmd: ZfsCommand<T>, r: BatchResult): T => {
      if (r.exitCode !== 0) throw new ZfsError(this.name, cmd.argv, r.exitCode, r.stderr);
      return cmd.parse(r.stdout);
    };
    const objects = parsed(listCmd, results[0]!);
    const pools = poolCmd ? parsed(poolCmd, results[1]!) : [];
    if (statusCmd) withStatus(this.name, pools, statusCmd, results[2]!, this.logger);
    const ms = performance.now() - t0;
    const listing = buildListing(this.name, caps, pools, objects, ms);
    for (const r of listing.rejected) this.logger.warn(`${this.name}: left out ${r.name}: ${r.reason}`);
    this.logger.debug(
      `${this.name}: listed ${root === undefined ? '' : `${root}: `}${listing.datasets.size} datasets, ${listing.snapshotCount} snapshots in ${ms.toFixed(0)} ms`,
    );
    return listing;
  }

  async dispose(): Promise<void> {
    await this.runner.dispose();
  }
}

/**
 * The scrub and data errors of `zpool status` onto the pools `zpool list` gave. A status that
 * fails or does not parse leaves them unknown (monitoring says nothing of scrubs then): the listing
 * itself does not fail for it.
 */
function withStatus(host: string, pools: PoolInfo[], cmd: ZfsCommand<PoolStatus[]>, r: BatchResult, logger: Logger): void {
  if (r.exitCode !== 0) {
    logger.debug(`${host}: ${cmd.argv.join(' ')} exited ${r.exitCode}: ${r.stderr.trim().split('\n')[0] ?? ''}; scrubs unknown`);
    return;
  }
  mergePoolStatus(pools, cmd.parse(r.stdout));
}
