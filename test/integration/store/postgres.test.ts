// The fleet store on a real PostgreSQL server: the same suite as SQLite (test/unit/store/storeSuite.ts).
// Start the server with `bash test/lab/pg.sh up` and pass the URL it prints:
//   ZFS_FLEET_PG_URL=postgres://fleet@127.0.0.1:55432/postgres npx vitest run test/integration/store
// Each test gets a database of its own, dropped at the end.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openStore, StoreOpenError } from '../../../src/store/index.js';
import { queueSuite } from '../../unit/store/queueSuite.js';
import { storeSuite, type Backend } from '../../unit/store/storeSuite.js';

const adminUrl = process.env.ZFS_FLEET_PG_URL;
if (!adminUrl) console.warn('SKIPPED: the PostgreSQL fleet store tests need ZFS_FLEET_PG_URL (bash test/lab/pg.sh up prints it)');

const created: string[] = [];
async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe.skipIf(!adminUrl)('fleet store: PostgreSQL', () => {
  const backend: Backend = {
    kind: 'postgres',
    newUrl: async () => {
      const name = `fleet_test_${process.pid}_${created.length + 1}`;
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name}`).then(() => c.query(`CREATE DATABASE ${name}`)));
      created.push(name);
      const u = new URL(adminUrl!);
      u.pathname = `/${name}`;
      return u.toString();
    },
    cleanup: async () => {
      await admin(async (c) => {
        for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
    },
  };
  storeSuite(backend);
  queueSuite(backend);

  it('says why it cannot reach a server, in one line, without the password', async () => {
    const u = new URL(adminUrl!);
    u.port = '1'; // nothing listens there
    u.password = 's3cret';
    const e = await openStore(u.toString()).catch((x: Error) => x);
    expect(e).toBeInstanceOf(StoreOpenError);
    expect((e as Error).message).toMatch(/^cannot open fleet store postgres:\/\/fleet:\*\*\*@127\.0\.0\.1:1\/postgres: .*ECONNREFUSED/);
    expect((e as Error).message).not.toContain('s3cret');
  });

  it('says so when the database does not exist', async () => {
    const u = new URL(adminUrl!);
    u.pathname = '/no_such_fleet_db';
    const e = await openStore(u.toString()).catch((x: Error) => x);
    expect((e as Error).message).toMatch(/^cannot open fleet store postgres:.*no_such_fleet_db: database "no_such_fleet_db" does not exist/);
  });
});
