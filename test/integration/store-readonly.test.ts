/**
 * A fleet store that cannot be written, as the built CLI meets it: a SQLite file on a file system
 * remounted read-only (a real tmpfs; needs root, as the lab does) and a PostgreSQL database that is
 * read-only (default_transaction_read_only, what a standby answers too; with ZFS_FLEET_PG_URL). The
 * queue's commands and a worker say what is wrong, by name, and exit 1; nothing is half-written.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliRun.js';
import { pgAdminQuery } from './queueCli.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-ro-'));
const pgAdmin = process.env.ZFS_FLEET_PG_URL;
const db = `zfs_fleet_ro_${process.pid}`;
if (!pgAdmin) console.warn('SKIPPED (PostgreSQL half): needs ZFS_FLEET_PG_URL (bash test/lab/pg.sh up prints it)');

const run = (...args: string[]) => runCli([cli, ...args], { ...process.env, XDG_STATE_HOME: path.join(tmp, 'state') });

const admin = (text: string) => pgAdminQuery(pgAdmin!, text);

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
}, 180_000);

afterAll(async () => {
  if (pgAdmin) await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a read-only fleet store: clear errors', () => {
  it('SQLite on a read-only file system: queue ls, pause and a worker name the file system, exit 1', async (ctx) => {
    const mnt = path.join(tmp, 'mnt');
    fs.mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt], { stdio: 'pipe' });
    } catch (e) {
      console.warn(`SKIPPED: cannot mount a tmpfs here (${(e as Error).message.split('\n')[0]})`);
      ctx.skip();
    }
    try {
      const file = path.join(mnt, 'fleet.db');
      expect((await run('queue', 'ls', '--store', file)).stdout).toBe('the queue is empty\n');
      execFileSync('mount', ['-o', 'remount,ro', mnt], { stdio: 'pipe' });
      const before = fs.readFileSync(file);
      for (const args of [
        ['queue', 'ls'],
        ['queue', 'pause', '--all'],
        ['worker', '--once'],
      ]) {
        const r = await run(...args, '--store', file);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toBe(
          `zfs-fleet: cannot open fleet store sqlite:${file}: Could not open the database "${file}": ${file} is on a read-only file system; the fleet store needs to write (its schema, the journal next to it)\n`,
        );
      }
      expect(fs.readFileSync(file).equals(before)).toBe(true);
    } finally {
      execFileSync('umount', [mnt], { stdio: 'pipe' });
    }
  }, 120_000);

  it.skipIf(!pgAdmin)(
    'PostgreSQL read-only (default_transaction_read_only): the store says it needs a writable primary, exit 1',
    async () => {
      await admin(`DROP DATABASE IF EXISTS ${db}`);
      await admin(`CREATE DATABASE ${db}`);
      const u = new URL(pgAdmin!);
      u.pathname = `/${db}`;
      const url = u.toString();
      expect((await run('queue', 'ls', '--store', url)).stdout).toBe('the queue is empty\n');
      await admin(`ALTER DATABASE ${db} SET default_transaction_read_only = on`);
      for (const args of [
        ['queue', 'ls'],
        ['queue', 'retry', '--failed'],
        ['worker', '--once'],
      ]) {
        const r = await run(...args, '--store', url);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toMatch(
          /^zfs-fleet: cannot open fleet store postgres:\/\/.*: cannot execute CREATE TABLE in a read-only transaction: the database is read-only \(a standby server, or default_transaction_read_only is on\); the fleet store needs a writable primary\n$/,
        );
      }
    },
    120_000,
  );
});
