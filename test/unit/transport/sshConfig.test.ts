/**
 * ssh config resolution. Where OpenSSH can tell us the answer, `ssh -G -F FILE HOST` (which prints the
 * configuration ssh would use, without connecting) is the oracle.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunnerError } from '../../../src/core/runner.js';
import { connectionChain, listConfigHosts, parseHostSpec, resolveSshTarget, type ResolveOptions } from '../../../src/transport/sshConfig.js';

let dir: string;
let home: string;
const realHome = os.userInfo().homedir;
const localUser = os.userInfo().username;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-cfg-'));
  home = path.join(dir, 'home');
  fs.mkdirSync(path.join(home, '.ssh', 'conf.d'), { recursive: true });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function expectConfigError(fn: () => unknown, ...parts: string[]): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RunnerError);
    expect((e as RunnerError).code).toBe('config');
    for (const p of parts) expect((e as Error).message).toContain(p);
    return;
  }
  throw new Error('expected a config error');
}

/** What OpenSSH resolves: `ssh -G` output as a map (multi-valued keys joined with newlines). */
function sshG(configText: string, spec: string): Map<string, string> {
  const file = path.join(dir, `g_${Math.random().toString(36).slice(2)}.cfg`);
  fs.writeFileSync(file, configText);
  const [userHost, port] = spec.includes(':') ? spec.split(':') : [spec, undefined];
  const out = execFileSync('ssh', ['-G', '-F', file, ...(port ? ['-p', port] : []), userHost!], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(' ');
    if (i < 0) continue;
    const k = line.slice(0, i);
    const v = line.slice(i + 1);
    m.set(k, m.has(k) ? m.get(k) + '\n' + v : v);
  }
  return m;
}

function compareWithOpenSSH(configText: string, spec: string, options: Omit<ResolveOptions, 'configText'> = {}): void {
  const ours = resolveSshTarget(spec, { configText, ...options });
  const g = sshG(configText, spec);
  expect(ours.hostName, 'hostname').toBe(g.get('hostname'));
  expect(String(ours.port), 'port').toBe(g.get('port'));
  expect(ours.user, 'user').toBe(g.get('user'));
  expect(ours.identitiesOnly ? 'yes' : 'no', 'identitiesonly').toBe(g.get('identitiesonly'));
  expect(ours.hashKnownHosts ? 'yes' : 'no', 'hashknownhosts').toBe(g.get('hashknownhosts'));
  expect(ours.userKnownHostsFiles.join(' '), 'userknownhostsfile').toBe(g.get('userknownhostsfile'));
  const ct = g.get('connecttimeout');
  if (ct !== 'none') expect(ours.connectTimeoutMs, 'connecttimeout').toBe(Number(ct) * 1000);
  const sai = Number(g.get('serveraliveinterval'));
  if (sai !== 0) expect(ours.serverAliveIntervalMs, 'serveraliveinterval').toBe(sai * 1000);
  expect(String(ours.serverAliveCountMax), 'serveralivecountmax').toBe(g.get('serveralivecountmax'));
  const pj = g.get('proxyjump');
  if (pj === undefined || pj === 'none') expect(ours.proxyJump).toEqual([]);
  else expect(ours.proxyJump.length, 'proxyjump').toBe(pj.split(',').length);
  if (g.has('hostkeyalias')) expect(ours.hostKeyAlias).toBe(g.get('hostkeyalias'));
}

describe('parseHostSpec', () => {
  it('accepts the forms ssh accepts', () => {
    expect(parseHostSpec('nas')).toEqual({ host: 'nas' });
    expect(parseHostSpec('root@nas')).toEqual({ user: 'root', host: 'nas' });
    expect(parseHostSpec('nas:2222')).toEqual({ host: 'nas', port: 2222 });
    expect(parseHostSpec('backup@nas.example.org:22')).toEqual({ user: 'backup', host: 'nas.example.org', port: 22 });
    expect(parseHostSpec('10.0.0.7:2200')).toEqual({ host: '10.0.0.7', port: 2200 });
    expect(parseHostSpec('[::1]:2222')).toEqual({ host: '::1', port: 2222 });
    expect(parseHostSpec('root@[fe80::1%eth0]:22')).toEqual({ user: 'root', host: 'fe80::1%eth0', port: 22 });
    expect(parseHostSpec('[2001:db8::5]')).toEqual({ host: '2001:db8::5' });
    expect(parseHostSpec('2001:db8::5')).toEqual({ host: '2001:db8::5' });
    expect(parseHostSpec('ssh://zfs@nas:2022')).toEqual({ user: 'zfs', host: 'nas', port: 2022 });
    expect(parseHostSpec('my_host-1.lan')).toEqual({ host: 'my_host-1.lan' });
  });

  it('rejects bad specs, naming the bad part', () => {
    const bad: [string, string][] = [
      ['', 'empty'],
      ['   ', 'empty'],
      ['root@', 'empty host name'],
      ['@nas', 'empty user name'],
      ['nas:', 'empty port'],
      ['nas:ssh', 'bad port "ssh"'],
      ['nas:0', 'port 0 out of range'],
      ['nas:65536', 'port 65536 out of range'],
      ['[::1', 'unbalanced "["'],
      ['[::1]x', 'unexpected "x"'],
      ['[zz::1]:22', 'bad address "zz::1"'],
      ['-oProxyCommand=x', 'starts with "-"'],
      ['na s', 'white space'],
      ['nas;rm', 'bad host name "nas;rm"'],
      ['ro ot@nas', 'white space'],
      ["r'oot@nas", `bad user name "r'oot"`],
      ['nas/x', 'bad host name "nas/x"'],
      ['[]:22', 'empty host name'],
    ];
    for (const [spec, part] of bad) expectConfigError(() => parseHostSpec(spec), part);
  });
});

describe('resolveSshTarget', () => {
  const iso = () => ({ defaults: { homeDir: home, env: {} as Record<string, string>, globalKnownHostsFiles: [] } });

  it('gives OpenSSH defaults for a host not in any config', () => {
    fs.writeFileSync(path.join(home, '.ssh', 'id_ed25519'), 'x');
    fs.writeFileSync(path.join(home, '.ssh', 'id_rsa'), 'x');
    const t = resolveSshTarget('nas.example.org', { configText: '', ...iso() });
    expect(t).toEqual({
      alias: 'nas.example.org',
      hostName: 'nas.example.org',
      port: 22,
      user: localUser,
      identityFiles: [path.join(home, '.ssh', 'id_ed25519'), path.join(home, '.ssh', 'id_rsa')],
      identitiesOnly: false,
      proxyJump: [],
      connectTimeoutMs: 15_000,
      serverAliveIntervalMs: 15_000,
      serverAliveCountMax: 3,
      userKnownHostsFiles: [path.join(home, '.ssh', 'known_hosts'), path.join(home, '.ssh', 'known_hosts2')],
      globalKnownHostsFiles: [],
      hashKnownHosts: false,
    });
    fs.rmSync(path.join(home, '.ssh', 'id_ed25519'));
    fs.rmSync(path.join(home, '.ssh', 'id_rsa'));
  });

  it('uses the agent from SSH_AUTH_SOCK unless IdentityAgent says otherwise', () => {
    const env = { SSH_AUTH_SOCK: '/run/agent.sock', MYSOCK: '/run/my.sock' };
    const r = (cfg: string) => resolveSshTarget('h', { configText: cfg, defaults: { homeDir: home, env } }).identityAgent;
    expect(r('')).toBe('/run/agent.sock');
    expect(r('IdentityAgent none')).toBeUndefined();
    expect(r('IdentityAgent SSH_AUTH_SOCK')).toBe('/run/agent.sock');
    expect(r('IdentityAgent $MYSOCK')).toBe('/run/my.sock');
    expect(r('IdentityAgent ~/.ssh/agent-%r@%h')).toBe(path.join(home, '.ssh', `agent-${localUser}@h`));
  });

  const config = `
# global defaults come first in some configs
ConnectTimeout 7

Host web* !web9
  User webuser
  ServerAliveInterval 30

Host web1
  HostName %h.example.org
  Port 2200
  User ignored-because-first-wins
  IdentityFile ~/.ssh/id_%h_%r_%u
  IdentityFile %d/k%%-%p-%n
  IdentitiesOnly yes
  HashKnownHosts yes
  HostKeyAlias web1-key

Host db
  HostName 10.1.2.3
  ProxyJump bastion,bob@inner-bastion:2022

Host bastion
  HostName bastion.example.org
  User jump
  ProxyJump gate

Host inner-bastion
  ProxyJump should-be-ignored-for-a-later-hop

Host gate
  HostName gate.example.org
  Port 2022

Host direct
  ProxyJump none
  HostName direct.example.org

Host *
  User fallback
  ServerAliveCountMax 5
  UserKnownHostsFile ~/.ssh/kh_a /abs/kh_b
  ProxyJump none
`;

  it('applies first-wins in file order, wildcards and negation (compared with ssh -G)', () => {
    for (const spec of ['web1', 'web2', 'web9', 'db', 'bastion', 'gate', 'direct', 'other', 'root@web1', 'web1:2300', 'alice@db:2222']) {
      compareWithOpenSSH(config, spec, { defaults: { globalKnownHostsFiles: [], env: {} } });
    }
    const web9 = resolveSshTarget('web9', { configText: config, ...iso() });
    expect(web9.user).toBe('fallback');
    const web2 = resolveSshTarget('web2', { configText: config, ...iso() });
    expect(web2.user).toBe('webuser');
    expect(web2.serverAliveIntervalMs).toBe(30_000);
    expect(web2.connectTimeoutMs).toBe(7_000);
    expect(web2.serverAliveCountMax).toBe(5);
  });

  it('expands tokens and ~ in IdentityFile and UserKnownHostsFile', () => {
    const t = resolveSshTarget('web1', { configText: config, ...iso() });
    expect(t.hostName).toBe('web1.example.org');
    expect(t.identityFiles).toEqual([path.join(home, '.ssh', `id_web1.example.org_webuser_${localUser}`), `${home}/k%-2200-web1`]);
    expect(t.userKnownHostsFiles).toEqual([path.join(home, '.ssh', 'kh_a'), '/abs/kh_b']);
    expect(t.hostKeyAlias).toBe('web1-key');
    expect(t.identitiesOnly).toBe(true);
    expect(t.hashKnownHosts).toBe(true);
    // Explicit user and port from the spec win over the config.
    const u = resolveSshTarget('zfs@web1:2201', { configText: config, ...iso() });
    expect([u.user, u.port]).toEqual(['zfs', 2201]);
    expect(u.identityFiles[0]).toBe(path.join(home, '.ssh', `id_web1.example.org_zfs_${localUser}`));
  });

  it('resolves ProxyJump chains recursively through the same config', () => {
    const t = resolveSshTarget('db', { configText: config, ...iso() });
    expect(t.proxyJump.map((h) => [h.alias, h.hostName, h.port, h.user])).toEqual([
      ['bastion', 'bastion.example.org', 22, 'jump'],
      ['inner-bastion', 'inner-bastion', 2022, 'bob'],
    ]);
    // The first hop follows its own ProxyJump; later hops do not (as `ssh -J a,b` does).
    expect(t.proxyJump[0]!.proxyJump.map((h) => [h.alias, h.hostName, h.port])).toEqual([['gate', 'gate.example.org', 2022]]);
    expect(t.proxyJump[1]!.proxyJump).toEqual([]);
    expect(connectionChain(t).map((h) => h.alias)).toEqual(['gate', 'bastion', 'inner-bastion', 'db']);
    expect(resolveSshTarget('direct', { configText: config, ...iso() }).proxyJump).toEqual([]);
  });

  it('detects a ProxyJump loop and a bad hop', () => {
    expectConfigError(() => resolveSshTarget('a', { configText: 'Host a\n ProxyJump b\nHost b\n ProxyJump a\n', ...iso() }), 'ProxyJump chain', 'a -> b -> a');
    expectConfigError(() => resolveSshTarget('a', { configText: 'Host a\n ProxyJump root@:22\n', ...iso() }), 'Bad ProxyJump for host "a"', 'empty host name');
  });

  it('refuses ProxyCommand, unless a ProxyJump came first', () => {
    expectConfigError(() => resolveSshTarget('a', { configText: 'Host a\n ProxyCommand nc %h %p\n', ...iso() }), 'ProxyCommand');
    const t = resolveSshTarget('a', { configText: 'Host a\n ProxyJump j\n ProxyCommand nc %h %p\n', ...iso() });
    expect(t.proxyJump.map((h) => h.alias)).toEqual(['j']);
    expect(resolveSshTarget('a', { configText: 'Host a\n ProxyCommand none\n', ...iso() }).proxyJump).toEqual([]);
  });

  it('evaluates Match blocks (host after HostName, originalhost, user, all, final) and skips exec with a warning', () => {
    const text = `
Host short
  HostName long.example.org
Match host long.example.org
  Port 2001
Match originalhost short user admin
  User never-reached
Match user ${localUser} !originalhost other
  IdentityFile ~/match_user
Match exec "true"
  Port 9999
Match final host long.example.org
  HostKeyAlias finalpass
Host long.example.org
  ConnectTimeout 3
Match all
  ServerAliveCountMax 9
`;
    const warnings: string[] = [];
    const t = resolveSshTarget('short', { configText: text, ...iso(), onWarning: (w) => warnings.push(w) });
    expect(t.port).toBe(2001);
    expect(t.user).toBe(localUser);
    expect(t.identityFiles).toEqual([path.join(home, 'match_user')]);
    expect(t.hostKeyAlias).toBe('finalpass');
    expect(t.connectTimeoutMs).toBe(3000); // Host matched against the HostName in the final pass
    expect(t.serverAliveCountMax).toBe(9);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('Match exec');
    compareWithOpenSSH(text.replace(/Match exec[^\n]*\n[^\n]*\n/, ''), 'short', { defaults: { globalKnownHostsFiles: [], env: {} } });
  });

  it('follows Include relative to ~/.ssh with globs, in lexical order, and only inside a matching block', () => {
    fs.writeFileSync(path.join(home, '.ssh', 'conf.d', '20-b.conf'), 'Host inc-b\n  Port 2002\nHost inc-a\n  Port 9999\n');
    fs.writeFileSync(path.join(home, '.ssh', 'conf.d', '10-a.conf'), 'Host inc-a\n  Port 2001\n  User from-include\n');
    fs.writeFileSync(path.join(home, '.ssh', 'conf.d', 'ignored.txt'), 'Host inc-a\n  Port 7777\n');
    fs.writeFileSync(path.join(home, '.ssh', 'only-for-x'), 'User only-x\n');
    const text = 'Include conf.d/*.conf\nHost x\n  Include only-for-x\nHost *\n  User default\n';
    const r = (h: string) => resolveSshTarget(h, { configText: text, ...iso() });
    expect([r('inc-a').port, r('inc-a').user]).toEqual([2001, 'from-include']);
    expect(r('inc-b').port).toBe(2002);
    expect(r('x').user).toBe('only-x');
    expect(r('y').user).toBe('default');
    // Absolute include paths: compare with OpenSSH itself.
    const abs = `Include ${path.join(home, '.ssh', 'conf.d')}/*.conf\nHost x\n  Include ${path.join(home, '.ssh', 'only-for-x')}\nHost *\n  User default\n`;
    for (const h of ['inc-a', 'inc-b', 'x', 'y']) compareWithOpenSSH(abs, h, { defaults: { globalKnownHostsFiles: [], env: {} } });
  });

  it('reads a config file, then the system config; a missing default file is an empty config', () => {
    const user = path.join(dir, 'user_config');
    const sys = path.join(dir, 'system_config');
    fs.writeFileSync(user, 'Host a\n  Port 2001\n');
    fs.writeFileSync(sys, 'Host *\n  Port 2999\n  User sysuser\n');
    const t = resolveSshTarget('a', { configPath: user, systemConfigPath: sys, ...iso() });
    expect([t.port, t.user]).toEqual([2001, 'sysuser']);
    expect(resolveSshTarget('b', { configPath: user, systemConfigPath: sys, ...iso() }).port).toBe(2999);
    expect(resolveSshTarget('b', { systemConfigPath: false, ...iso() }).port).toBe(22); // no ~/.ssh/config in this home
    const warnings: string[] = [];
    resolveSshTarget('b', { configPath: path.join(dir, 'nope'), systemConfigPath: false, ...iso(), onWarning: (w) => warnings.push(w) });
    expect(warnings[0]).toContain('does not exist');
  });

  it('uses defaults when the config is silent and overrides over the config', () => {
    const text = 'Host a\n  ConnectTimeout 4\n  UserKnownHostsFile /cfg/kh\n';
    const t = resolveSshTarget('a', {
      configText: text,
      defaults: { homeDir: home, env: {}, connectTimeoutMs: 1000, serverAliveIntervalMs: 0, serverAliveCountMax: 2 },
      overrides: { userKnownHostsFiles: ['/override/kh'] },
    });
    expect(t.connectTimeoutMs).toBe(4000);
    expect(t.serverAliveIntervalMs).toBe(0);
    expect(t.serverAliveCountMax).toBe(2);
    expect(t.userKnownHostsFiles).toEqual(['/override/kh']);
    expect(resolveSshTarget('a', { configText: 'UserKnownHostsFile none', ...iso() }).userKnownHostsFiles).toEqual([]);
  });

  it('reports config errors with a message naming the problem', () => {
    expectConfigError(() => resolveSshTarget('a', { configText: 'Host a\n  HostName "unterminated\n', ...iso() }), 'Cannot parse ssh config');
    expectConfigError(() => resolveSshTarget('a', { configText: 'Host a\n  Port abc\n', ...iso() }), 'Bad Port for host "a"', 'bad port "abc"');
    expectConfigError(() => resolveSshTarget('a', { configText: 'Host a\n  IdentityFile ~/%z\n', ...iso() }), 'unknown token %z');
    expectConfigError(() => resolveSshTarget('a', { configText: 'Host a\n  IdentityFile ${NOPE_NOT_SET}/k\n', ...iso() }), '${NOPE_NOT_SET}');
    expectConfigError(() => resolveSshTarget('a', { configText: 'Match nonsense x\n', ...iso() }), 'unsupported Match criterion "nonsense"');
    expectConfigError(() => resolveSshTarget('a', { configText: 'Host a\n  ConnectTimeout soon\n', ...iso() }), 'ConnectTimeout "soon"');
    expectConfigError(() => resolveSshTarget('bad host', { configText: '', ...iso() }), 'white space');
  });

  it('resolves the real home by default (user and home from os.userInfo)', () => {
    const t = resolveSshTarget('somewhere', { configText: '', systemConfigPath: false });
    expect(t.user).toBe(localUser);
    expect(t.userKnownHostsFiles[0]).toBe(path.join(realHome, '.ssh', 'known_hosts'));
  });
});

describe('listConfigHosts', () => {
  it('lists concrete aliases only, in order, following Include', () => {
    fs.writeFileSync(path.join(home, '.ssh', 'conf.d', '30-more.conf'), 'Host included-one\n  Port 1\n');
    const text = `
Host nas1 nas2 *.lan !bad
  User root
Host backup?
Host "quoted-name"
Match host foo
  User x
Host nas1 offsite
Host *
  User y
Include conf.d/30-*.conf
`;
    expect(listConfigHosts(text, { homeDir: home })).toEqual(['nas1', 'nas2', 'quoted-name', 'offsite', 'included-one']);
    expect(listConfigHosts(text, { homeDir: home, followIncludes: false })).toEqual(['nas1', 'nas2', 'quoted-name', 'offsite']);
    expect(listConfigHosts('')).toEqual([]);
  });
});
