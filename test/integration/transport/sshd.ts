/**
 * Throwaway OpenSSH servers for the transport tests: 127.0.0.1, a free high port, their own host key
 * and authorized_keys, `StrictModes no`. Each test file starts what it needs and stops it after.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env: opts.env ?? process.env, input: opts.input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Generate a key pair with ssh-keygen; returns the private key path. */
export function keygen(dir: string, name: string, type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519', passphrase = '', extra: string[] = []): string {
  const file = path.join(dir, name);
  sh('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', passphrase, '-C', `${name}@test`, '-f', file, ...extra]);
  return file;
}

/** `SHA256:...` of a public key file, as ssh-keygen -lf prints it. */
export function keygenFingerprint(pubFile: string): string {
  return sh('ssh-keygen', ['-lf', pubFile]).trim().split(/\s+/)[1]!;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`sshd did not start listening on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const SSHD = fs.existsSync('/usr/sbin/sshd') ? '/usr/sbin/sshd' : 'sshd';
export const LOCAL_USER = os.userInfo().username;

export interface SshdOptions {
  authorizedKeys: string[];
  hostKeyType?: 'ed25519' | 'ecdsa' | 'rsa';
  extraConfig?: string[];
  logLevel?: string;
}

export class TestSshd {
  proc: ChildProcess | undefined;
  port = 0;
  readonly dir: string;
  readonly hostKey: string;
  readonly configFile: string;
  readonly logFile: string;

  private constructor(private readonly opts: SshdOptions) {
    this.dir = tempDir('zf-sshd-');
    this.hostKey = keygen(this.dir, 'host_key', opts.hostKeyType ?? 'ed25519');
    this.configFile = path.join(this.dir, 'sshd_config');
    this.logFile = path.join(this.dir, 'sshd.log');
  }

  static async start(opts: SshdOptions): Promise<TestSshd> {
    // sshd refuses to start without its privilege separation directory (normally made by the init system).
    if (process.getuid?.() === 0 && !fs.existsSync('/run/sshd')) fs.mkdirSync('/run/sshd', { mode: 0o755, recursive: true });
    const s = new TestSshd(opts);
    s.port = await freePort();
    await s.launch();
    return s;
  }

  /** Add sshd_config lines (effective after restart()). */
  addConfig(...lines: string[]): void {
    (this.opts.extraConfig ??= []).push(...lines);
  }

  get hostKeyPub(): string {
    return this.hostKey + '.pub';
  }

  /** `[127.0.0.1]:port keytype base64` for a known_hosts file. */
  knownHostsLine(host = '127.0.0.1'): string {
    const [type, b64] = fs.readFileSync(this.hostKeyPub, 'utf8').trim().split(/\s+/);
    return `[${host}]:${this.port} ${type} ${b64}`;
  }

  private async launch(): Promise<void> {
    const authorized = path.join(this.dir, 'authorized_keys');
    fs.writeFileSync(authorized, this.opts.authorizedKeys.map((k) => fs.readFileSync(k.endsWith('.pub') ? k : k + '.pub', 'utf8').trim()).join('\n') + '\n');
    fs.writeFileSync(
      this.configFile,
      [
        `ListenAddress 127.0.0.1:${this.port}`,
        `HostKey ${this.hostKey}`,
        `AuthorizedKeysFile ${authorized}`,
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        `PidFile ${path.join(this.dir, 'sshd.pid')}`,
        `LogLevel ${this.opts.logLevel ?? 'VERBOSE'}`,
        ...(this.opts.extraConfig ?? []),
      ].join('\n') + '\n',
    );
    const log = fs.openSync(this.logFile, 'a');
    this.proc = spawn(SSHD, ['-D', '-e', '-f', this.configFile], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const exited = new Promise<never>((_, reject) =>
      this.proc!.once('exit', (code) => reject(new Error(`sshd exited (${code}): ${fs.readFileSync(this.logFile, 'utf8')}`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForPort(this.port, 10_000), exited]);
  }

  /** The per-connection sshd processes (children of the listener). */
  sessionPids(): number[] {
    const pid = this.proc?.pid;
    if (!pid) return [];
    const out: number[] = [];
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === pid) out.push(Number(d));
      } catch {
        // gone
      }
    }
    return out;
  }

  /** Kill the sshd processes serving the current connections (the listener stays). */
  killSessions(signal: NodeJS.Signals = 'SIGKILL'): number {
    const pids = this.sessionPids();
    for (const p of pids) {
      try {
        process.kill(p, signal);
      } catch {
        // gone
      }
    }
    return pids.length;
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    this.killSessions('SIGKILL');
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
    this.proc = undefined;
  }

  /** Stop and start again on the same port (existing sessions are killed). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  log(): string {
    return fs.readFileSync(this.logFile, 'utf8');
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An ssh-agent in the foreground on its own socket, stopped by pid. */
export class TestAgent {
  private constructor(
    readonly proc: ChildProcess,
    readonly socket: string,
    private readonly dir: string,
  ) {}

  static async start(): Promise<TestAgent> {
    const dir = tempDir('zf-agent-');
    const socket = path.join(dir, 'agent.sock');
    const proc = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    const end = Date.now() + 5000;
    while (!fs.existsSync(socket)) {
      if (Date.now() > end) throw new Error('ssh-agent did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    return new TestAgent(proc, socket, dir);
  }

  add(keyFile: string): void {
    sh('ssh-add', ['-q', keyFile], { env: { ...process.env, SSH_AUTH_SOCK: this.socket } });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      await new Promise<void>((resolve) => {
        this.proc.once('exit', () => resolve());
        this.proc.kill('SIGTERM');
      });
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
