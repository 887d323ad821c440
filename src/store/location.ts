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

/**
 * Why a store that could not be opened (or written) is not writable, in words, when that is the
 * cause: SQLite's own message ("Could not open the database") does not say. The store needs to
 * write even to read (its schema is brought up to date when it is opened).
 */
export async function notWritableReason(loc: StoreLocation, message: string): Promise<string | undefined> {
  if (loc.kind === 'postgres')
    return /read-only transaction/i.test(message)
      ? 'the database is read-only (a standby server, or default_transaction_read_only is on); the fleet store needs a writable primary'
      : undefined;
  const { access, constants } = await import('node:fs/promises');
  for (const p of [loc.file, path.dirname(loc.file)]) {
    try {
      await access(p, constants.W_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EROFS') return `${p} is on a read-only file system; the fleet store needs to write (its schema, the journal next to it)`;
      if (code === 'EACCES' || code === 'EPERM') return `no permission to write ${p}; the fleet store needs to write (its schema, the journal next to it)`;
    }
  }
  return undefined;
}
