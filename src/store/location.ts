/** Where the fleet store is and how it is named in messages; no database code (cheap to load). */
import * as os from 'node:os';
import * as path from 'node:path';

export class StoreOpenError extends Error {
  constructor(store: string, why: string) {
    super(`cannot open fleet store ${store}: ${why}`);
    this.name = 'StoreOpenError';
  }
}

/** Where the store lives unless told: `$XDG_STATE_HOME/zfs-fleet/fleet.db` (`%LOCALAPPDATA%\zfs-fleet\fleet.db` on Windows). */
export function defaultStoreUrl(env: NodeJS.ProcessEnv = process.env, home = os.homedir(), platform = process.platform): string {
  if (env.ZFS_FLEET_STORE) return env.ZFS_FLEET_STORE;
  if (platform === 'win32') return path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'zfs-fleet', 'fleet.db');
  return path.join(env.XDG_STATE_HOME || path.join(home, '.local', 'state'), 'zfs-fleet', 'fleet.db');
}

export type StoreLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/** `postgres://…` / `postgresql://…`, else `sqlite:PATH` or a plain path (`~/` expanded). */
export function parseStoreUrl(url: string, home = os.homedir()): StoreLocation {
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: 'postgres', url };
  let file = url.replace(/^sqlite:(\/\/)?/i, '');
  if (!file) throw new StoreOpenError(url, 'no file named');
  if (file === '~' || file.startsWith('~/')) file = path.join(home, file.slice(1));
  return { kind: 'sqlite', file: path.resolve(file) };
}

/** The store's name in messages: `sqlite:/path` or the PostgreSQL URL without its password. */
export function describeLocation(loc: StoreLocation): string {
  if (loc.kind === 'sqlite') return `sqlite:${loc.file}`;
  try {
    const u = new URL(loc.url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
