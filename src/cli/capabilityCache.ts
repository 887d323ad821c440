/**
 * The CLI's capability cache on disk (`$XDG_CACHE_HOME/zfs-fleet/capabilities.json`, else
 * `~/.cache/...`): each CLI call would otherwise probe every host again. An entry is used only when
 * the host, in the same remote command as the listing, identifies its ZFS exactly as when it was
 * probed (zfs version, or the zfs-fuse package version); otherwise the host is probed again.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CachedProbe, CapabilityCache } from '../core/fleet/host.js';

/** The CLI's cache directory: `$XDG_CACHE_HOME/zfs-fleet`, else `~/.cache/zfs-fleet` (the launcher keeps V8's code cache there too). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'zfs-fleet');
}

export function defaultCachePath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), 'capabilities.json');
}

/**
 * What a probe records changes with the product (a property read since, as `keystatus`): an entry
 * written by another format is probed again. Raise it when capabilities.ts probes something new.
 */
export const PROBE_FORMAT = 2;

function isProbe(v: unknown): v is CachedProbe {
  const p = v as CachedProbe & { format?: unknown };
  return (
    typeof p === 'object' &&
    p !== null &&
    p.format === PROBE_FORMAT &&
    typeof p.identity === 'string' &&
    typeof p.capabilities === 'object' &&
    p.capabilities !== null &&
    Array.isArray(p.capabilities.properties)
  );
}

export class FileCapabilityCache implements CapabilityCache {
  private entries?: Map<string, CachedProbe>;

  constructor(readonly file: string) {}

  private load(): Map<string, CachedProbe> {
    if (this.entries) return this.entries;
    this.entries = new Map();
    try {
      const data = JSON.parse(fs.readFileSync(this.file, 'utf8')) as unknown;
      if (data && typeof data === 'object') for (const [k, v] of Object.entries(data)) if (isProbe(v)) this.entries.set(k, v);
    } catch {
      // no cache yet, or unreadable: probe
    }
    return this.entries;
  }

  get(key: string): CachedProbe | undefined {
    return this.load().get(key);
  }

  set(key: string, probe: CachedProbe): void {
    this.load().set(key, { ...probe, format: PROBE_FORMAT } as CachedProbe);
    this.save();
  }

  delete(key: string): void {
    if (this.load().delete(key)) this.save();
  }

  /** Written whole to a temporary file and renamed, so a concurrent CLI never reads half a file. */
  private save(): void {
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.load()), null, 1), { mode: 0o600 });
      fs.renameSync(tmp, this.file);
    } catch {
      // a cache that cannot be written costs a probe next time, nothing else
    }
  }
}
