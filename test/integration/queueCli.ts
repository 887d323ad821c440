/**
 * What the queue's CLI tests share (cli-queue.test.ts, cli-queue-pg-restart.test.ts): the built CLI
 * run against the lab with a cache and state of its own, fresh PostgreSQL databases dropped at the
 * end, and the queue's jobs as the store reads them.
 */
import { execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import pg from 'pg';
import type { Job } from '../../src/core/queue/job.js';
import { JobQueue, openStore } from '../../src/store/index.js';
import { runCli } from './cliRun.js';
import { lab } from './lab.js';

export const root = path.resolve(__dirname, '../..');
export const cli = path.join(root, 'dist/cli.js');

/** Builds dist/ (the bundle the tests run). */
export function buildCli(): void {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
}

/** The CLI on the lab's hosts (its ssh config and known hosts), with XDG cache and state under `tmp`. */
export function labCli(tmp: string) {
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache'), XDG_STATE_HOME: path.join(tmp, 'state') });
  const connection = (): string[] => {
    const l = lab();
    return ['--ssh-config', l.sshConfig, '--known-hosts', l.knownHosts, '--timeout', '10'];
  };
  return {
    env,
    connection,
    /** Runs a command to its end. */
    run: (...args: string[]) => runCli([cli, ...args, ...connection()], env()),
    /** Starts a long-running command (worker, agent); its stderr is collected in `log()`. */
    start(...args: string[]): { child: ChildProcessByStdio<null, Readable, Readable>; log: () => string } {
      const child = spawn(process.execPath, [cli, ...args, ...connection()], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      child.stderr.on('data', (c: Buffer) => (log += c.toString()));
      return { child, log: () => log };
    },
  };
}

/** Databases of one test file on the PostgreSQL server at `admin` (a URL), each new and empty, dropped by dropAll. */
export function pgDatabases(admin: string, prefix: string) {
  const made: string[] = [];
  return {
    async create(): Promise<string> {
      const name = `${prefix}_${process.pid}_${made.length + 1}`;
      await pgAdminQuery(admin, `DROP DATABASE IF EXISTS ${name}`);
      await pgAdminQuery(admin, `CREATE DATABASE ${name}`);
      made.push(name);
      const u = new URL(admin);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async dropAll(): Promise<void> {
      for (const name of made) await pgAdminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

export async function pgAdminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(admin: string, text: string, values: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    return (await c.query<R>(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** Every job of the queue at `url`, in claim order (the store opened and closed for the read). */
export async function queueJobs(url: string): Promise<Job[]> {
  const s = await openStore(url);
  try {
    return await new JobQueue(s).list();
  } finally {
    await s.close();
  }
}

/** A snapshotGuids map as [@name, guid] pairs (dataset names left out): a target's equal its source's after a sync. */
export function snapshotsOf(guids: Map<string, string>): [string, string][] {
  return [...guids].map(([n, g]) => [n.slice(n.indexOf('@')), g]);
}
