/**
 * A Kysely dialect for node-sqlite3-wasm (SQLite compiled to WebAssembly, reading and writing the real
 * file through Node's fs): the same code loads in the CLI's Node and in VS Code's extension host
 * (any Node or Electron), with no native addon. Kysely has no dialect for it, so this is the small
 * driver its docs describe: one connection, queries serialised by a mutex, SQLite's query compiler,
 * adapter and introspector.
 *
 * Locking: node-sqlite3-wasm locks a database by creating the directory `PATH.lock` (SQLite's
 * `unix-dotfile` scheme; one exclusive lock, readers included). A busy database is retried here,
 * asynchronously (the extension host is not blocked in a busy wait), until `busyTimeoutMs`.
 */
import * as fs from 'node:fs';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import { Database } from 'node-sqlite3-wasm';

export interface SqliteWasmOptions {
  /** How long a statement waits for another process's lock before it fails (default 10 s). */
  busyTimeoutMs?: number;
}

/** The database stayed locked by another process for the whole timeout. */
export class SqliteLockedError extends Error {
  constructor(readonly file: string) {
    const lock = `${file}.lock`;
    let since = '';
    try {
      since = ` (since ${fs.statSync(lock).mtime.toISOString()})`;
    } catch {}
    super(
      `fleet store sqlite:${file} is locked${since}: another zfs-fleet is writing it, or one was killed while writing; if none is running, remove the directory ${lock}`,
    );
    this.name = 'SqliteLockedError';
  }
}

const isBusy = (e: unknown) => /database is locked|SQLITE_BUSY/i.test(String((e as Error)?.message ?? e));
const WRITES = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode']);

class WasmConnection implements DatabaseConnection {
  constructor(
    readonly db: Database,
    readonly file: string,
    readonly busyTimeoutMs: number,
  ) {}

  /** Run `fn`; while another process holds the lock, wait (5 ms doubling to 200 ms) and try again. */
  async retryBusy<T>(fn: () => T): Promise<T> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
      try {
        return fn();
      } catch (e) {
        if (!isBusy(e)) throw e;
        if (Date.now() >= deadline) throw new SqliteLockedError(this.file);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    const params = q.parameters.map((p) => (p instanceof Date ? p.toISOString() : p)) as never;
    const write = WRITES.has(q.query.kind) && !('returning' in q.query && q.query.returning);
    // In a transaction the lock is already held (BEGIN IMMEDIATE); outside one a statement may meet a lock.
    return this.retryBusy(() => {
      const stmt = this.db.prepare(q.sql);
      try {
        if (write) {
          const r = stmt.run(params);
          return { rows: [], numAffectedRows: BigInt(r.changes), insertId: BigInt(r.lastInsertRowid) };
        }
        return { rows: stmt.all(params) as R[] };
      } finally {
        stmt.finalize(); // WASM memory is not garbage-collected: every statement is finalized
      }
    });
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('the SQLite fleet store does not stream queries');
  }
}

class WasmDriver implements Driver {
  private connection?: WasmConnection;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    readonly options: SqliteWasmOptions,
  ) {}

  async init(): Promise<void> {
    const db = new Database(this.file);
    this.connection = new WasmConnection(db, this.file, this.options.busyTimeoutMs ?? 10_000);
    // Our own retry waits without blocking; SQLite's busy handler would sleep inside the event loop.
    db.exec('PRAGMA busy_timeout = 0');
    await this.connection.retryBusy(() => db.exec('PRAGMA foreign_keys = ON'));
  }

  /** One connection; a second caller waits until the first releases it (Kysely's SqliteDriver does the same). */
  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise((r) => (release = r));
    await previous;
    (this.connection as WasmConnection & { release?: () => void }).release = release;
    return this.connection!;
  }

  async releaseConnection(c: DatabaseConnection): Promise<void> {
    (c as WasmConnection & { release?: () => void }).release?.();
  }

  /** BEGIN IMMEDIATE: the lock is taken at the start, so a transaction never fails half-way on another writer. */
  async beginTransaction(c: DatabaseConnection): Promise<void> {
    await (c as WasmConnection).retryBusy(() => (c as WasmConnection).db.exec('BEGIN IMMEDIATE'));
  }

  async commitTransaction(c: DatabaseConnection): Promise<void> {
    (c as WasmConnection).db.exec('COMMIT');
  }

  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    (c as WasmConnection).db.exec('ROLLBACK');
  }

  async destroy(): Promise<void> {
    if (this.connection?.db.isOpen) this.connection.db.close();
  }
}

export class SqliteWasmDialect implements Dialect {
  constructor(
    readonly file: string,
    readonly options: SqliteWasmOptions = {},
  ) {}
  createDriver(): Driver {
    return new WasmDriver(this.file, this.options);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
