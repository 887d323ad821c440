/** SshRunner against real OpenSSH servers started by the test (no dependency on any lab). */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/core/log.js';
import { createRunner } from '../../../src/transport/index.js';
import { RunnerError } from '../../../src/core/runner.js';
import { SessionHostKeys, SshRunner, type HostKeyDecision, type SshRunnerOptions, type UnknownHostKeyInfo } from '../../../src/transport/ssh.js';
import { resolveSshTarget } from '../../../src/transport/sshConfig.js';
import { keygen, keygenFingerprint, LOCAL_USER, sh, tempDir, TestAgent, TestSshd } from './sshd.js';

const logs: string[] = [];
const logger: Logger = {
  trace: () => {},
  debug: (m) => logs.push(m),
  info: (m) => logs.push(m),
  warn: (m) => logs.push(m),
  error: (m) => logs.push(m),
};

let work: string;
let clientKey: string;
let encKey: string;
let agentKey: string;
let strangerKey: string;
let server: TestSshd;

beforeAll(async () => {
  work = tempDir('zf-ssh-test-');
  clientKey = keygen(work, 'id_client');
  encKey = keygen(work, 'id_enc', 'ed25519', 'right horse battery');
  agentKey = keygen(work, 'id_agent', 'ecdsa');
  strangerKey = keygen(work, 'id_stranger');
  server = await TestSshd.start({ authorizedKeys: [clientKey, encKey, agentKey] });
});

afterAll(async () => {
  await server?.dispose();
  fs.rmSync(work, { recursive: true, force: true });
});

interface Setup {
  server?: TestSshd;
  keys?: string[];
  knownHosts?: string;
  /** Lines appended to the Host block. */
  extra?: string[];
  /** Whole extra config blocks. */
  moreConfig?: string;
}

/** A target through a Host block of config text, isolated from the real ~/.ssh and environment. */
function target(s: Setup = {}) {
  const srv = s.server ?? server;
  const kh = s.knownHosts ?? knownHostsWith([srv]);
  const keys = s.keys ?? [clientKey];
  const text = [
    'Host srv',
    '  HostName 127.0.0.1',
    `  Port ${srv.port}`,
    `  User ${LOCAL_USER}`,
    ...keys.map((k) => `  IdentityFile ${k}`),
    `  UserKnownHostsFile ${kh}`,
    '  IdentityAgent none',
    ...(s.extra ?? []),
    s.moreConfig ?? '',
  ].join('\n');
  return resolveSshTarget('srv', { configText: text, defaults: { homeDir: work, env: {}, globalKnownHostsFiles: [] } });
}

let khCount = 0;
function knownHostsWith(servers: TestSshd[]): string {
  const f = path.join(work, `known_hosts_${++khCount}`);
  fs.writeFileSync(f, servers.map((s) => s.knownHostsLine()).join('\n') + '\n');
  return f;
}

function emptyKnownHosts(): string {
  return path.join(work, `kh_empty_${++khCount}`, 'known_hosts'); // directory does not exist yet
}

function runner(t = target(), opts: Partial<SshRunnerOptions> = {}): SshRunner {
  return new SshRunner(t, {
    logger,
    sessionHostKeys: new SessionHostKeys(),
    onUnknownHostKey: async () => {
      throw new Error('unexpected host key question');
    },
    getPassphrase: async () => {
      throw new Error('unexpected passphrase question');
    },
    ...opts,
  });
}

async function expectRunnerError(p: Promise<unknown>, code: string): Promise<RunnerError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RunnerError);
    expect((e as RunnerError).code, (e as Error).message).toBe(code);
    return e as RunnerError;
  }
  throw new Error(`expected RunnerError ${code}, but it resolved`);
}

describe('SshRunner: commands', () => {
  let r: SshRunner;
  beforeAll(() => {
    r = runner();
  });
  afterAll(() => r.dispose());

  it('runs a command and returns stdout, stderr and the exit code', async () => {
    const chunks: string[] = [];
    const res = await r.run(['sh', '-c', 'echo hello; echo oops >&2; exit 3'], { onStderr: (c) => chunks.push(c) });
    expect(res).toEqual({ exitCode: 3, stdout: 'hello\n', stderr: 'oops\n' });
    expect(chunks.join('')).toBe('oops\n');
  });

  it('round-trips argv with spaces, quotes and shell characters exactly', async () => {
    const args = ['a b', "it's", '"dq"', '$HOME', '`id`', '$(id)', '*', '', ' lead', 'tab\there', 'semi;colon', 'back\\slash', 'ünïcødé', '-n'];
    const res = await r.run(['printf', '%s\\n', ...args]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toBe(args.map((a) => a + '\n').join(''));
  });

  it('reports a signal exit', async () => {
    const res = await r.run(['sh', '-c', 'kill -TERM $$']);
    expect(res.exitCode).toBeNull();
    expect(res.exitSignal).toBe('SIGTERM');
  });

  it('feeds stdin from a string, a Buffer and a stream', async () => {
    expect((await r.run(['cat'], { stdin: 'from a string\n' })).stdout).toBe('from a string\n');
    expect((await r.run(['cat'], { stdin: Buffer.from([0x61, 0x00, 0x62]) })).stdout).toBe('a\u0000b');
    const size = 8 * 1024 * 1024 + 123;
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 7) & 0xff;
    const res = await r.run(['sha256sum'], { stdin: Readable.from(chunk(data, 100_000)) });
    expect(res.stdout.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('gives a command without stdin an immediate end of file', async () => {
    const res = await r.run(['cat'], { timeoutMs: 5000 });
    expect(res).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('streams 50 MB of stdout into a slow Writable with backpressure and the exact byte count', async () => {
    const total = 50 * 1024 * 1024;
    let bytes = 0;
    let writes = 0;
    let maxBuffered = 0;
    const dest = new Writable({
      highWaterMark: 64 * 1024,
      write(c: Buffer, _enc, cb) {
        bytes += c.length;
        maxBuffered = Math.max(maxBuffered, this.writableLength);
        // Every 20th chunk is slow, so the channel has to stop and wait.
        if (++writes % 20 === 0) setTimeout(cb, 2);
        else cb();
      },
    });
    let finished = false;
    dest.on('finish', () => (finished = true));
    const res = await r.run(['head', '-c', String(total), '/dev/zero'], { stdout: dest });
    expect(res).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(bytes).toBe(total);
    expect(finished).toBe(true);
    // pipe() stops writing once the destination is over its highWaterMark: nothing piles up in it.
    expect(maxBuffered).toBeLessThanOrEqual(64 * 1024 + 2 * 1024 * 1024);
  }, 120_000);

  it('streams 50 MB of stdout to a Writable and matches the remote checksum', async () => {
    const total = 50 * 1024 * 1024;
    const file = path.join(work, 'big.bin');
    fs.writeFileSync(file, Buffer.alloc(0));
    execFileSync('sh', ['-c', `head -c ${total} /dev/urandom > ${file}`]);
    const expected = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    let bytes = 0;
    const hash = createHash('sha256');
    const dest = new Writable({
      write(c: Buffer, _enc, cb) {
        bytes += c.length;
        hash.update(c);
        setImmediate(cb);
      },
    });
    const res = await r.run(['cat', file], { stdout: dest });
    expect(res.exitCode).toBe(0);
    expect(bytes).toBe(total);
    expect(hash.digest('hex')).toBe(expected);
    fs.rmSync(file);
  }, 120_000);

  // sshd refuses "signal" requests on root logins ("session signalling requires privilege separation"),
  // so these tests use commands that write: once the channel is closed they die of SIGPIPE. That the
  // signal request is sent is checked against sshd's debug log below.
  it('times out: the run rejects with timeout and the remote command ends', async () => {
    const t0 = Date.now();
    await expectRunnerError(r.run(['sh', '-c', 'while :; do echo tick-31; sleep 0.05; done'], { timeoutMs: 300 }), 'timeout');
    expect(Date.now() - t0).toBeLessThan(3000);
    await waitUntilGone('tick-3[1]');
  });

  it('aborts through an AbortSignal', async () => {
    const ac = new AbortController();
    const p = r.run(['sh', '-c', 'while :; do echo tick-32; sleep 0.05; done'], { signal: ac.signal });
    setTimeout(() => ac.abort(), 300);
    await expectRunnerError(p, 'aborted');
    await waitUntilGone('tick-3[2]');
    await expectRunnerError(r.run(['true'], { signal: ac.signal }), 'aborted');
  });

  it('still works after timeouts and aborts (same connection)', async () => {
    expect((await r.run(['echo', 'ok'])).stdout).toBe('ok\n');
  });

  async function waitUntilGone(pattern: string): Promise<void> {
    for (let i = 0; i < 40; i++) {
      const res = await r.run(['pgrep', '-f', pattern]);
      if (res.exitCode === 1) return;
      await new Promise((res2) => setTimeout(res2, 100));
    }
    throw new Error(`remote "${pattern}" still runs after the channel was closed`);
  }
});

describe('SshRunner: channels', () => {
  let limited: TestSshd;
  beforeAll(async () => {
    limited = await TestSshd.start({ authorizedKeys: [clientKey], extraConfig: ['MaxSessions 2'] });
  });
  afterAll(() => limited.dispose());

  it('sends the kill signal request before closing the channel on timeout', async () => {
    const dbg = await TestSshd.start({ authorizedKeys: [clientKey], logLevel: 'DEBUG1' });
    const r = runner(target({ server: dbg }));
    try {
      // Connected first: the timeout must hit a running command, not a handshake slowed by a loaded machine.
      await r.run(['true']);
      await expectRunnerError(r.run(['sleep', '5'], { timeoutMs: 500 }), 'timeout');
      // sshd writes its debug log when it handles the request; on a loaded machine that can take a while.
      for (let i = 0; i < 50 && !/req signal/.test(dbg.log()); i++) await new Promise((res) => setTimeout(res, 100));
      expect(dbg.log()).toMatch(/req signal/);
    } finally {
      await r.dispose();
      await dbg.dispose();
    }
  });

  it('queues more parallel runs than maxChannels on one connection, and all complete', async () => {
    const r = runner(target({ server: limited }), { maxChannels: 2 });
    try {
      const t0 = Date.now();
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => r.run(['sh', '-c', `sleep 0.2; echo ${i}`])));
      expect(results.map((x) => x.stdout)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}\n`));
      // 10 commands, 2 at a time, 0.2 s each: at least 5 rounds.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
      // One connection only.
      expect(limited.log().match(/Accepted publickey/g)?.length).toBe(1);
    } finally {
      await r.dispose();
    }
  });
});

describe('SshRunner: a server allowing fewer sessions than maxChannels', () => {
  let one: TestSshd;
  beforeAll(async () => {
    one = await TestSshd.start({ authorizedKeys: [clientKey], extraConfig: ['MaxSessions 1'] });
  });
  afterAll(() => one.dispose());

  it('waits for a session instead of failing while a long command runs', async () => {
    const r = runner(target({ server: one }), { maxChannels: 4 });
    try {
      const long = r.run(['sh', '-c', 'sleep 1.5; echo long']);
      await new Promise((res) => setTimeout(res, 100));
      const short = await Promise.all([1, 2, 3].map((i) => r.run(['echo', String(i)])));
      expect(short.map((x) => x.stdout)).toEqual(['1\n', '2\n', '3\n']);
      expect((await long).stdout).toBe('long\n');
    } finally {
      await r.dispose();
    }
  });
});

describe('SshRunner: host keys', () => {
  it('asks about an unknown key with the fingerprint ssh-keygen prints; cancel refuses and writes nothing', async () => {
    const kh = emptyKnownHosts();
    const asked: UnknownHostKeyInfo[] = [];
    const r = runner(target({ knownHosts: kh }), {
      onUnknownHostKey: async (q) => {
        asked.push(q);
        return 'cancel';
      },
    });
    const e = await expectRunnerError(r.run(['true']), 'hostkey-unknown');
    expect(asked).toEqual([{ host: '127.0.0.1', port: server.port, keyType: 'ssh-ed25519', fingerprint: keygenFingerprint(server.hostKeyPub) }]);
    expect(e.message).toContain(keygenFingerprint(server.hostKeyPub));
    expect(fs.existsSync(kh)).toBe(false);
    await r.dispose();
  });

  for (const hashed of [false, true]) {
    it(`'save' writes a ${hashed ? 'hashed ' : ''}line that OpenSSH accepts with StrictHostKeyChecking=yes`, async () => {
      const kh = emptyKnownHosts();
      let asked = 0;
      const r = runner(target({ knownHosts: kh, extra: hashed ? ['  HashKnownHosts yes'] : [] }), {
        onUnknownHostKey: async () => {
          asked++;
          return 'save';
        },
      });
      expect((await r.run(['echo', 'saved'])).stdout).toBe('saved\n');
      await r.dispose();
      expect(asked).toBe(1);
      expect(fs.statSync(kh).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.dirname(kh)).mode & 0o777).toBe(0o700);
      const text = fs.readFileSync(kh, 'utf8');
      expect(text.startsWith(hashed ? '|1|' : `[127.0.0.1]:${server.port} ssh-ed25519 `)).toBe(true);
      const out = sh('ssh', [
        '-F',
        '/dev/null',
        '-o',
        `UserKnownHostsFile=${kh}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-i',
        clientKey,
        '-p',
        String(server.port),
        `${LOCAL_USER}@127.0.0.1`,
        'echo openssh-ok',
      ]);
      expect(out).toBe('openssh-ok\n');
      // And we now know it without asking.
      const r2 = runner(target({ knownHosts: kh }));
      expect((await r2.run(['true'])).exitCode).toBe(0);
      await r2.dispose();
    });
  }

  it("'once' trusts the key for the session without writing it", async () => {
    const kh = emptyKnownHosts();
    const session = new SessionHostKeys();
    let asked = 0;
    const opts = {
      sessionHostKeys: session,
      onUnknownHostKey: async (): Promise<HostKeyDecision> => {
        asked++;
        return 'once';
      },
    };
    const r1 = runner(target({ knownHosts: kh }), opts);
    expect((await r1.run(['true'])).exitCode).toBe(0);
    await r1.dispose();
    const r2 = runner(target({ knownHosts: kh }), opts);
    expect((await r2.run(['true'])).exitCode).toBe(0);
    await r2.dispose();
    expect(asked).toBe(1);
    expect(fs.existsSync(kh)).toBe(false);
  });

  it('refuses a changed key without asking, naming fingerprint, file and line, and how to fix it', async () => {
    const otherDir = tempDir('zf-other-');
    const other = keygen(otherDir, 'other_host_key');
    const [type, b64] = fs
      .readFileSync(other + '.pub', 'utf8')
      .trim()
      .split(/\s+/);
    const kh = path.join(work, `kh_changed_${++khCount}`);
    fs.writeFileSync(kh, `# a comment\nexample.org ${type} ${b64}\n[127.0.0.1]:${server.port} ${type} ${b64}\n`);
    let asked = 0;
    const r = runner(target({ knownHosts: kh }), {
      onUnknownHostKey: async () => {
        asked++;
        return 'save';
      },
    });
    const e = await expectRunnerError(r.run(['true']), 'hostkey-changed');
    expect(asked).toBe(0);
    expect(e.message).toContain(keygenFingerprint(server.hostKeyPub));
    expect(e.message).toContain(keygenFingerprint(other + '.pub'));
    expect(e.message).toContain(`${kh}:3`);
    expect(e.message).toContain('ssh-keygen -R');
    expect(fs.readFileSync(kh, 'utf8').split('\n').length).toBe(4); // nothing appended
    await r.dispose();
    fs.rmSync(otherDir, { recursive: true, force: true });
  });

  it('refuses a host known only with a key of another type (a server that cannot present it)', async () => {
    const otherDir = tempDir('zf-other-');
    const other = keygen(otherDir, 'other_host_key', 'ecdsa');
    const [type, b64] = fs
      .readFileSync(other + '.pub', 'utf8')
      .trim()
      .split(/\s+/);
    const kh = path.join(work, `kh_type_${++khCount}`);
    fs.writeFileSync(kh, `[127.0.0.1]:${server.port} ${type} ${b64}\n`);
    const r = runner(target({ knownHosts: kh }));
    await expectRunnerError(r.run(['true']), 'hostkey-changed');
    await r.dispose();
    fs.rmSync(otherDir, { recursive: true, force: true });
  });

  it('refuses a key marked @revoked', async () => {
    const kh = path.join(work, `kh_revoked_${++khCount}`);
    const [, type, b64] = server.knownHostsLine().split(' ');
    fs.writeFileSync(kh, `${server.knownHostsLine()}\n@revoked * ${type} ${b64}\n`);
    const r = runner(target({ knownHosts: kh }));
    const e = await expectRunnerError(r.run(['true']), 'hostkey-changed');
    expect(e.message).toContain('@revoked');
    expect(e.message).toContain(`${kh}:2`);
    await r.dispose();
  });

  it('accepts a hashed entry (ssh-keygen -H)', async () => {
    const kh = knownHostsWith([server]);
    sh('ssh-keygen', ['-q', '-H', '-f', kh]);
    expect(fs.readFileSync(kh, 'utf8').startsWith('|1|')).toBe(true);
    const r = runner(target({ knownHosts: kh }));
    expect((await r.run(['true'])).exitCode).toBe(0);
    await r.dispose();
  });

  it('prefers the host key type that known_hosts has when the server has several', async () => {
    const multi = await TestSshd.start({ authorizedKeys: [clientKey] });
    try {
      const ecdsa = keygen(multi.dir, 'host_key_ecdsa', 'ecdsa');
      multi.addConfig(`HostKey ${ecdsa}`);
      await multi.restart();
      const [type, b64] = fs
        .readFileSync(ecdsa + '.pub', 'utf8')
        .trim()
        .split(/\s+/);
      const kh = path.join(work, `kh_multi_${++khCount}`);
      fs.writeFileSync(kh, `[127.0.0.1]:${multi.port} ${type} ${b64}\n`);
      const r = runner(target({ server: multi, knownHosts: kh }));
      expect((await r.run(['true'])).exitCode).toBe(0);
      await r.dispose();
    } finally {
      await multi.dispose();
    }
  });
});

describe('SshRunner: @cert-authority and RevokedHostKeys', () => {
  it('an unknown host whose known_hosts trusts a CA for it: the question says so (certificates are not verified here)', async () => {
    const ca = keygen(work, 'host_ca');
    const kh = path.join(work, `kh_ca_${++khCount}`);
    fs.writeFileSync(kh, `@cert-authority [127.0.0.1]:${server.port} ${fs.readFileSync(ca + '.pub', 'utf8').trim()}\n`);
    const asked: UnknownHostKeyInfo[] = [];
    const r = runner(target({ knownHosts: kh }), {
      onUnknownHostKey: async (q) => {
        asked.push(q);
        return 'cancel';
      },
    });
    await expectRunnerError(r.run(['true']), 'hostkey-unknown');
    expect(asked).toEqual([
      { host: '127.0.0.1', port: server.port, keyType: 'ssh-ed25519', fingerprint: keygenFingerprint(server.hostKeyPub), certAuthority: `${kh}:1` },
    ]);
    await r.dispose();
  });

  it('a host key listed in RevokedHostKeys is refused although known_hosts has it; another key file lets it connect', async () => {
    const revoked = path.join(work, 'revoked_keys');
    fs.writeFileSync(revoked, `# revoked\n${fs.readFileSync(strangerKey + '.pub', 'utf8')}${fs.readFileSync(server.hostKeyPub, 'utf8')}`);
    const r = runner(target({ extra: [`  RevokedHostKeys ${revoked}`] }));
    const e = await expectRunnerError(r.run(['true']), 'hostkey-changed');
    expect(e.message).toMatch(/is listed in RevokedHostKeys .*revoked_keys; refusing to connect/);
    await r.dispose();
    const other = path.join(work, 'revoked_other');
    fs.writeFileSync(other, fs.readFileSync(strangerKey + '.pub', 'utf8'));
    const ok = runner(target({ extra: [`  RevokedHostKeys ${other}`] }));
    expect((await ok.run(['echo', 'ok'])).stdout).toBe('ok\n');
    await ok.dispose();
  });

  it('a KRL (binary) RevokedHostKeys, which is not read here, refuses rather than being ignored', async () => {
    const krl = path.join(work, 'revoked.krl');
    sh('ssh-keygen', ['-q', '-k', '-f', krl, strangerKey + '.pub']);
    const r = runner(target({ extra: [`  RevokedHostKeys ${krl}`] }));
    const e = await expectRunnerError(r.run(['true']), 'hostkey-changed');
    expect(e.message).toMatch(/is an OpenSSH KRL, which ZFS Fleet cannot read; refusing/);
    await r.dispose();
  });
});

describe('SshRunner: connection errors', () => {
  it('fails fast with a connect error on a closed port', async () => {
    const port = (await import('./sshd.js')).freePort;
    const p = await port();
    const t = resolveSshTarget(`127.0.0.1:${p}`, {
      configText: '',
      defaults: { homeDir: work, env: {}, globalKnownHostsFiles: [], userKnownHostsFiles: [emptyKnownHosts()] },
    });
    const r = runner(t);
    const t0 = Date.now();
    const e = await expectRunnerError(r.run(['true']), 'connect');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(e.message).toContain(`127.0.0.1:${p}`);
    expect(e.message).toContain('ECONNREFUSED');
    await r.dispose();
  });

  it('times out connecting to a server that never answers', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => {}); // accepts TCP, never speaks SSH
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    const p = (silent.address() as import('node:net').AddressInfo).port;
    try {
      const t = target({ extra: [`  ConnectTimeout 1`] });
      t.port = p;
      const r = runner(t);
      const t0 = Date.now();
      const e = await expectRunnerError(r.run(['true']), 'connect');
      expect(Date.now() - t0).toBeLessThan(4000);
      expect(e.message).toMatch(/timed out/);
      await r.dispose();
    } finally {
      silent.close();
    }
  });

  it('reports a bad host name', async () => {
    const t = resolveSshTarget('no-such-host.invalid', { configText: '', defaults: { homeDir: work, env: {}, globalKnownHostsFiles: [] } });
    const e = await expectRunnerError(runner(t).run(['true']), 'connect');
    expect(e.message).toMatch(/no-such-host\.invalid:22/);
    expect(e.message).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  it('fails authentication with a list of what was tried', async () => {
    const r = runner(target({ keys: [strangerKey, path.join(work, 'id_missing')] }));
    const e = await expectRunnerError(r.run(['true']), 'auth');
    expect(e.message).toContain(`${strangerKey}: offered, not accepted by the server`);
    expect(e.message).toContain(`${path.join(work, 'id_missing')}: not found`);
    await r.dispose();
  });
});

describe('SshRunner: keys and agent', () => {
  it('asks for the passphrase of an encrypted key, again after a wrong one', async () => {
    const asked: { keyPath: string; attempt: number }[] = [];
    const accepted: [string, string][] = [];
    const r = runner(target({ keys: [strangerKey, encKey] }), {
      getPassphrase: async (q) => {
        asked.push(q);
        return q.attempt === 1 ? 'wrong' : 'right horse battery';
      },
      onPassphraseAccepted: (k, p) => {
        accepted.push([k, p]);
      },
    });
    expect((await r.run(['echo', 'unlocked'])).stdout).toBe('unlocked\n');
    expect(asked).toEqual([
      { keyPath: encKey, attempt: 1 },
      { keyPath: encKey, attempt: 2 },
    ]);
    expect(accepted).toEqual([[encKey, 'right horse battery']]);
    expect(logs.join('\n')).not.toContain('right horse battery');
    // A reconnect uses the key unlocked before: no second question.
    server.killSessions();
    await new Promise((res) => setTimeout(res, 200));
    expect((await r.run(['echo', 'again'])).stdout).toBe('again\n');
    expect(asked).toHaveLength(2);
    await r.dispose();
  });

  it('skips an encrypted key when no passphrase is given, and gives up after three wrong ones', async () => {
    const r1 = runner(target({ keys: [encKey] }), { getPassphrase: async () => undefined });
    const e1 = await expectRunnerError(r1.run(['true']), 'auth');
    expect(e1.message).toContain(`${encKey}: skipped (no passphrase given)`);
    const attempts: number[] = [];
    const r2 = runner(target({ keys: [encKey] }), {
      getPassphrase: async (q) => {
        attempts.push(q.attempt);
        return 'nope';
      },
    });
    const e2 = await expectRunnerError(r2.run(['true']), 'auth');
    expect(attempts).toEqual([1, 2, 3]);
    expect(e2.message).toContain('wrong passphrase (3 attempts)');
  });

  it('does not ask for the passphrase of a key the server would not accept', async () => {
    const lockedDir = tempDir('zf-locked-');
    const locked = keygen(lockedDir, 'id_locked', 'ed25519', 'pw');
    let asked = 0;
    const r = runner(target({ keys: [locked, clientKey] }), {
      getPassphrase: async () => {
        asked++;
        return 'pw';
      },
    });
    expect((await r.run(['true'])).exitCode).toBe(0);
    expect(asked).toBe(0);
    await r.dispose();
    fs.rmSync(lockedDir, { recursive: true, force: true });
  });

  it('authenticates with ssh-agent (IdentityAgent)', async () => {
    const agent = await TestAgent.start();
    try {
      agent.add(agentKey);
      const t = target({ keys: [], extra: [] });
      t.identityFiles = [];
      t.identityAgent = agent.socket;
      const r = runner(t);
      expect((await r.run(['echo', 'agent'])).stdout).toBe('agent\n');
      await r.dispose();
      expect(server.log()).toContain(`Accepted publickey for ${LOCAL_USER}`);
      expect(server.log()).toContain(keygenFingerprint(agentKey + '.pub'));
    } finally {
      await agent.stop();
    }
  });

  it('uses SSH_AUTH_SOCK when the config does not name an agent, and IdentitiesOnly filters its keys', async () => {
    const agent = await TestAgent.start();
    try {
      agent.add(agentKey);
      const kh = knownHostsWith([server]);
      const base = `Host srv\n  HostName 127.0.0.1\n  Port ${server.port}\n  User ${LOCAL_USER}\n  UserKnownHostsFile ${kh}\n`;
      const opts = { defaults: { homeDir: work, env: { SSH_AUTH_SOCK: agent.socket }, globalKnownHostsFiles: [] } };
      const t = resolveSshTarget('srv', { configText: base, ...opts });
      expect(t.identityAgent).toBe(agent.socket);
      const r = runner(t);
      expect((await r.run(['true'])).exitCode).toBe(0);
      await r.dispose();
      // IdentitiesOnly with an identity file that is not the agent's key: the agent key is not offered.
      const only = resolveSshTarget('srv', { configText: base + `  IdentitiesOnly yes\n  IdentityFile ${strangerKey}\n`, ...opts });
      const e = await expectRunnerError(runner(only).run(['true']), 'auth');
      expect(e.message).toContain('0 keys offered');
    } finally {
      await agent.stop();
    }
  });
});

describe('SshRunner: ProxyJump', () => {
  let jump: TestSshd;
  let inner: TestSshd;
  beforeAll(async () => {
    jump = await TestSshd.start({ authorizedKeys: [clientKey], logLevel: 'DEBUG1' });
    inner = await TestSshd.start({ authorizedKeys: [clientKey] });
  });
  afterAll(async () => {
    await jump.dispose();
    await inner.dispose();
  });

  it('connects through a jump host, verifying both host keys', async () => {
    const kh = emptyKnownHosts();
    const config = [
      'Host inner',
      '  HostName 127.0.0.1',
      `  Port ${inner.port}`,
      '  ProxyJump jumphost',
      'Host jumphost',
      '  HostName 127.0.0.1',
      `  Port ${jump.port}`,
      'Host *',
      `  User ${LOCAL_USER}`,
      `  IdentityFile ${clientKey}`,
      `  UserKnownHostsFile ${kh}`,
      '  IdentityAgent none',
    ].join('\n');
    const t = resolveSshTarget('inner', { configText: config, defaults: { homeDir: work, env: {}, globalKnownHostsFiles: [] } });
    expect(t.proxyJump.map((h) => h.port)).toEqual([jump.port]);
    const asked: UnknownHostKeyInfo[] = [];
    const r = runner(t, {
      onUnknownHostKey: async (q) => {
        asked.push(q);
        return 'save';
      },
    });
    const res = await r.run(['sh', '-c', 'echo $SSH_CONNECTION']);
    expect(res.exitCode).toBe(0);
    expect(res.stdout.trim().split(' ')[2]).toBe('127.0.0.1');
    expect(res.stdout.trim().split(' ')[3]).toBe(String(inner.port));
    expect(asked.map((q) => [q.port, q.fingerprint])).toEqual([
      [jump.port, keygenFingerprint(jump.hostKeyPub)],
      [inner.port, keygenFingerprint(inner.hostKeyPub)],
    ]);
    // The jump host forwarded the connection to the inner server.
    expect(jump.log()).toMatch(new RegExp(`direct_tcpip: originator .* target 127\\.0\\.0\\.1 port ${inner.port}`));
    // A second command uses the same chain.
    expect((await r.run(['echo', 'again'])).stdout).toBe('again\n');
    await r.dispose();
  });

  it('refuses a changed key on the jump host', async () => {
    const otherDir = tempDir('zf-other-');
    const other = keygen(otherDir, 'k');
    const [type, b64] = fs
      .readFileSync(other + '.pub', 'utf8')
      .trim()
      .split(/\s+/);
    const kh = path.join(work, `kh_jump_${++khCount}`);
    fs.writeFileSync(kh, `[127.0.0.1]:${jump.port} ${type} ${b64}\n${inner.knownHostsLine()}\n`);
    const t = target({
      server: inner,
      knownHosts: kh,
      extra: ['  ProxyJump jumphost'],
      moreConfig: `Host jumphost\n  HostName 127.0.0.1\n  Port ${jump.port}\n  User ${LOCAL_USER}\n  IdentityFile ${clientKey}\n  UserKnownHostsFile ${kh}\n  IdentityAgent none\n`,
    });
    const e = await expectRunnerError(runner(t).run(['true']), 'hostkey-changed');
    expect(e.message).toContain(`[127.0.0.1]:${jump.port}`);
    fs.rmSync(otherDir, { recursive: true, force: true });
  });
});

describe('SshRunner: dropped connections', () => {
  let s: TestSshd;
  beforeAll(async () => {
    s = await TestSshd.start({ authorizedKeys: [clientKey] });
  });
  afterAll(() => s.dispose());

  it('fails the commands in flight with disconnected and reconnects on the next run', async () => {
    const r = runner(target({ server: s }));
    try {
      expect((await r.run(['echo', 'one'])).stdout).toBe('one\n');
      const inflight = [r.run(['sleep', '6']), r.run(['sleep', '6'])];
      await new Promise((res) => setTimeout(res, 300));
      expect(s.killSessions()).toBeGreaterThan(0);
      for (const p of inflight) await expectRunnerError(p, 'disconnected');
      expect((await r.run(['echo', 'two'])).stdout).toBe('two\n');
      expect(s.log().match(/Accepted publickey/g)?.length).toBe(2);
      expect(logs.some((l) => l.includes('reconnecting'))).toBe(true);
    } finally {
      await r.dispose();
    }
  });

  it('reconnects after the server restarted', async () => {
    const r = runner(target({ server: s }));
    try {
      expect((await r.run(['echo', 'before'])).stdout).toBe('before\n');
      await s.restart();
      await new Promise((res) => setTimeout(res, 100));
      expect((await r.run(['echo', 'after'])).stdout).toBe('after\n');
    } finally {
      await r.dispose();
    }
  });

  it('notices a server that stops answering through keepalives', async () => {
    const t = target({ server: s, extra: ['  ServerAliveInterval 1', '  ServerAliveCountMax 1'] });
    const r = runner(t);
    try {
      expect((await r.run(['true'])).exitCode).toBe(0);
      const p = r.run(['sleep', '8']);
      await new Promise((res) => setTimeout(res, 200));
      const pids = s.sessionPids();
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      const t0 = Date.now();
      try {
        await expectRunnerError(p, 'disconnected');
        expect(Date.now() - t0).toBeLessThan(6000);
      } finally {
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }
      expect((await r.run(['echo', 'back'])).stdout).toBe('back\n');
    } finally {
      await r.dispose();
    }
  }, 30_000);
});

describe('createRunner', () => {
  it('resolves an alias through an ssh config file and runs over ssh', async () => {
    const cfg = path.join(work, 'ssh_config_create');
    const kh = knownHostsWith([server]);
    fs.writeFileSync(
      cfg,
      `Host zfs-box\n  HostName 127.0.0.1\n  Port ${server.port}\n  User ${LOCAL_USER}\n  IdentityFile ${clientKey}\n  IdentityAgent none\n`,
    );
    const r = createRunner('zfs-box', {
      logger,
      sshConfigPath: cfg,
      systemSshConfigPath: false,
      knownHostsFiles: [kh],
      homeDir: work,
      env: {},
      onUnknownHostKey: async () => 'cancel',
      getPassphrase: async () => undefined,
    });
    expect(r.label).toBe('zfs-box');
    expect((await r.run(['echo', 'via createRunner'])).stdout).toBe('via createRunner\n');
    await r.dispose();
  });

  it('gives a LocalRunner for local and a config error for a bad spec', async () => {
    const deps = { logger, onUnknownHostKey: async () => 'cancel' as const, getPassphrase: async () => undefined };
    const local = createRunner('local', deps);
    expect(local.label).toBe('local');
    expect((await local.run(['echo', 'here'])).stdout).toBe('here\n');
    expect(() => createRunner('root@:22', deps)).toThrow(RunnerError);
    try {
      createRunner('host:99999', deps);
    } catch (e) {
      expect((e as RunnerError).code).toBe('config');
      expect((e as Error).message).toContain('99999');
    }
  });
});

function* chunk(buf: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}
