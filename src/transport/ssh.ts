/**
 * Run commands on a host over SSH (ssh2), one shared connection per runner.
 *
 * - The connection is opened on the first run() and shared; at most `maxChannels` exec channels are
 *   open at once, later commands wait in a queue.
 * - Host keys are verified before authentication in ssh2's `hostVerifier` (raw key, no `hostHash`)
 *   against known_hosts; an unknown key goes to the injected callback; a changed or revoked key is
 *   refused. Every connection (each jump host too) goes through the same verifier: there is no
 *   option to skip it.
 * - Authentication: "none" (to learn the server's methods), then the ssh-agent, then identity files.
 *   Identity files are offered like OpenSSH does: the public key first, the passphrase is asked
 *   only when the server is willing to accept that key (implemented as a small in-process agent per
 *   file, so ssh2 queries with the public key and asks us to sign afterwards).
 * - ProxyJump: each hop is connected (and verified) in turn and the next connection runs over a
 *   `forwardOut` channel of the previous one.
 * - A dropped connection fails the commands in flight with 'disconnected'; the next run() reconnects.
 */
import type { Duplex } from 'node:stream';
import * as fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { BaseAgent, Client, OpenSSHAgent, utils as sshUtils } from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, ClientChannel, ConnectConfig, NextAuthHandler, ParsedKey } from 'ssh2';
import type { Logger } from '../core/log.js';
import { silentLogger } from '../core/log.js';
import { shellJoin } from '../core/zfs/quote.js';
import { appendKnownHost, knownHostsName, knownKeyTypes, keyTypeOf, parseRevokedKeys, verifyHostKey } from './knownHosts.js';
import { endAndWait, isReadable } from './local.js';
import { RunnerError, type RunOptions, type RunResult, type Runner } from '../core/runner.js';
import { connectionChain, type SshTarget } from './sshConfig.js';

export interface UnknownHostKeyInfo {
  /** The name looked up in known_hosts (HostName, or HostKeyAlias). */
  host: string;
  port: number;
  keyType: string;
  /** `SHA256:...` as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  /** known_hosts trusts a certificate authority for this host (`file:line` of the @cert-authority line): host certificates are not verified here, say so. */
  certAuthority?: string;
}

export type HostKeyDecision = 'once' | 'save' | 'cancel';

export interface PassphraseRequest {
  keyPath: string;
  /** 1 for the first question; 2 and 3 after a wrong passphrase. */
  attempt: number;
}

export interface SshCallbacks {
  /** An unknown host key: 'save' appends it to the first UserKnownHostsFile, 'once' trusts it for this process. */
  onUnknownHostKey: (info: UnknownHostKeyInfo) => Promise<HostKeyDecision>;
  /** The passphrase of an encrypted key the server is willing to accept; undefined skips that key. */
  getPassphrase: (req: PassphraseRequest) => Promise<string | undefined>;
  /** Called after a login succeeded with a key unlocked by this passphrase (to offer keeping it). */
  onPassphraseAccepted?: (keyPath: string, passphrase: string) => void | Promise<void>;
}

export interface SshRunnerOptions extends SshCallbacks {
  logger?: Logger;
  /** Concurrent exec channels on the connection; more commands wait. Default 8 (sshd's MaxSessions is 10). */
  maxChannels?: number;
  /** The runner's label (default: the target's alias). */
  label?: string;
  /** Keys accepted "once"; by default shared by all runners of this process. */
  sessionHostKeys?: SessionHostKeys;
  /** Signal sent to the remote command on timeout or abort, before its channel is closed. Default TERM. */
  killSignal?: string;
}

/** Host keys the user accepted for this process only ('once'). */
export class SessionHostKeys {
  private readonly keys = new Map<string, Buffer[]>();
  has(host: string, port: number, key: Buffer): boolean {
    return (this.keys.get(knownHostsName(host, port)) ?? []).some((k) => k.equals(key));
  }
  add(host: string, port: number, key: Buffer): void {
    const name = knownHostsName(host, port);
    const list = this.keys.get(name) ?? [];
    if (!list.some((k) => k.equals(key))) list.push(Buffer.from(key));
    this.keys.set(name, list);
  }
  clear(): void {
    this.keys.clear();
  }
}

/** The process-wide memory of keys accepted once. */
export const processHostKeys = new SessionHostKeys();

// ---------------------------------------------------------------------------------------------
// Small helpers

/** A one-shot timer that can be paused while a person answers a question. */
class PausableTimer {
  private handle: NodeJS.Timeout | undefined;
  private remaining: number;
  private startedAt = 0;
  private pauses = 0;
  private done = false;
  constructor(
    ms: number,
    private readonly fire: () => void,
  ) {
    this.remaining = ms;
    if (ms > 0) this.start();
    else this.done = true;
  }
  private start(): void {
    this.startedAt = Date.now();
    this.handle = setTimeout(() => {
      this.done = true;
      this.fire();
    }, this.remaining);
  }
  pause(): void {
    if (this.done) return;
    if (this.pauses++ === 0 && this.handle) {
      clearTimeout(this.handle);
      this.handle = undefined;
      this.remaining = Math.max(0, this.remaining - (Date.now() - this.startedAt));
    }
  }
  resume(): void {
    if (this.done || this.pauses === 0) return;
    if (--this.pauses === 0) this.start();
  }
  clear(): void {
    this.done = true;
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
  }
}

class Semaphore {
  active = 0;
  private readonly waiters: (() => void)[] = [];
  private releaseListeners: (() => void)[] = [];
  constructor(private readonly max: number) {}
  /** Resolves the next time a slot is released. */
  nextRelease(): Promise<void> {
    return new Promise((resolve) => this.releaseListeners.push(resolve));
  }
  /** Resolves with a release function; rejects if `cancelled` rejects first. */
  acquire(cancelled: Promise<never>): Promise<() => void> {
    const makeRelease = () => {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        this.active--;
        const listeners = this.releaseListeners;
        this.releaseListeners = [];
        for (const l of listeners) l();
        const next = this.waiters.shift();
        if (next) next();
      };
    };
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(makeRelease());
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        this.active++;
        resolve(makeRelease());
      };
      this.waiters.push(grant);
      cancelled.catch((e: unknown) => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(e);
        }
      });
    });
  }
  get queued(): number {
    return this.waiters.length;
  }
}

/** Timeout and abort of one run(), as a promise that rejects with the RunnerError. */
class Cancellation {
  readonly promise: Promise<never>;
  private rejectFn!: (e: RunnerError) => void;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((e: RunnerError) => void)[] = [];
  error: RunnerError | undefined;
  constructor(
    private readonly signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    private readonly what: string,
    private readonly host: string,
  ) {
    this.promise = new Promise<never>((_, reject) => {
      this.rejectFn = reject;
    });
    this.promise.catch(() => {});
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(() => this.fire(new RunnerError('timeout', `${what} on ${host} timed out after ${timeoutMs} ms`, host)), timeoutMs);
    }
    if (signal) signal.addEventListener('abort', this.onAbort, { once: true });
  }
  private readonly onAbort = () => this.fire(new RunnerError('aborted', `${this.what} on ${this.host} was aborted`, this.host));
  private fire(e: RunnerError): void {
    if (this.error) return;
    this.error = e;
    this.dispose();
    this.rejectFn(e);
    for (const l of this.listeners.splice(0)) l(e);
  }
  onFire(l: (e: RunnerError) => void): void {
    if (this.error) l(this.error);
    else this.listeners.push(l);
  }
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

function where(t: SshTarget): string {
  return t.port === 22 ? `${t.user}@${t.hostName}` : `${t.user}@${t.hostName}:${t.port}`;
}

function hostPort(t: SshTarget): string {
  return t.hostName.includes(':') ? `[${t.hostName}]:${t.port}` : `${t.hostName}:${t.port}`;
}

const SOCKET_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (ECONNREFUSED)',
  ENOTFOUND: 'host name not found (ENOTFOUND)',
  EAI_AGAIN: 'host name lookup failed (EAI_AGAIN)',
  EHOSTUNREACH: 'host unreachable (EHOSTUNREACH)',
  ENETUNREACH: 'network unreachable (ENETUNREACH)',
  ETIMEDOUT: 'connection timed out (ETIMEDOUT)',
  ECONNRESET: 'connection reset by peer (ECONNRESET)',
};

const DEFAULT_HOST_KEY_ALGOS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** Put the algorithms of the key types already known for the host first (as OpenSSH does), so that a
 * server with several host keys presents the one we know. */
export function orderHostKeyAlgorithms(knownTypes: readonly string[]): string[] {
  const first: string[] = [];
  for (const t of knownTypes) {
    const algos = t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t];
    for (const a of algos) if (DEFAULT_HOST_KEY_ALGOS.includes(a) && !first.includes(a)) first.push(a);
  }
  return [...first, ...DEFAULT_HOST_KEY_ALGOS.filter((a) => !first.includes(a))];
}

// ---------------------------------------------------------------------------------------------
// Keys

function isEncryptedKeyError(e: Error): boolean {
  return /encrypted/i.test(e.message) && /no passphrase/i.test(e.message);
}

function isBadPassphraseError(e: Error): boolean {
  return /bad passphrase|integrity check failed|bad decrypt|wrong passphrase/i.test(e.message);
}

/** The public key blob stored unencrypted in an `openssh-key-v1` private key file. */
export function opensshPrivateKeyPublicBlob(text: string): Buffer | undefined {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!m) return undefined;
  const buf = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (buf.subarray(0, magic.length).toString('latin1') !== magic) return undefined;
  let off = magic.length;
  const readString = (): Buffer | undefined => {
    if (off + 4 > buf.length) return undefined;
    const len = buf.readUInt32BE(off);
    off += 4;
    if (off + len > buf.length) return undefined;
    const s = buf.subarray(off, off + len);
    off += len;
    return s;
  };
  if (!readString() || !readString() || !readString()) return undefined; // cipher, kdf, kdf options
  if (off + 4 > buf.length) return undefined;
  const n = buf.readUInt32BE(off);
  off += 4;
  if (n < 1) return undefined;
  return readString();
}

function parsePublic(data: Buffer | string): ParsedKey | undefined {
  const k = sshUtils.parseKey(data);
  if (k instanceof Error) return undefined;
  return Array.isArray(k) ? (k[0] as ParsedKey) : k;
}

/** The public key of an identity file, without asking anything: `.pub` file, unencrypted key, or openssh-key-v1 header. */
export function identityPublicKey(keyPath: string): ParsedKey | undefined {
  try {
    const pub = parsePublic(fs.readFileSync(keyPath + '.pub'));
    if (pub) return pub;
  } catch {
    // no .pub
  }
  let text: Buffer;
  try {
    text = fs.readFileSync(keyPath);
  } catch {
    return undefined;
  }
  const k = parsePublic(text);
  if (k) return k;
  const blob = opensshPrivateKeyPublicBlob(text.toString('latin1'));
  return blob ? parsePublic(blob) : undefined;
}

type SignCb = (err?: Error | null, signature?: Buffer) => void;

interface AuthContext {
  callbacks: SshCallbacks;
  logger: Logger;
  timer: PausableTimer;
  keyCache: Map<string, ParsedKey>;
  /** Set by a key file agent when it signs (for onPassphraseAccepted after success). */
  lastSigner?: KeyFileAgent;
}

/** An ssh-agent that only offers the keys of the configured identity files (IdentitiesOnly), and records what it offered. */
class RecordingAgent extends BaseAgent<ParsedKey> {
  private readonly inner: OpenSSHAgent;
  offered: ParsedKey[] = [];
  status = 'not used';
  constructor(
    readonly socketPath: string,
    private readonly only: Buffer[] | undefined,
  ) {
    super();
    this.inner = new OpenSSHAgent(socketPath);
  }
  getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    this.inner.getIdentities((err, keys) => {
      if (err || !keys) {
        this.status = `unavailable (${err?.message ?? 'no answer'})`;
        return cb(err ?? new Error('ssh-agent gave no keys'));
      }
      let list = keys.map((k) => parsePublic(k as unknown as Buffer) ?? (k as ParsedKey));
      if (this.only) list = list.filter((k) => this.only!.some((b) => b.equals(k.getPublicSSH())));
      this.offered = list;
      this.status = `${list.length} key${list.length === 1 ? '' : 's'} offered, none accepted`;
      cb(undefined, list);
    });
  }
  sign(pubKey: ParsedKey, data: Buffer, options: unknown, cb?: SignCb): void {
    const callback = (typeof options === 'function' ? options : cb) as SignCb;
    const opts = typeof options === 'object' && options !== null ? options : {};
    this.inner.sign(pubKey, data, opts, callback);
  }
}

/** One identity file as an in-process agent: offers its public key, unlocks it only when asked to sign. */
class KeyFileAgent extends BaseAgent<ParsedKey> {
  status = 'not tried';
  publicBlob: Buffer | undefined;
  private privateKey: ParsedKey | undefined;
  private data: Buffer | undefined;
  /** The passphrase that unlocked the key in this login (cleared once reported). */
  acceptedPassphrase: string | undefined;
  constructor(
    readonly keyPath: string,
    private readonly ctx: AuthContext,
  ) {
    super();
    const cached = ctx.keyCache.get(keyPath);
    if (cached) {
      this.privateKey = cached;
      this.publicBlob = cached.getPublicSSH();
    } else {
      this.publicBlob = identityPublicKey(keyPath)?.getPublicSSH();
    }
  }

  getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    this.identities().then(
      (keys) => cb(undefined, keys),
      (e: Error) => cb(e),
    );
  }

  private async identities(): Promise<ParsedKey[]> {
    if (this.privateKey) {
      this.status = 'offered, not accepted by the server';
      return [this.privateKey];
    }
    try {
      this.data = await fs.promises.readFile(this.keyPath);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      this.status = code === 'ENOENT' ? 'not found' : `unreadable (${code ?? (e as Error).message})`;
      return [];
    }
    const parsed = sshUtils.parseKey(this.data);
    if (!(parsed instanceof Error)) {
      const k = (Array.isArray(parsed) ? parsed[0] : parsed) as ParsedKey;
      if (!k.isPrivateKey()) {
        this.status = 'not a private key';
        return [];
      }
      this.privateKey = k;
      this.status = 'offered, not accepted by the server';
      return [k];
    }
    if (!isEncryptedKeyError(parsed)) {
      this.status = `unsupported key (${parsed.message})`;
      return [];
    }
    const pub = identityPublicKey(this.keyPath);
    if (pub) {
      this.status = 'offered, not accepted by the server';
      return [pub];
    }
    // An encrypted key whose public half we cannot read (old PEM format without .pub): unlock first.
    const k = await this.unlock();
    if (!k) return [];
    this.status = 'offered, not accepted by the server';
    return [k];
  }

  private async unlock(): Promise<ParsedKey | undefined> {
    if (this.privateKey) return this.privateKey;
    if (!this.data) return undefined;
    this.ctx.timer.pause();
    try {
      for (let attempt = 1; attempt <= 3; attempt++) {
        let pass: string | undefined;
        try {
          pass = await this.ctx.callbacks.getPassphrase({ keyPath: this.keyPath, attempt });
        } catch (e) {
          this.status = `passphrase prompt failed (${(e as Error).message})`;
          return undefined;
        }
        if (pass === undefined) {
          this.status = 'skipped (no passphrase given)';
          return undefined;
        }
        const k = sshUtils.parseKey(this.data, pass);
        if (k instanceof Error) {
          if (isBadPassphraseError(k)) {
            this.status = `wrong passphrase (${attempt} attempt${attempt === 1 ? '' : 's'})`;
            this.ctx.logger.debug(`ssh: wrong passphrase for ${this.keyPath} (attempt ${attempt})`);
            continue;
          }
          this.status = `cannot decrypt (${k.message})`;
          return undefined;
        }
        this.privateKey = (Array.isArray(k) ? k[0] : k) as ParsedKey;
        this.acceptedPassphrase = pass;
        this.ctx.logger.debug(`ssh: unlocked ${this.keyPath}`);
        return this.privateKey;
      }
      return undefined;
    } finally {
      this.ctx.timer.resume();
    }
  }

  sign(_pubKey: ParsedKey, data: Buffer, options: unknown, cb?: SignCb): void {
    const callback = (typeof options === 'function' ? options : cb) as SignCb;
    const hash = typeof options === 'object' && options !== null ? (options as { hash?: string }).hash : undefined;
    this.unlock().then(
      (key) => {
        if (!key) return callback(new Error(`${this.keyPath}: ${this.status}`));
        const sig = key.sign(data, hash) as Buffer | Error;
        if (sig instanceof Error) {
          this.status = `signing failed (${sig.message})`;
          return callback(sig);
        }
        this.status = 'accepted key, signature refused';
        this.ctx.lastSigner = this;
        callback(null, sig);
      },
      (e: Error) => callback(e),
    );
  }

  /** The unlocked key, for reuse on reconnect. */
  get unlocked(): ParsedKey | undefined {
    return this.privateKey;
  }
}

// ---------------------------------------------------------------------------------------------
// The runner

interface Connection {
  id: number;
  client: Client;
  clients: Client[];
  closed: boolean;
  /** Failure callbacks of the commands in flight. */
  inflight: Set<(e: RunnerError) => void>;
  /** Clients whose socket has closed. */
  closedClients: Set<Client>;
}

let nextConnectionId = 1;

export class SshRunner implements Runner {
  readonly label: string;
  private readonly logger: Logger;
  private readonly semaphore: Semaphore;
  private readonly sessionKeys: SessionHostKeys;
  private readonly keyCache = new Map<string, ParsedKey>();
  private conn: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  private generation = 0;
  private everConnected = false;

  constructor(
    readonly target: SshTarget,
    private readonly options: SshRunnerOptions,
  ) {
    this.label = options.label ?? target.alias;
    this.logger = options.logger ?? silentLogger;
    this.semaphore = new Semaphore(Math.max(1, options.maxChannels ?? 8));
    this.sessionKeys = options.sessionHostKeys ?? processHostKeys;
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new RunnerError('spawn', 'Cannot run an empty command', this.label);
    const what = argv[0]!;
    if (options.signal?.aborted) throw new RunnerError('aborted', `${what} on ${this.label} was aborted`, this.label);
    const cancel = new Cancellation(options.signal, options.timeoutMs, what, this.label);
    let reconnects = 0;
    let refusals = 0;
    try {
      for (;;) {
        const conn = await Promise.race([this.getConnection(), cancel.promise]);
        // exec() releases the slot when the channel has closed (or never opened).
        const release = await this.semaphore.acquire(cancel.promise);
        try {
          return await this.exec(conn, argv, options, cancel, release);
        } catch (e) {
          if (!(e instanceof NotStarted) || cancel.error) throw e instanceof NotStarted ? e.error : e;
          if (e.refused) {
            // The server would not open another session now: sshd counts a session until its process
            // is reaped (so MaxSessions is hit briefly), or its MaxSessions is below maxChannels.
            // While other commands run, wait for one to end (or a moment); alone, give up after a while.
            const busy = this.semaphore.active > 0;
            if (!busy && ++refusals > 8) throw e.error;
            const ms = Math.min(50 * 2 ** Math.min(refusals, 5), 1000);
            this.logger.debug(
              `ssh ${this.label}: server refused a session (${e.error.message}); retrying${busy ? ' when a command ends' : ''} in at most ${ms} ms`,
            );
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([new Promise((res) => (timer = setTimeout(res, ms))), this.semaphore.nextRelease(), cancel.promise]).finally(() =>
              clearTimeout(timer),
            );
            continue;
          }
          // The command never started because the connection had just died: reconnect once.
          if (++reconnects > 1) throw e.error;
          this.logger.debug(`ssh ${this.label}: connection was gone before ${what} started; reconnecting`);
        }
      }
    } finally {
      cancel.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.generation++;
    const conn = this.conn;
    this.conn = undefined;
    this.connecting = undefined;
    this.keyCache.clear();
    if (conn) await this.closeConnection(conn, new RunnerError('disconnected', `The connection to ${this.label} was closed`, this.label));
  }

  // -- connection ------------------------------------------------------------------------------

  private getConnection(): Promise<Connection> {
    if (this.conn && !this.conn.closed) return Promise.resolve(this.conn);
    if (!this.connecting) {
      const gen = this.generation;
      if (this.everConnected) this.logger.debug(`ssh ${this.label}: reconnecting`);
      const p = this.openConnection().then(
        (c) => {
          if (gen !== this.generation) {
            void this.closeConnection(c, new RunnerError('disconnected', `The connection to ${this.label} was closed`, this.label));
            throw new RunnerError('disconnected', `The connection to ${this.label} was closed while connecting`, this.label);
          }
          this.conn = c;
          this.everConnected = true;
          if (this.connecting === p) this.connecting = undefined;
          return c;
        },
        (e: unknown) => {
          if (this.connecting === p) this.connecting = undefined;
          throw e;
        },
      );
      this.connecting = p;
      p.catch(() => {});
    }
    return this.connecting;
  }

  /** Fail the commands in flight, end the clients (target first, then the jump hosts), wait until they are closed. */
  private closeConnection(conn: Connection, err: RunnerError): Promise<void> {
    if (!conn.closed) {
      conn.closed = true;
      this.logger.debug(`ssh ${this.label}: connection #${conn.id} closed`);
    }
    if (this.conn === conn) this.conn = undefined;
    for (const fail of [...conn.inflight]) fail(err);
    conn.inflight.clear();
    const waits = [...conn.clients].reverse().map(
      (c) =>
        new Promise<void>((resolve) => {
          if (conn.closedClients.has(c)) return resolve();
          const t = setTimeout(() => {
            c.destroy();
            resolve();
          }, 2000);
          t.unref();
          c.once('close', () => {
            clearTimeout(t);
            resolve();
          });
          try {
            c.end();
          } catch {
            clearTimeout(t);
            resolve();
          }
        }),
    );
    return Promise.all(waits).then(() => undefined);
  }

  private async openConnection(): Promise<Connection> {
    const chain = connectionChain(this.target);
    const clients: Client[] = [];
    let sock: Duplex | undefined;
    try {
      for (let i = 0; i < chain.length; i++) {
        const t = chain[i]!;
        const via = i > 0 ? chain[i - 1] : undefined;
        const client = await this.connectOne(t, sock, via);
        clients.push(client);
        if (i + 1 < chain.length) sock = await this.forward(client, t, chain[i + 1]!);
      }
    } catch (e) {
      for (const c of clients.reverse()) c.end();
      throw e;
    }
    const conn: Connection = {
      id: nextConnectionId++,
      client: clients[clients.length - 1]!,
      clients,
      closed: false,
      inflight: new Set(),
      closedClients: new Set(),
    };
    const lost = (why: string) => () => {
      if (conn.closed) return;
      this.logger.debug(`ssh ${this.label}: connection lost (${why})`);
      void this.closeConnection(conn, new RunnerError('disconnected', `The connection to ${this.label} was lost (${why})`, this.label));
    };
    clients.forEach((c, i) => {
      const name = i === clients.length - 1 ? this.label : `jump host ${chain[i]!.alias}`;
      c.once('close', () => conn.closedClients.add(c));
      c.on('close', lost(`${name} closed the connection`));
      c.on('error', (e: Error & { level?: string }) => {
        if (e.level === 'agent') return;
        this.logger.debug(`ssh ${this.label}: ${name}: ${e.message}`);
        if (e.level === 'client-timeout') lost(`${name} stopped answering keepalives`)();
      });
    });
    this.logger.debug(
      `ssh ${this.label}: connection #${conn.id} ready${
        chain.length > 1
          ? ` via ${chain
              .slice(0, -1)
              .map((h) => h.alias)
              .join(', ')}`
          : ''
      }`,
    );
    return conn;
  }

  private forward(client: Client, from: SshTarget, to: SshTarget): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      this.logger.debug(`ssh ${this.label}: jump host ${from.alias} opening ${hostPort(to)}`);
      client.forwardOut('127.0.0.1', 0, to.hostName, to.port, (err, stream) => {
        if (err) {
          reject(new RunnerError('connect', `Jump host ${from.alias} could not connect to ${hostPort(to)}: ${err.message}`, this.label, { cause: err }));
        } else resolve(stream);
      });
    });
  }

  /** Connect, verify the host key, authenticate: one hop or the target. */
  private async connectOne(t: SshTarget, sock: Duplex | undefined, via: SshTarget | undefined): Promise<Client> {
    const keyHost = t.hostKeyAlias ?? t.hostName;
    const keyPort = t.hostKeyAlias !== undefined ? 22 : t.port;
    const knownFiles = [...t.userKnownHostsFiles, ...t.globalKnownHostsFiles];
    const knownTypes = await knownKeyTypes(knownFiles, keyHost, keyPort);
    const viaText = via ? ` via ${via.alias}` : '';
    this.logger.debug(`ssh ${this.label}: connecting to ${where(t)}${viaText}`);

    return new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let settled = false;
      let hostKeyError: RunnerError | undefined;
      let lastError: (Error & { level?: string; code?: unknown }) | undefined;
      let authStarted = false;

      const fail = (e: RunnerError) => {
        if (settled) return;
        settled = true;
        timer.clear();
        try {
          client.destroy();
        } catch {
          // ignore
        }
        reject(e);
      };
      const timer = new PausableTimer(t.connectTimeoutMs, () =>
        fail(new RunnerError('connect', `Cannot connect to ${hostPort(t)}${viaText}: timed out after ${t.connectTimeoutMs / 1000} s`, this.label)),
      );
      const auth: AuthContext = { callbacks: this.options, logger: this.logger, timer, keyCache: this.keyCache };
      const plan = this.authPlan(t, auth);

      const mapError = (e: (Error & { level?: string; code?: unknown }) | undefined): RunnerError => {
        if (hostKeyError) return hostKeyError;
        const reason = e?.message ?? 'connection closed';
        if (e?.level === 'client-authentication' || (authStarted && /authentication/i.test(reason))) {
          return new RunnerError('auth', `Authentication to ${where(t)}${viaText} failed; tried: ${plan.describe()}`, this.label, { cause: e });
        }
        const code = typeof e?.code === 'string' ? e.code : undefined;
        const why = code && SOCKET_REASONS[code] ? SOCKET_REASONS[code] : reason;
        return new RunnerError('connect', `Cannot connect to ${hostPort(t)}${viaText}: ${why}`, this.label, { cause: e });
      };

      client.on('error', (e: Error & { level?: string; code?: unknown }) => {
        if (e.level === 'agent') {
          this.logger.debug(`ssh ${this.label}: agent: ${e.message}`);
          return;
        }
        lastError = e;
        if (!settled) fail(mapError(e));
      });
      client.on('close', () => {
        if (!settled) fail(mapError(lastError));
      });
      client.on('ready', () => {
        if (settled) {
          client.end();
          return;
        }
        settled = true;
        timer.clear();
        this.logger.debug(`ssh ${this.label}: authenticated to ${where(t)}${plan.used ? ` with ${plan.used}` : ''}`);
        const signer = auth.lastSigner;
        if (signer?.unlocked) this.keyCache.set(signer.keyPath, signer.unlocked);
        if (signer?.acceptedPassphrase !== undefined) {
          const pass = signer.acceptedPassphrase;
          signer.acceptedPassphrase = undefined;
          try {
            void Promise.resolve(this.options.onPassphraseAccepted?.(signer.keyPath, pass)).catch(() => {});
          } catch {
            // the UI's problem
          }
        }
        resolve(client);
      });

      const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
        timer.pause();
        this.checkHostKey(t, keyHost, keyPort, key).then(
          (err) => {
            timer.resume();
            if (err) {
              hostKeyError = err;
              verify(false);
            } else verify(true);
          },
          (e: unknown) => {
            timer.resume();
            hostKeyError =
              e instanceof RunnerError
                ? e
                : new RunnerError('hostkey-unknown', `Host key check for ${hostPort(t)} failed: ${(e as Error).message}`, this.label, { cause: e });
            verify(false);
          },
        );
        // Returning undefined tells ssh2 the answer comes through verify().
      };

      const config: ConnectConfig = {
        host: t.hostName,
        port: t.port,
        username: t.user,
        hostVerifier,
        authHandler: (methodsLeft: AuthenticationType[], _partial: boolean, next: NextAuthHandler) => {
          authStarted = true;
          plan.next(methodsLeft, next);
        },
        readyTimeout: 0, // our own timer, paused while a person answers
        keepaliveInterval: t.serverAliveIntervalMs,
        keepaliveCountMax: t.serverAliveCountMax,
        algorithms: { serverHostKey: orderHostKeyAlgorithms(knownTypes) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
      };
      if (sock) config.sock = sock as unknown as NonNullable<ConnectConfig['sock']>;
      try {
        client.connect(config);
        // TCP_NODELAY: without it each step of the login (service request, "none", the key offered,
        // the signature) waited for the server's delayed ACK (about 40 ms on Linux, Nagle's algorithm
        // holding our small packet): 0.17 s of a 0.25 s login on the lab, traced with ssh2's debug
        // log. (A jump host's channel has no socket option: ignored.)
        client.setNoDelay(true);
      } catch (e) {
        fail(new RunnerError('connect', `Cannot connect to ${hostPort(t)}${viaText}: ${(e as Error).message}`, this.label, { cause: e }));
      }
    });
  }

  /** undefined when the key may be used; otherwise the RunnerError that refuses it. */
  private async checkHostKey(t: SshTarget, host: string, port: number, key: Buffer): Promise<RunnerError | undefined> {
    const files = [...t.userKnownHostsFiles, ...t.globalKnownHostsFiles];
    const check = await verifyHostKey(files, host, port, key);
    const name = knownHostsName(host, port);
    const shown = port === 22 ? host : `[${host}]:${port}`;
    if (t.revokedHostKeys !== undefined) {
      let revoked: Buffer[] | 'krl';
      try {
        revoked = parseRevokedKeys(await fs.promises.readFile(t.revokedHostKeys));
      } catch (e) {
        return new RunnerError(
          'hostkey-changed',
          `RevokedHostKeys ${t.revokedHostKeys} cannot be read (${(e as Error).message}); refusing to connect to ${shown}, as OpenSSH does`,
          this.label,
        );
      }
      if (revoked === 'krl')
        return new RunnerError(
          'hostkey-changed',
          `RevokedHostKeys ${t.revokedHostKeys} is an OpenSSH KRL, which ZFS Fleet cannot read; refusing to connect to ${shown} rather than ignore it (list the revoked keys as public keys, one per line)`,
          this.label,
        );
      if (revoked.some((k) => k.equals(key)))
        return new RunnerError(
          'hostkey-changed',
          `The ${check.keyType} host key presented by ${shown} (${check.fingerprint}) is listed in RevokedHostKeys ${t.revokedHostKeys}; refusing to connect.`,
          this.label,
        );
    }
    switch (check.status) {
      case 'known':
        this.logger.debug(`ssh ${this.label}: host key of ${shown} (${check.keyType} ${check.fingerprint}) found in ${check.file}:${check.line}`);
        return undefined;
      case 'revoked':
        return new RunnerError(
          'hostkey-changed',
          `The ${check.keyType} host key presented by ${shown} (${check.fingerprint}) is marked @revoked in ${check.file}:${check.line}; refusing to connect. ` +
            `The host needs a new host key; remove the old entry with: ssh-keygen -R '${name}' -f '${check.file}'`,
          this.label,
        );
      case 'changed': {
        const known = (check.knownFingerprints ?? []).map((k) => `${k.keyType} ${k.fingerprint} (${k.file}:${k.line})`).join(', ');
        return new RunnerError(
          'hostkey-changed',
          `WARNING: the host key of ${shown} has changed. It presented ${check.keyType} ${check.fingerprint}, but known_hosts has ${known}. ` +
            `Someone could be intercepting the connection, or the host was reinstalled. Refusing to connect. ` +
            `If you have checked the new key on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), remove the old one with: ssh-keygen -R '${name}' -f '${check.file}' (line ${check.line}), then connect again.`,
          this.label,
        );
      }
      case 'unknown':
        break;
    }
    if (this.sessionKeys.has(host, port, key)) {
      this.logger.debug(`ssh ${this.label}: host key of ${shown} accepted earlier in this session`);
      return undefined;
    }
    let decision: HostKeyDecision;
    try {
      decision = await this.options.onUnknownHostKey({
        host,
        port,
        keyType: check.keyType,
        fingerprint: check.fingerprint,
        ...(check.certAuthority ? { certAuthority: check.certAuthority } : {}),
      });
    } catch (e) {
      return new RunnerError(
        'hostkey-unknown',
        `The host key of ${shown} (${check.keyType} ${check.fingerprint}) was not accepted: ${(e as Error).message}`,
        this.label,
        { cause: e },
      );
    }
    if (decision === 'save') {
      const file = t.userKnownHostsFiles[0];
      this.sessionKeys.add(host, port, key);
      if (file === undefined) {
        this.logger.warn(`ssh ${this.label}: no UserKnownHostsFile to save the host key of ${shown} in; trusting it for this session only`);
        return undefined;
      }
      try {
        await appendKnownHost(file, host, port, keyTypeOf(key), key.toString('base64'), { hashed: t.hashKnownHosts });
        this.logger.info(`ssh ${this.label}: added the ${check.keyType} host key of ${shown} (${check.fingerprint}) to ${file}`);
      } catch (e) {
        this.logger.warn(`ssh ${this.label}: could not save the host key of ${shown} to ${file} (${(e as Error).message}); trusting it for this session only`);
      }
      return undefined;
    }
    if (decision === 'once') {
      this.sessionKeys.add(host, port, key);
      this.logger.debug(`ssh ${this.label}: host key of ${shown} accepted for this session`);
      return undefined;
    }
    return new RunnerError('hostkey-unknown', `The host key of ${shown} (${check.keyType} ${check.fingerprint}) was not accepted`, this.label);
  }

  /** The ordered authentication attempts for one login: none, ssh-agent, identity files. */
  private authPlan(t: SshTarget, ctx: AuthContext) {
    const steps: { label: string; method: () => AnyAuthMethod | undefined; describe: () => string }[] = [];
    const identityAgents = t.identityFiles.map((f) => new KeyFileAgent(f, ctx));
    let agent: RecordingAgent | undefined;
    if (t.identityAgent) {
      const only = t.identitiesOnly ? identityAgents.map((a) => a.publicBlob).filter((b): b is Buffer => b !== undefined) : undefined;
      const a = new RecordingAgent(t.identityAgent, only);
      agent = a;
      steps.push({
        label: 'ssh-agent',
        method: () => ({ type: 'agent', username: t.user, agent: a }),
        describe: () => `ssh-agent ${a.socketPath}: ${a.status}`,
      });
    }
    for (const k of identityAgents) {
      steps.push({
        label: k.keyPath,
        method: () => {
          // A key the agent already offered was tried there.
          if (agent && k.publicBlob && agent.offered.some((o) => o.getPublicSSH().equals(k.publicBlob!))) {
            k.status = 'already offered by the ssh-agent';
            return undefined;
          }
          return { type: 'agent', username: t.user, agent: k };
        },
        describe: () => `${k.keyPath}: ${k.status}`,
      });
    }
    let index = -1; // -1: "none" not yet sent
    let serverMethods: AuthenticationType[] | undefined;
    let current: string | undefined;
    const logger = this.logger;
    const label = this.label;
    return {
      get used(): string | undefined {
        return current;
      },
      next(methodsLeft: AuthenticationType[] | null, next: NextAuthHandler): void {
        if (methodsLeft) serverMethods = methodsLeft;
        if (index === -1) {
          index = 0;
          current = 'none';
          next({ type: 'none', username: t.user });
          return;
        }
        if (serverMethods && !serverMethods.includes('publickey')) {
          logger.debug(`ssh ${label}: server offers only ${serverMethods.join(', ')}`);
          (next as unknown as (m: false) => void)(false);
          return;
        }
        while (index < steps.length) {
          const step = steps[index++]!;
          const m = step.method();
          if (m) {
            current = step.label;
            logger.debug(`ssh ${label}: trying ${step.label} for ${where(t)}`);
            next(m);
            return;
          }
        }
        (next as unknown as (m: false) => void)(false);
      },
      describe(): string {
        const parts = steps.map((s) => s.describe());
        if (parts.length === 0) parts.push('no ssh-agent and no identity files');
        if (serverMethods && !serverMethods.includes('publickey')) parts.push(`the server accepts only: ${serverMethods.join(', ')} (ZFS Fleet uses keys)`);
        else if (serverMethods) parts.push(`server methods: ${serverMethods.join(', ')}`);
        return parts.join('; ');
      },
    };
  }

  // -- commands --------------------------------------------------------------------------------

  /** Why a command's session channel did not open: NotStarted (run() reconnects or retries) or a RunnerError. */
  private openError(conn: Connection, err: Error, what: string): Error {
    if (conn.closed) {
      return new NotStarted(new RunnerError('disconnected', `The connection to ${this.label} was lost before ${what} started`, this.label, { cause: err }));
    }
    const reason = (err as Error & { reason?: unknown }).reason;
    const re = new RunnerError('connect', `${this.label}: cannot start ${what}: ${err.message}`, this.label, { cause: err });
    // OpenSSH answers a session it cannot create now (MaxSessions) with 2, "open failed";
    // 1 (administratively prohibited) and 4 (resource shortage) are retried too.
    return reason === 1 || reason === 2 || reason === 4 ? new NotStarted(re, true) : re;
  }

  private exec(conn: Connection, argv: readonly string[], options: RunOptions, cancel: Cancellation, release: () => void): Promise<RunResult> {
    const cmd = shellJoin(argv);
    const what = argv[0]!;
    this.logger.trace(`ssh ${this.label}: ${cmd}`);
    return new Promise<RunResult>((resolve, reject) => {
      const run = new ChannelRun({
        label: this.label,
        logger: this.logger,
        conn,
        what,
        options,
        killSignal: this.options.killSignal ?? 'TERM',
        release,
        resolve,
        reject,
      });
      cancel.onFire((e) => run.cancel(e));
      if (run.settled) return;
      try {
        conn.client.exec(cmd, (err, ch) => (err ? run.fail(this.openError(conn, err, what)) : run.attach(ch)));
      } catch (e) {
        // ssh2 throws synchronously when the socket is already gone.
        run.fail(new NotStarted(new RunnerError('disconnected', `The connection to ${this.label} was lost before ${what} started`, this.label, { cause: e })));
        void this.closeConnection(conn, new RunnerError('disconnected', `The connection to ${this.label} was lost`, this.label));
      }
    });
  }
}

interface ChannelRunSetup {
  label: string;
  logger: Logger;
  conn: Connection;
  /** The command's name, for messages. */
  what: string;
  options: RunOptions;
  killSignal: string;
  /** Frees the connection's channel slot. */
  release: () => void;
  resolve: (r: RunResult) => void;
  reject: (e: unknown) => void;
}

/**
 * One command on one exec channel: its stdout collected (or piped into `options.stdout` with
 * backpressure), its stderr decoded and handed on, its exit status; settled exactly once, with the
 * result or the first error (connection lost, cancelled, a stream failed, no exit status), and the
 * channel's slot released when the channel has closed.
 */
class ChannelRun {
  settled = false;
  private channel: ClientChannel | undefined;
  private readonly stdoutChunks: Buffer[] = [];
  private readonly decoder = new StringDecoder('utf8');
  private stderr = '';
  private exitCode: number | null | undefined;
  private exitSignal: string | undefined;
  private streamError: Error | undefined;

  constructor(private readonly s: ChannelRunSetup) {
    s.conn.inflight.add(this.onLost);
  }

  /** The connection went away: before the channel opened, run() may reconnect and retry (NotStarted). */
  private readonly onLost = (e: RunnerError): void => {
    this.fail(this.channel ? e : new NotStarted(e));
    this.s.release();
  };

  cancel(e: RunnerError): void {
    if (this.channel) killChannel(this.channel, this.s.killSignal);
    this.fail(e);
  }

  fail(e: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.cleanup();
    if (!this.channel) this.s.release();
    else setTimeout(this.s.release, 10_000).unref(); // normally released by the channel's 'close'
    this.s.reject(e);
  }

  private succeed(result: RunResult): void {
    if (this.settled) return;
    this.settled = true;
    this.cleanup();
    this.s.resolve(result);
  }

  private cleanup(): void {
    const { conn, options } = this.s;
    conn.inflight.delete(this.onLost);
    if (this.channel && options.stdout) this.channel.unpipe(options.stdout);
    if (this.channel && isReadable(options.stdin)) options.stdin.unpipe(this.channel);
  }

  /** The channel opened: wire its streams (a run settled meanwhile kills it). */
  attach(ch: ClientChannel): void {
    if (this.settled) {
      killChannel(ch, this.s.killSignal);
      return;
    }
    ch.on('close', this.s.release);
    this.channel = ch;
    ch.on('error', (e: Error) => this.s.logger.debug(`ssh ${this.s.label}: channel error: ${e.message}`));
    ch.on('exit', (code: number | null, signal?: string) => {
      this.exitCode = code ?? null;
      if (signal) this.exitSignal = signal;
    });
    ch.stderr.on('data', (c: Buffer) => this.addStderr(this.decoder.write(c)));
    this.wireStdout(ch);
    feedStdin(ch, this.s.options.stdin, (e) => {
      killChannel(ch, this.s.killSignal);
      this.fail(new RunnerError('aborted', `${this.s.what} on ${this.s.label}: reading its standard input failed: ${e.message}`, this.s.label, { cause: e }));
    });
    ch.on('close', () => this.closed(ch));
  }

  private addStderr(text: string): void {
    if (text === '') return;
    this.stderr += text;
    notify(this.s.options.onStderr, text);
  }

  private wireStdout(ch: ClientChannel): void {
    const dest = this.s.options.stdout;
    if (!dest) {
      ch.on('data', (c: Buffer) => this.stdoutChunks.push(c));
      return;
    }
    ch.pipe(dest, { end: false }); // pipe(): backpressure; never end dest on a failure
    dest.on('error', (e: Error) => {
      this.streamError ??= e;
      killChannel(ch, this.s.killSignal);
      this.fail(e);
    });
  }

  /** The channel closed: the result, once the exit status is known and a piped stdout has taken everything. */
  private closed(ch: ClientChannel): void {
    if (this.settled) return;
    const { conn, label, what, options } = this.s;
    if (this.exitCode === undefined) {
      this.fail(
        new RunnerError(
          'disconnected',
          conn.closed ? `The connection to ${label} was lost while ${what} ran` : `${what} on ${label} ended without an exit status`,
          label,
        ),
      );
      return;
    }
    this.addStderr(this.decoder.end());
    const dest = options.stdout;
    const result: RunResult = { exitCode: this.exitCode, stdout: dest ? '' : Buffer.concat(this.stdoutChunks).toString('utf8'), stderr: this.stderr };
    if (this.exitSignal) result.exitSignal = this.exitSignal;
    if (!dest) {
      this.succeed(result);
      return;
    }
    ch.unpipe(dest);
    endAndWait(dest).then(
      () => this.succeed(result),
      (e: unknown) => this.fail(this.streamError ?? e),
    );
  }
}

/** Stops a remote command: its kill signal (where the server supports it), then its channel closed. */
function killChannel(ch: ClientChannel, signal: string): void {
  try {
    const c = ch as unknown as { outgoing?: { state?: string; id?: number }; _client?: { _protocol?: { signal?: (id: number, sig: string) => void } } };
    // ssh2's channel.signal() refuses once stdin is at EOF; the protocol allows it, so send it directly.
    if (c.outgoing?.state === 'open' || c.outgoing?.state === 'eof') {
      if (ch.writable) ch.signal(signal);
      else if (c.outgoing.id !== undefined) c._client?._protocol?.signal?.(c.outgoing.id, signal);
    }
  } catch {
    // not supported by this server
  }
  try {
    ch.close();
  } catch {
    // already closed
  }
}

/** A command's standard input: none (EOF at once), a string or Buffer, or a stream piped in (its error to onError). */
function feedStdin(ch: ClientChannel, input: RunOptions['stdin'], onError: (e: Error) => void): void {
  if (input === undefined) ch.end();
  else if (!isReadable(input)) ch.end(input);
  else {
    input.on('error', onError);
    input.pipe(ch);
  }
}

/** Hands stderr text to a consumer's callback: a bug of theirs must not break the stream. */
function notify(onStderr: ((text: string) => void) | undefined, text: string): void {
  try {
    onStderr?.(text);
  } catch {
    // the consumer's problem
  }
}

/** A command that did not start because the connection was gone: run() may reconnect and retry it. */
class NotStarted extends Error {
  constructor(
    readonly error: RunnerError,
    /** The server refused the session channel (rather than the connection being gone). */
    readonly refused = false,
  ) {
    super(error.message);
  }
}
