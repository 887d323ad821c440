// The fleet store on SQLite (node-sqlite3-wasm) on temp files: the shared suite, plus what only a file has.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultStoreUrl, openStore, parseStoreUrl, SqliteLockedError, StoreOpenError } from '../../../src/store/index.js';
import { queueSuite } from './queueSuite.js';
import { comparable, EXPECTED, readmeQueries, seed, storeSuite } from './storeSuite.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-store-'));
let n = 0;
const newFile = () => path.join(tmp, `t${++n}`, 'fleet.db');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('fleet store: SQLite', () => {
  storeSuite({ kind: 'sqlite', newUrl: async () => newFile() });
  queueSuite({ kind: 'sqlite', newUrl: async () => newFile() });

  it('says why it cannot open a path (a file where a directory should be), in one line', async () => {
    const file = path.join(tmp, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    const e = await openStore(path.join(file, 'fleet.db')).catch((x: Error) => x);
    expect(e).toBeInstanceOf(StoreOpenError);
    expect((e as Error).message).toMatch(/^cannot open fleet store sqlite:.*not-a-dir\/fleet\.db: .*(ENOTDIR|EEXIST)/);
    expect((e as Error).message).not.toContain('\n');
  });

  it('says why it cannot open a directory as the database', async () => {
    const dir = path.join(tmp, 'a-dir.db');
    fs.mkdirSync(dir);
    const e = await openStore(`sqlite:${dir}`).catch((x: Error) => x);
    expect((e as Error).message).toMatch(/^cannot open fleet store sqlite:.*a-dir\.db: /);
  });

  it('refuses a file that is not SQLite', async () => {
    const file = path.join(tmp, 'garbage.db');
    fs.writeFileSync(file, 'this is not a database, just text long enough to be read as a header....................................');
    const e = await openStore(file).catch((x: Error) => x);
    expect((e as Error).message).toMatch(/^cannot open fleet store sqlite:.*garbage\.db: .*not a database/);
  });

  it("waits for another process's lock, and names the lock when it never goes away", async () => {
    const file = newFile();
    const s = await openStore(file);
    await s.close();
    fs.mkdirSync(`${file}.lock`); // what a process killed while writing leaves behind
    const t0 = Date.now();
    const e = await openStore(file, { busyTimeoutMs: 300 }).catch((x: Error) => x);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(e).toBeInstanceOf(SqliteLockedError);
    expect((e as Error).message).toContain(`remove the directory ${file}.lock`);
    fs.rmdirSync(`${file}.lock`);
    await (await openStore(file)).close();
  });

  it('the documented sqlite3 queries run in the sqlite3 shell itself (-readonly -vfs unix-dotfile)', async (ctx) => {
    const sqlite3 = ['/usr/bin/sqlite3', '/usr/local/bin/sqlite3'].find((p) => fs.existsSync(p));
    if (!sqlite3) {
      console.warn('SKIPPED: no sqlite3 shell (apt-get install sqlite3) for the documented queries');
      ctx.skip();
      return;
    }
    const file = newFile();
    const s = await openStore(file);
    await seed(s);
    await s.close();
    for (const q of readmeQueries('sqlite').filter((x) => !x.name.startsWith('queue-'))) {
      const { stdout } = await promisify(execFile)(sqlite3, ['-readonly', '-vfs', 'unix-dotfile', '-json', file, q.sql]);
      const rows = (stdout.trim() ? JSON.parse(stdout) : []) as Record<string, unknown>[];
      expect(
        rows.map((r) => comparable(q.name, r)),
        q.name,
      ).toEqual(EXPECTED[q.name]);
    }
  });
});

describe('fleet store: where it lives', () => {
  it('defaults to $XDG_STATE_HOME/zfs-fleet/fleet.db, ~/.local/state without it; ZFS_FLEET_STORE wins', () => {
    expect(defaultStoreUrl({}, '/home/op', 'linux')).toBe('/home/op/.local/state/zfs-fleet/fleet.db');
    expect(defaultStoreUrl({ XDG_STATE_HOME: '/st' }, '/home/op', 'linux')).toBe('/st/zfs-fleet/fleet.db');
    expect(defaultStoreUrl({ ZFS_FLEET_STORE: 'postgres://x/y' }, '/home/op', 'linux')).toBe('postgres://x/y');
  });
  it('reads paths, sqlite: URLs and postgres URLs', () => {
    expect(parseStoreUrl('/a/b.db')).toEqual({ kind: 'sqlite', file: '/a/b.db' });
    expect(parseStoreUrl('sqlite:/a/b.db')).toEqual({ kind: 'sqlite', file: '/a/b.db' });
    expect(parseStoreUrl('sqlite://~/f.db', '/home/op')).toEqual({ kind: 'sqlite', file: '/home/op/f.db' });
    expect(parseStoreUrl('postgresql://u:p@h/db')).toEqual({ kind: 'postgres', url: 'postgresql://u:p@h/db' });
    expect(() => parseStoreUrl('sqlite:')).toThrow(StoreOpenError);
  });
});
