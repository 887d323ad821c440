/**
 * The PostgreSQL connection pool of the fleet store, made to outlive a restart of the server.
 *
 * A restart (or pg_terminate_backend) ends every session with FATAL 57P01. node-postgres then emits
 * 'error' on the pool for an idle client, and on the client itself for one that is checked out
 * between two statements; with no listener, Node throws it ("Unhandled 'error' event") and a worker
 * or an agent dies. Here both have a listener: the pool drops such a client (it is no longer
 * queryable) and the next statement gets a fresh connection. The statement that was running when
 * the session ended fails, and its caller decides (the worker claims again, renews again).
 *
 * A connection asked for while the server is away (refused, "starting up", "shutting down") is
 * asked for again, for a while, once the server has answered at least once: a restart takes a
 * second or two, and nothing was sent yet, so trying again is safe for any statement. A server that
 * never answered fails at once (`queue ls` against a wrong URL says so without waiting).
 */

/** The part of pg's Pool used here (pg.Pool satisfies it). */
export interface PgPoolLike<C> {
  connect(): Promise<C>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'connect', listener: (client: { on(event: 'error', listener: (err: Error) => void): unknown }) => void): unknown;
}

export interface PatientPoolOptions {
  /** How long a connection is asked for again while the server is away (after it answered once). */
  patienceMs?: number;
  /** Pause between two tries. */
  retryMs?: number;
  /** Told of each session the server ended and of each try that failed (nothing is thrown). */
  onConnectionLost?: (err: Error) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** The server went away or is not taking connections yet: codes of node's sockets and of PostgreSQL (class 57: operator intervention). */
export function isServerAway(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', '57P01', '57P02', '57P03'].includes(code)) return true;
  return /^Connection terminated( unexpectedly)?$/.test(String((e as Error)?.message ?? ''));
}

/** `pool` with listeners for the sessions the server ends, and a `connect` that waits out a restart. The shape kysely's PostgresDialect takes. */
export function patientPool<C>(pool: PgPoolLike<C>, o: PatientPoolOptions = {}): { connect(): Promise<C>; end(): Promise<void> } {
  const lost = (err: Error) => o.onConnectionLost?.(err);
  pool.on('error', lost);
  pool.on('connect', (client) => client.on('error', lost));
  const patienceMs = o.patienceMs ?? 20_000;
  const retryMs = o.retryMs ?? 250;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = o.now ?? Date.now;
  let answered = false;
  return {
    async connect() {
      const since = now();
      for (;;) {
        try {
          const c = await pool.connect();
          answered = true;
          return c;
        } catch (e) {
          if (!answered || !isServerAway(e) || now() - since >= patienceMs) throw e;
          lost(e as Error);
          await sleep(retryMs);
        }
      }
    },
    end: () => pool.end(),
  };
}
