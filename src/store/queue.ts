/**
 * The job queue in the fleet store (table `jobs`, schema 3): add, list, claim with a lease, renew,
 * finish, and the operator's controls (pause, resume, retry, cancel, priority). Every change is one
 * transaction. A claim is atomic: SQLite runs it in one writer transaction (BEGIN IMMEDIATE, one
 * writer at a time); PostgreSQL takes the queue's advisory lock for the transaction and selects
 * with FOR UPDATE SKIP LOCKED, so the per-host limits count the running jobs of every worker.
 * A lease not renewed in time (a worker killed, its machine gone) puts the job back (attempts
 * already counted its claim) at the next claim by any worker; the old worker, if it was only slow,
 * learns it at its next renewal and stops.
 *
 * Times are the workers' clocks (ISO-8601 UTC): keep the machines' clocks in sync (NTP); the lease
 * (60 s by default) is the margin.
 */
import { sql, type Selectable, type Transaction } from 'kysely';
import {
  AVAILABLE,
  DEFAULT_FILE_PENALTY,
  DEFAULT_LEASE_SECONDS,
  DEFAULT_PRIORITY,
  EXIT,
  MAX_ATTEMPTS,
  parseJobSpec,
  PAUSED,
  RUNNING,
  stateOf,
  SUCCESS,
  syncCodesOf,
  validPriority,
  type Job,
  type JobState,
  type NewJob,
} from '../core/queue/job.js';
import type { JobRow, StoreTables } from './schema.js';
import type { FleetStore } from './store.js';

type Tx = Transaction<StoreTables>;
type Row = Selectable<JobRow>;

/** The queue's PostgreSQL advisory lock (claims and lease expiry, one at a time). */
const QUEUE_LOCK = 7422534;

export class JobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobError';
  }
}

export type { NewJob };

export interface ClaimOptions {
  worker: string;
  leaseSeconds?: number;
  /** At most this many running jobs (of all workers) touching one host; undefined: no limit. */
  perHost?: number;
  penalty?: number;
  now?: Date;
}

export interface Finish {
  sync: number;
  error?: string | null;
  bytesDone?: number | null;
  runPlanId?: string | null;
}

const iso = (v: string | Date | null | undefined): string | null => (v == null ? null : new Date(v).toISOString());

function jobOf(r: Row): Job {
  const sync = Number(r.sync);
  return {
    id: Number(r.id),
    name: r.name,
    kind: r.kind,
    priority: Number(r.priority),
    sync,
    state: stateOf(sync),
    blocks: r.blocks == null ? null : Number(r.blocks),
    files: r.files == null ? null : Number(r.files),
    spec: parseJobSpec(r.spec),
    pairId: r.pair_id,
    sourceHost: r.source_host,
    targetHost: r.target_host,
    attempts: Number(r.attempts),
    worker: r.worker,
    leaseUntil: iso(r.lease_until),
    cancelRequested: Boolean(r.cancel_requested),
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    bytesDone: r.bytes_done == null ? null : Number(r.bytes_done),
    bytesTotal: r.bytes_total == null ? null : Number(r.bytes_total),
    error: r.error,
    runPlanId: r.run_plan_id,
    after: r.after_job == null ? null : Number(r.after_job),
  };
}

const isUniqueViolation = (e: unknown) =>
  /UNIQUE constraint failed|duplicate key value|23505/i.test(String((e as Error)?.message ?? e) + String((e as { code?: string })?.code ?? ''));

export class JobQueue {
  constructor(readonly store: FleetStore) {}

  private get db() {
    return this.store.db;
  }

  /**
   * Adds a job. A pair with a job already available, running or paused is not queued again: that
   * job is returned with `added: false`.
   */
  async add(j: NewJob, now = new Date()): Promise<{ job: Job; added: boolean }> {
    const priority = j.priority ?? DEFAULT_PRIORITY;
    if (!validPriority(priority)) throw new JobError(`priority must be a whole number from 1 (first) to 10 (last), not ${priority}`);
    return this.db.transaction().execute(async (tx) => {
      if (j.pairId) {
        const existing = await activeOf(tx, j.pairId);
        if (existing) return { job: existing, added: false };
      }
      try {
        const row = await tx
          .insertInto('jobs')
          .values({
            name: j.name,
            kind: j.kind ?? j.spec.kind,
            priority,
            sync: AVAILABLE,
            blocks: j.blocks ?? null,
            files: j.files ?? null,
            spec: JSON.stringify(j.spec),
            pair_id: j.pairId ?? null,
            source_host: j.sourceHost ?? null,
            target_host: j.targetHost ?? null,
            attempts: 0,
            worker: null,
            lease_until: null,
            cancel_requested: this.store.kind === 'sqlite' ? 0 : false,
            created_at: now.toISOString(),
            bytes_total: j.bytesTotal ?? null,
            after_job: j.after ?? null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return { job: jobOf(row), added: true };
      } catch (e) {
        // Another process queued the same pair between our check and our insert (PostgreSQL's read committed).
        if (j.pairId && isUniqueViolation(e)) {
          const existing = await activeOf(this.db, j.pairId);
          if (existing) return { job: existing, added: false };
        }
        throw e;
      }
    });
  }

  async get(id: number): Promise<Job> {
    const r = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new JobError(`no job ${id} in the queue`);
    return jobOf(r);
  }

  /** Jobs in claim order within each state (running, available, paused, then finished newest first). */
  async list(q: { state?: JobState; limit?: number; penalty?: number } = {}): Promise<Job[]> {
    let query = this.db.selectFrom('jobs').selectAll();
    if (q.state) {
      const c = syncCodesOf(q.state);
      if (c.eq !== undefined) query = query.where('sync', '=', c.eq);
      else query = query.where('sync', '>', 0).where('sync', '!=', EXIT.cancelled);
    }
    const penalty = q.penalty ?? DEFAULT_FILE_PENALTY;
    const rows = await query
      .orderBy(sql`CASE WHEN sync = ${RUNNING} THEN 0 WHEN sync = ${AVAILABLE} THEN 1 WHEN sync = ${PAUSED} THEN 2 ELSE 3 END`)
      .orderBy(sql`CASE WHEN sync IN (${AVAILABLE}, ${PAUSED}) THEN priority ELSE 0 END`)
      .orderBy(sql`CASE WHEN sync IN (${AVAILABLE}, ${PAUSED}) THEN coalesce(blocks, 0) + coalesce(files, 0) * ${penalty} ELSE 0 END`)
      .orderBy('finished_at', 'desc')
      .orderBy('id')
      .limit(q.limit ?? 1000)
      .execute();
    const jobs = rows.map((r) => jobOf(r));
    // Which of the waiting ones still wait: their `after` job has not succeeded.
    const waiting = jobs.filter((j) => j.after !== null && (j.state === 'available' || j.state === 'paused'));
    if (waiting.length) {
      const ids = [...new Set(waiting.map((j) => j.after!))];
      const done = await this.db.selectFrom('jobs').select('id').where('id', 'in', ids).where('sync', '=', SUCCESS).execute();
      const succeeded = new Set(done.map((r) => Number(r.id)));
      for (const j of waiting) if (!succeeded.has(j.after!)) j.waitsFor = j.after!;
    }
    return jobs;
  }

  /**
   * Claims the next job for `worker`: the first available one by priority, then `blocks + files *
   * penalty`, then age, whose hosts have fewer than `perHost` running jobs. Leases that ran out are
   * expired first. Returns undefined when nothing can be claimed now.
   */
  async claim(o: ClaimOptions): Promise<Job | undefined> {
    const now = o.now ?? new Date();
    const lease = new Date(now.getTime() + (o.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000).toISOString();
    const penalty = o.penalty ?? DEFAULT_FILE_PENALTY;
    return this.db.transaction().execute(async (tx) => {
      if (this.store.kind === 'postgres') await sql`SELECT pg_advisory_xact_lock(${QUEUE_LOCK})`.execute(tx);
      await this.expireIn(tx, now);
      const running = o.perHost !== undefined ? await runningPerHost(tx) : new Map<string, number>();
      let q = tx
        .selectFrom('jobs')
        .selectAll()
        .where('sync', '=', AVAILABLE)
        // A job that waits for another (a migration's parent) is claimed once that one succeeded (or is gone).
        .where(({ or, eb, not, exists, selectFrom }) =>
          or([
            eb('jobs.after_job', 'is', null),
            not(exists(selectFrom('jobs as parent').select('parent.id').whereRef('parent.id', '=', 'jobs.after_job').where('parent.sync', '!=', SUCCESS))),
          ]),
        )
        .orderBy('priority')
        .orderBy(sql`coalesce(blocks, 0) + coalesce(files, 0) * ${penalty}`)
        .orderBy('id')
        .limit(o.perHost !== undefined ? 500 : 1);
      if (this.store.kind === 'postgres') q = q.forUpdate().skipLocked();
      const candidates = await q.execute();
      const fits = (r: Row) => o.perHost === undefined || [r.source_host, r.target_host].every((h) => h == null || (running.get(h) ?? 0) < o.perHost!);
      const pick = candidates.find(fits);
      if (!pick) return undefined;
      const row = await tx
        .updateTable('jobs')
        .set({
          sync: RUNNING,
          worker: o.worker,
          lease_until: lease,
          attempts: sql`attempts + 1`,
          started_at: now.toISOString(),
          finished_at: null,
          bytes_done: 0,
          error: null,
        })
        .where('id', '=', Number(pick.id))
        .where('sync', '=', AVAILABLE)
        .returningAll()
        .executeTakeFirst();
      return row ? jobOf(row) : undefined;
    });
  }

  /** Puts back the running jobs whose lease ran out (attempts kept: the claim counted them); a job cancelled meanwhile ends cancelled. */
  async expireLeases(now = new Date()): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      if (this.store.kind === 'postgres') await sql`SELECT pg_advisory_xact_lock(${QUEUE_LOCK})`.execute(tx);
      return this.expireIn(tx, now);
    });
  }

  private async expireIn(tx: Tx, now: Date): Promise<number> {
    const t = now.toISOString();
    const expired = await tx.selectFrom('jobs').selectAll().where('sync', '=', RUNNING).where('lease_until', '<', t).execute();
    for (const r of expired) {
      const was = `its worker ${r.worker ?? '?'} stopped renewing its lease (due ${iso(r.lease_until)})`;
      const [sync, error] = r.cancel_requested
        ? [EXIT.cancelled, `cancelled; ${was}`]
        : Number(r.attempts) >= MAX_ATTEMPTS
          ? [EXIT.gaveUp, `gave up after ${r.attempts} attempts: ${was}`]
          : [AVAILABLE, `attempt ${r.attempts}: ${was}; back in the queue`];
      await tx
        .updateTable('jobs')
        .set({ sync, error, worker: null, lease_until: null, ...(sync !== AVAILABLE ? { finished_at: t } : {}) })
        .where('id', '=', Number(r.id))
        .where('sync', '=', RUNNING)
        .execute();
    }
    return expired.length;
  }

  /**
   * The worker still runs the job: extends its lease and records the bytes done. Returns `lost` when
   * the job is no longer this worker's (its lease expired and it was put back or claimed again):
   * the worker must stop at once. `cancel`: an operator asked to cancel it.
   */
  async renew(
    id: number,
    worker: string,
    o: { leaseSeconds?: number; bytesDone?: number; bytesTotal?: number; now?: Date } = {},
  ): Promise<'ok' | 'cancel' | 'lost'> {
    const now = o.now ?? new Date();
    const lease = new Date(now.getTime() + (o.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000).toISOString();
    const row = await this.db
      .updateTable('jobs')
      .set({
        lease_until: lease,
        ...(o.bytesDone !== undefined ? { bytes_done: o.bytesDone } : {}),
        ...(o.bytesTotal !== undefined ? { bytes_total: o.bytesTotal } : {}),
      })
      .where('id', '=', id)
      .where('worker', '=', worker)
      .where('sync', '=', RUNNING)
      .returning('cancel_requested')
      .executeTakeFirst();
    if (!row) return 'lost';
    return row.cancel_requested ? 'cancel' : 'ok';
  }

  /** Records how the job ended; false when it was no longer this worker's (nothing recorded). */
  async finish(id: number, worker: string, f: Finish, now = new Date()): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({
        sync: f.sync,
        error: f.error ?? null,
        finished_at: now.toISOString(),
        lease_until: null,
        ...(f.bytesDone != null ? { bytes_done: f.bytesDone } : {}),
        ...(f.runPlanId != null ? { run_plan_id: f.runPlanId } : {}),
      })
      .where('id', '=', id)
      .where('worker', '=', worker)
      .where('sync', '=', RUNNING)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** The worker stops (SIGTERM) before the job ended: back to available for the next worker (the attempt stays counted). */
  async release(id: number, worker: string, why: string): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({ sync: AVAILABLE, worker: null, lease_until: null, error: why })
      .where('id', '=', id)
      .where('worker', '=', worker)
      .where('sync', '=', RUNNING)
      .where('cancel_requested', '=', this.bool(false) as never)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return true;
    // Cancelled meanwhile: it ends cancelled, not back in the queue.
    await this.finish(id, worker, { sync: EXIT.cancelled, error: 'cancelled (queue cancel); its worker stopped' });
    return false;
  }

  // ---- the operator's controls: each says what it changed; an unknown id is an error ----

  /** Available -> paused (running jobs finish). `ids` empty: every available job. */
  pause(ids: number[]): Promise<Job[]> {
    return this.move(ids, [AVAILABLE], PAUSED, 'pause', 'only an available job can be paused (a running one finishes; cancel stops it)');
  }

  /** Paused -> available. */
  resume(ids: number[]): Promise<Job[]> {
    return this.move(ids, [PAUSED], AVAILABLE, 'resume', 'only a paused job can be resumed');
  }

  /** Failed or cancelled -> available (attempts kept). `ids` empty: every failed job. */
  async retry(ids: number[]): Promise<Job[]> {
    return this.db.transaction().execute(async (tx) => {
      const rows = await this.targets(tx, ids, { failed: true });
      for (const r of rows) {
        if (!(Number(r.sync) > 0)) throw new JobError(`job ${r.id} is ${stateOf(Number(r.sync))}: only a failed or cancelled job can be retried`);
        if (r.pair_id) {
          const other = await activeOf(tx, r.pair_id);
          if (other) throw new JobError(`job ${r.id}: its pair already has job ${other.id} (${other.state})`);
        }
      }
      return this.set(tx, rows, { sync: AVAILABLE, error: null, worker: null, finished_at: null, cancel_requested: this.bool(false) });
    });
  }

  /** Available or paused -> cancelled at once; running -> asked to cancel (its worker stops the run: the target stays at its previous snapshot). */
  async cancel(ids: number[]): Promise<Job[]> {
    if (!ids.length) throw new JobError('cancel which job? (queue cancel JOB)');
    return this.db.transaction().execute(async (tx) => {
      const rows = await this.targets(tx, ids, {});
      const out: Job[] = [];
      for (const r of rows) {
        const s = Number(r.sync);
        if (s === RUNNING) out.push(...(await this.set(tx, [r], { cancel_requested: this.bool(true) })));
        else if (s === AVAILABLE || s === PAUSED)
          out.push(...(await this.set(tx, [r], { sync: EXIT.cancelled, error: 'cancelled before it ran', finished_at: new Date().toISOString() })));
        else throw new JobError(`job ${r.id} is ${stateOf(s)}: only an available, paused or running job can be cancelled`);
      }
      return out;
    });
  }

  async prioritize(id: number, priority: number): Promise<Job> {
    if (!validPriority(priority)) throw new JobError(`priority must be a whole number from 1 (first) to 10 (last), not ${priority}`);
    return this.db.transaction().execute(async (tx) => {
      const rows = await this.targets(tx, [id], {});
      return (await this.set(tx, rows, { priority }))[0]!;
    });
  }

  /** When each pair's newest job was queued (pairs never queued are absent): what schedules compare with. */
  async lastQueued(pairIds: readonly string[]): Promise<Map<string, Date>> {
    const out = new Map<string, Date>();
    if (!pairIds.length) return out;
    const rows = await this.db
      .selectFrom('jobs')
      .select((eb) => ['pair_id', eb.fn.max('created_at').as('at')])
      .where('pair_id', 'in', [...pairIds])
      .groupBy('pair_id')
      .execute();
    for (const r of rows) if (r.pair_id && r.at) out.set(r.pair_id, new Date(r.at as string | Date));
    return out;
  }

  /** What is left: jobs and KB per state (the syncrestore queries' answers in one read). */
  async summary(): Promise<{ state: JobState; jobs: number; blocks: number; files: number }[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .select((eb) => ['sync', eb.fn.countAll().as('n'), eb.fn.sum<number>('blocks').as('b'), eb.fn.sum<number>('files').as('f')])
      .groupBy('sync')
      .execute();
    const by = new Map<JobState, { jobs: number; blocks: number; files: number }>();
    for (const r of rows) {
      const st = stateOf(Number(r.sync));
      const e = by.get(st) ?? { jobs: 0, blocks: 0, files: 0 };
      e.jobs += Number(r.n);
      e.blocks += Number(r.b ?? 0);
      e.files += Number(r.f ?? 0);
      by.set(st, e);
    }
    return [...by].map(([state, e]) => ({ state, ...e }));
  }

  private bool(b: boolean): boolean | number {
    return this.store.kind === 'sqlite' ? (b ? 1 : 0) : b;
  }

  private async move(ids: number[], from: number[], to: number, verb: string, rule: string): Promise<Job[]> {
    return this.db.transaction().execute(async (tx) => {
      const rows = await this.targets(tx, ids, { in: from });
      for (const r of rows) if (!from.includes(Number(r.sync))) throw new JobError(`cannot ${verb} job ${r.id}: it is ${stateOf(Number(r.sync))}; ${rule}`);
      return this.set(tx, rows, { sync: to });
    });
  }

  /** The rows named (each must exist), or, with no ids, the rows whose `sync` `none` selects (every failed one, every available one). */
  private async targets(tx: Tx, ids: number[], none: { in?: number[]; failed?: true }): Promise<Row[]> {
    if (ids.length === 0) {
      let q = tx.selectFrom('jobs').selectAll();
      if (none.in) q = q.where('sync', 'in', none.in);
      if (none.failed) q = q.where('sync', '>', 0).where('sync', '!=', EXIT.cancelled);
      if (!none.in && !none.failed) throw new JobError('which job? (give its number)');
      return await q.execute();
    }
    const rows = await tx.selectFrom('jobs').selectAll().where('id', 'in', ids).execute();
    const missing = ids.filter((id) => !rows.some((r) => Number(r.id) === id));
    if (missing.length) throw new JobError(`no job ${missing.join(', ')} in the queue`);
    return rows;
  }

  private async set(tx: Tx, rows: Row[], values: Partial<Record<keyof Row, unknown>>): Promise<Job[]> {
    if (!rows.length) return [];
    const updated = await tx
      .updateTable('jobs')
      .set(values as never)
      .where(
        'id',
        'in',
        rows.map((r) => Number(r.id)),
      )
      .returningAll()
      .execute();
    return updated.map(jobOf).sort((a, b) => a.id - b.id);
  }
}

async function activeOf(db: Pick<Tx, 'selectFrom'>, pairId: string): Promise<Job | undefined> {
  const r = await db.selectFrom('jobs').selectAll().where('pair_id', '=', pairId).where('sync', 'in', [AVAILABLE, RUNNING, PAUSED]).executeTakeFirst();
  return r ? jobOf(r) : undefined;
}

/** Running jobs per host (a job touches its source and its target host; one host twice counts once). */
async function runningPerHost(tx: Tx): Promise<Map<string, number>> {
  const rows = await tx.selectFrom('jobs').select(['source_host', 'target_host']).where('sync', '=', RUNNING).execute();
  const m = new Map<string, number>();
  for (const r of rows) for (const h of new Set([r.source_host, r.target_host])) if (h) m.set(h, (m.get(h) ?? 0) + 1);
  return m;
}
