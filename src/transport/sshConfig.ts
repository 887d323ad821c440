/**
 * Resolve a host spec the way `ssh` does: OpenSSH client config (parsed with the `ssh-config`
 * package, evaluated here with OpenSSH's rules), plus OpenSSH's defaults.
 *
 * Why our own evaluation rather than `SSHConfig.compute()`: compute() does not follow `Include`,
 * runs `Match exec` commands and `nslookup` for canonicalisation, treats `?` as "zero or one
 * character" and matches directive names case-sensitively. We use the package's parser only.
 *
 * Rules implemented (ssh_config(5), readconf.c):
 * - first obtained value wins; IdentityFile / CertificateFile accumulate (without duplicates);
 * - `Host` patterns (`*`, `?`, `!negation`) match the host as given (case-insensitively);
 * - `Match` criteria: all, host, originalhost, user, localuser, canonical, final, tagged, with `!`;
 *   `exec` and `localnetwork` are never evaluated (they count as not matching, with a warning);
 *   `final` triggers a second pass in which `Host` matches the resolved HostName;
 * - `Include` (anywhere; inside a non-matching block it is skipped), relative paths under ~/.ssh
 *   (or /etc/ssh for the system file), `*` `?` `[...]` globs in lexical order, depth limit 16;
 * - ProxyJump and ProxyCommand compete: whichever comes first wins; ProxyCommand is not supported
 *   (RunnerError 'config');
 * - `%` tokens in HostName (%h %%) and in IdentityFile / UserKnownHostsFile / GlobalKnownHostsFile /
 *   IdentityAgent (%% %C %d %h %i %j %k %L %l %n %p %r %u), `~` and `${VAR}` in paths;
 * - the user config (configPath, default ~/.ssh/config; a missing file is an empty config) is read
 *   first, then the system-wide /etc/ssh/ssh_config, as plain `ssh` does. Config text given directly
 *   (configText) stands alone, like `ssh -F`, unless systemConfigPath is given.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type SSHConfigType from 'ssh-config' with { 'resolution-mode': 'import' };
import { matchPattern, matchPatternList } from './knownHosts.js';
import { RunnerError } from '../core/runner.js';

// `ssh-config` is an ES module package with a CommonJS build behind its `require` condition. This file
// compiles as CommonJS (Node16 rules), so the types come through `import type` and the value through
// `require`, which esbuild bundles statically and vitest provides.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SSHConfig = (require('ssh-config') as { default: typeof SSHConfigType }).default;
type SSHConfig = SSHConfigType;

export interface SshTarget {
  /** The host as given in the spec (a config Host alias, a name or an address), without user and port. */
  alias: string;
  /** The name or address to connect to (HostName, or the alias). */
  hostName: string;
  port: number;
  user: string;
  /** Identity files to try, expanded; defaults (~/.ssh/id_ed25519, id_ecdsa, id_rsa) only those that exist. */
  identityFiles: string[];
  identitiesOnly: boolean;
  /** The ssh-agent socket to use (IdentityAgent, else $SSH_AUTH_SOCK); undefined: no agent. */
  identityAgent?: string;
  /** Jump hosts, in connection order; each resolved through the same config. */
  proxyJump: SshTarget[];
  connectTimeoutMs: number;
  /** 0 disables keepalives. */
  serverAliveIntervalMs: number;
  serverAliveCountMax: number;
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  hashKnownHosts: boolean;
  /** HostKeyAlias: the name looked up in known_hosts instead of hostName (without port). */
  hostKeyAlias?: string;
  /** RevokedHostKeys: a file of revoked host keys (public keys one per line, or an OpenSSH KRL). */
  revokedHostKeys?: string;
}

export interface ResolveDefaults {
  homeDir?: string;
  localUser?: string;
  localHostName?: string;
  /** Environment for SSH_AUTH_SOCK and ${VAR} expansion (default process.env). */
  env?: Record<string, string | undefined>;
  user?: string;
  port?: number;
  /** Default 15 000 (OpenSSH has none: the TCP timeout). */
  connectTimeoutMs?: number;
  /** Default 15 000 (OpenSSH's default is 0, off; a fleet browser wants dead links noticed). */
  serverAliveIntervalMs?: number;
  /** Default 3. */
  serverAliveCountMax?: number;
  /** Default ~/.ssh/known_hosts, ~/.ssh/known_hosts2. */
  userKnownHostsFiles?: string[];
  /** Default /etc/ssh/ssh_known_hosts, /etc/ssh/ssh_known_hosts2. */
  globalKnownHostsFiles?: string[];
}

/** Values that win over the config (like `ssh -o` on the command line). */
export interface ResolveOverrides {
  userKnownHostsFiles?: string[];
  connectTimeoutMs?: number;
  serverAliveIntervalMs?: number;
  serverAliveCountMax?: number;
}

export interface ResolveOptions {
  /** Config text to use instead of reading a file (like `ssh -F`). */
  configText?: string;
  /** The user config file, default ~/.ssh/config (missing: empty). Also names configText in messages. */
  configPath?: string;
  /** The system-wide config, read after the user config; false: none. Default /etc/ssh/ssh_config, or none with configText. */
  systemConfigPath?: string | false;
  defaults?: ResolveDefaults;
  overrides?: ResolveOverrides;
  /** Things OpenSSH would do that we do not (Match exec, ...). */
  onWarning?: (message: string) => void;
}

export interface HostSpec {
  user?: string;
  host: string;
  port?: number;
}

const HOST_RE = /^[A-Za-z0-9_][A-Za-z0-9_.%+-]*$/;
const IPV6_RE = /^[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?$/;
const USER_RE = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*\$?$/;

function badSpec(spec: string, why: string): RunnerError {
  return new RunnerError('config', `Bad host spec "${spec}": ${why}`);
}

/**
 * Parse `[user@]host[:port]`, `[user@][ipv6]:port`, `[user@][ipv6]`, a bare IPv6 address, or
 * `ssh://[user@]host[:port]`. Throws RunnerError('config') naming the bad part.
 */
export function parseHostSpec(spec: string): HostSpec {
  if (typeof spec !== 'string' || spec.trim() === '') throw badSpec(String(spec), 'empty');
  if (/\s/.test(spec)) throw badSpec(spec, 'contains white space');
  let rest = spec;
  if (/^ssh:\/\//i.test(rest)) {
    rest = rest.slice(6);
    if (rest.endsWith('/')) rest = rest.slice(0, -1);
  }
  const out: HostSpec = { host: '' };
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const user = rest.slice(0, at);
    if (user === '') throw badSpec(spec, 'empty user name before "@"');
    if (!USER_RE.test(user)) throw badSpec(spec, `bad user name "${user}"`);
    out.user = user;
    rest = rest.slice(at + 1);
  }
  if (rest === '') throw badSpec(spec, 'empty host name');
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw badSpec(spec, `unbalanced "[" in "${rest}"`);
    const inner = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (inner === '') throw badSpec(spec, 'empty host name in "[]"');
    if (!IPV6_RE.test(inner) && !HOST_RE.test(inner)) throw badSpec(spec, `bad address "${inner}"`);
    out.host = inner;
    if (after !== '') {
      if (!after.startsWith(':')) throw badSpec(spec, `unexpected "${after}" after "]"`);
      portText = after.slice(1);
    }
  } else {
    const colons = (rest.match(/:/g) ?? []).length;
    if (colons >= 2) {
      if (!IPV6_RE.test(rest)) throw badSpec(spec, `bad address "${rest}"`);
      out.host = rest; // bare IPv6 address, no port
    } else {
      const c = rest.indexOf(':');
      const host = c >= 0 ? rest.slice(0, c) : rest;
      if (c >= 0) portText = rest.slice(c + 1);
      if (host === '') throw badSpec(spec, 'empty host name');
      if (host.startsWith('-')) throw badSpec(spec, `host name "${host}" starts with "-"`);
      if (!HOST_RE.test(host)) throw badSpec(spec, `bad host name "${host}"`);
      out.host = host;
    }
  }
  if (portText !== undefined) out.port = parsePort(portText, (why) => badSpec(spec, why));
  return out;
}

function parsePort(text: string, err: (why: string) => Error): number {
  if (text === '') throw err('empty port after ":"');
  if (!/^\d+$/.test(text)) throw err(`bad port "${text}"`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw err(`port ${text} out of range 1-65535`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Config documents

interface ConfigDoc {
  lines: SSHConfig;
  file: string;
  /** Base for relative Include paths. */
  includeBase: string;
}

type Line = SSHConfig[number];
interface DirectiveLine {
  param: string;
  value: string | { val: string }[];
  config?: SSHConfig;
}

function isDirective(l: Line): l is Line & DirectiveLine {
  return l.type === SSHConfig.DIRECTIVE;
}

function values(l: DirectiveLine): string[] {
  return typeof l.value === 'string' ? [l.value] : l.value.map((v) => v.val);
}

function parseConfigText(text: string, file: string): SSHConfig {
  try {
    return SSHConfig.parse(text);
  } catch (e) {
    throw new RunnerError('config', `Cannot parse ssh config ${file}: ${(e as Error).message}`, undefined, { cause: e });
  }
}

function readConfigFile(file: string, mustExist: boolean): SSHConfig | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (!mustExist && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RunnerError('config', `Cannot read ssh config ${file}: ${(e as Error).message}`, undefined, { cause: e });
  }
  return parseConfigText(text, file);
}

const MAX_INCLUDE_DEPTH = 16;

function globToRegExp(seg: string): RegExp {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let cls = seg.slice(i + 1, close);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += '[' + cls.replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else re += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/** Expand `*`, `?`, `[...]` in an absolute path: existing regular files, sorted (glob(3) order). */
export function expandGlob(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) {
    try {
      return fs.statSync(pattern).isFile() ? [pattern] : [];
    } catch {
      return [];
    }
  }
  const parts = pattern.split('/');
  let bases = [parts[0] === '' ? '/' : parts[0]!];
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i]!;
    if (seg === '') continue;
    const next: string[] = [];
    for (const b of bases) {
      if (/[*?[]/.test(seg)) {
        let names: string[];
        try {
          names = fs.readdirSync(b);
        } catch {
          continue;
        }
        const re = globToRegExp(seg);
        for (const n of names.sort()) if (re.test(n) && (seg.startsWith('.') || !n.startsWith('.'))) next.push(path.join(b, n));
      } else next.push(path.join(b, seg));
    }
    bases = next;
  }
  return bases.filter((f) => {
    try {
      return fs.statSync(f).isFile();
    } catch {
      return false;
    }
  });
}

function expandTilde(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.join(home, p.slice(2));
  return p;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

interface Env {
  home: string;
  localUser: string;
  localHostName: string;
  env: Record<string, string | undefined>;
  warn: (m: string) => void;
}

interface EvalState {
  originalHost: string; // lower-cased host part of the spec
  specUser: string | undefined;
  hostForHostLines: string;
  finalPass: boolean;
  wantFinal: boolean;
  settings: Map<string, string[]>;
  identityFiles: string[];
  warned: Set<string>;
}

const ACCUMULATE = new Set(['identityfile', 'certificatefile', 'localforward', 'remoteforward', 'dynamicforward', 'sendenv', 'setenv']);

function setOption(st: EvalState, param: string, vals: string[]): void {
  if (param === 'identityfile') {
    for (const v of vals) if (!st.identityFiles.includes(v)) st.identityFiles.push(v);
    return;
  }
  if (ACCUMULATE.has(param)) return;
  // ProxyJump and ProxyCommand share one slot: whichever comes first wins.
  if (param === 'proxyjump' || param === 'proxycommand') {
    if (st.settings.has('proxyjump') || st.settings.has('proxycommand')) return;
  }
  if (!st.settings.has(param)) st.settings.set(param, vals);
}

function currentHostForMatch(st: EvalState): string {
  if (st.finalPass) return st.hostForHostLines;
  const hn = st.settings.get('hostname')?.[0];
  return hn !== undefined ? expandHostName(hn, st.originalHost).toLowerCase() : st.originalHost;
}

function matchCriteria(tokens: string[], st: EvalState, env: Env, where: string): boolean {
  let result = true;
  let i = 0;
  if (tokens.length === 0) throw new RunnerError('config', `${where}: Match without criteria`);
  while (i < tokens.length) {
    let key = tokens[i++]!;
    let negate = false;
    if (key.startsWith('!')) {
      negate = true;
      key = key.slice(1);
    }
    const k = key.toLowerCase();
    let r: boolean;
    if (k === 'all') r = true;
    else if (k === 'canonical') r = st.finalPass;
    else if (k === 'final') {
      if (!st.finalPass) st.wantFinal = true;
      r = st.finalPass;
    } else {
      const arg = tokens[i++];
      if (arg === undefined) throw new RunnerError('config', `${where}: Match ${key} needs an argument`);
      switch (k) {
        case 'host':
          r = matchPatternList(currentHostForMatch(st), arg);
          break;
        case 'originalhost':
          r = matchPatternList(st.originalHost, arg);
          break;
        case 'user':
          r = matchPatternList(st.specUser ?? st.settings.get('user')?.[0] ?? env.localUser, arg);
          break;
        case 'localuser':
          r = matchPatternList(env.localUser, arg);
          break;
        case 'tagged':
          r = matchPatternList(st.settings.get('tag')?.[0] ?? '', arg);
          break;
        case 'exec':
        case 'localnetwork': {
          const msg = `${where}: "Match ${k}" is not evaluated by ZFS Fleet; that block is treated as not matching`;
          if (!st.warned.has(msg)) {
            st.warned.add(msg);
            env.warn(msg);
          }
          // Neither value: the whole Match line fails, negated or not.
          return false;
        }
        default:
          throw new RunnerError('config', `${where}: unsupported Match criterion "${key}"`);
      }
    }
    if (negate) r = !r;
    if (!r) result = false; // keep going: `final` must still be noticed
  }
  return result;
}

function applyLines(lines: SSHConfig, doc: ConfigDoc, st: EvalState, env: Env, depth: number): void {
  for (const line of lines) {
    if (!isDirective(line)) continue;
    const param = line.param.toLowerCase();
    if (param === 'host') {
      const pats = values(line)
        .flatMap((v) => v.split(/\s+/))
        .filter((v) => v !== '');
      let ok = false;
      for (const p of pats) {
        if (p.startsWith('!')) {
          if (matchPattern(st.hostForHostLines, p.slice(1).toLowerCase())) {
            ok = false;
            break;
          }
        } else if (matchPattern(st.hostForHostLines, p.toLowerCase())) ok = true;
      }
      if (ok && line.config) applyLines(line.config, doc, st, env, depth);
    } else if (param === 'match') {
      if (matchCriteria(values(line), st, env, doc.file) && line.config) applyLines(line.config, doc, st, env, depth);
    } else if (param === 'include') {
      if (depth >= MAX_INCLUDE_DEPTH) throw new RunnerError('config', `${doc.file}: Include nested too deeply`);
      for (const v of values(line)) {
        let p = expandEnvVars(expandTilde(v, env.home), env, doc.file);
        if (!path.isAbsolute(p)) p = path.join(doc.includeBase, p);
        for (const f of expandGlob(p)) {
          const sub = readConfigFile(f, false);
          if (sub) applyLines(sub, { lines: sub, file: f, includeBase: doc.includeBase }, st, env, depth + 1);
        }
      }
    } else {
      setOption(st, param, values(line));
    }
  }
}

function expandHostName(value: string, originalHost: string): string {
  return value.replace(/%([%h])/g, (_m, t: string) => (t === '%' ? '%' : originalHost));
}

function expandEnvVars(value: string, env: Env, what: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = env.env[name];
    if (v === undefined) throw new RunnerError('config', `${what}: environment variable \${${name}} is not set`);
    return v;
  });
}

interface TokenContext {
  home: string;
  localUser: string;
  localHostName: string;
  hostName: string;
  user: string;
  port: number;
  originalHost: string;
  hostKeyAlias?: string;
  proxyJump: string;
}

function expandTokens(value: string, t: TokenContext, directive: string): string {
  return value.replace(/%(.)/g, (_m, c: string) => {
    switch (c) {
      case '%':
        return '%';
      case 'd':
        return t.home;
      case 'u':
        return t.localUser;
      case 'h':
        return t.hostName;
      case 'r':
        return t.user;
      case 'p':
        return String(t.port);
      case 'n':
        return t.originalHost;
      case 'l':
        return t.localHostName;
      case 'L':
        return t.localHostName.split('.')[0]!;
      case 'i':
        return String(typeof process.getuid === 'function' ? process.getuid() : 0);
      case 'k':
        return t.hostKeyAlias ?? t.originalHost;
      case 'j':
        return t.proxyJump;
      case 'C':
        return createHash('sha1')
          .update(t.localHostName + t.hostName + String(t.port) + t.user + t.proxyJump)
          .digest('hex');
      default:
        throw new RunnerError('config', `${directive}: unknown token %${c} in "${value}"`);
    }
  });
}

function expandPath(value: string, t: TokenContext, env: Env, directive: string): string {
  return expandEnvVars(expandTokens(expandTilde(value, env.home), t, directive), env, directive);
}

function parseSeconds(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new RunnerError('config', `${name} "${v}" is not a number of seconds`);
  return Number(v) * 1000;
}

function parseCount(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new RunnerError('config', `${name} "${v}" is not a number`);
  return Number(v);
}

function yes(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  return v.toLowerCase() === 'yes' || v.toLowerCase() === 'true';
}

interface Loaded {
  docs: ConfigDoc[];
  env: Env;
  options: ResolveOptions;
}

function load(options: ResolveOptions): Loaded {
  const d = options.defaults ?? {};
  let home = d.homeDir;
  let localUser = d.localUser;
  if (home === undefined || localUser === undefined) {
    let info: { username: string; homedir: string } | undefined;
    try {
      info = os.userInfo();
    } catch {
      info = undefined;
    }
    home ??= info?.homedir ?? os.homedir();
    localUser ??= info?.username ?? process.env.USER ?? '';
  }
  const env: Env = {
    home,
    localUser,
    localHostName: d.localHostName ?? os.hostname(),
    env: d.env ?? process.env,
    warn: options.onWarning ?? (() => {}),
  };
  const userBase = path.join(home, '.ssh');
  const docs: ConfigDoc[] = [];
  if (options.configText !== undefined) {
    const file = options.configPath ?? '<ssh config>';
    docs.push({ lines: parseConfigText(options.configText, file), file, includeBase: userBase });
  } else {
    const defaultFile = path.join(userBase, 'config');
    const file = options.configPath ?? defaultFile;
    const lines = readConfigFile(file, false);
    if (lines) docs.push({ lines, file, includeBase: userBase });
    else if (path.resolve(file) !== defaultFile) env.warn(`ssh config ${file} does not exist; using OpenSSH defaults`);
  }
  const sys = options.systemConfigPath === undefined ? (options.configText !== undefined ? false : '/etc/ssh/ssh_config') : options.systemConfigPath;
  if (sys !== false) {
    const lines = readConfigFile(sys, false);
    if (lines) docs.push({ lines, file: sys, includeBase: path.dirname(sys) });
  }
  return { docs, env, options };
}

const MAX_JUMP_DEPTH = 8;

/**
 * Resolve a spec (a config Host alias or `[user@]host[:port]`) into everything needed to connect.
 * Throws RunnerError('config') for a bad spec or config.
 */
export function resolveSshTarget(spec: string, options: ResolveOptions = {}): SshTarget {
  const loaded = load(options);
  return resolveWith(parseHostSpec(spec), loaded, 0, [spec]);
}

function resolveWith(hs: HostSpec, L: Loaded, depth: number, chain: string[], noJump = false): SshTarget {
  const { env } = L;
  const d = L.options.defaults ?? {};
  const o = L.options.overrides ?? {};
  const originalHost = hs.host.toLowerCase();
  const st: EvalState = {
    originalHost,
    specUser: hs.user,
    hostForHostLines: originalHost,
    finalPass: false,
    wantFinal: false,
    settings: new Map(),
    identityFiles: [],
    warned: new Set(),
  };
  for (const doc of L.docs) applyLines(doc.lines, doc, st, env, 0);
  if (st.wantFinal) {
    st.hostForHostLines = currentHostForMatch(st);
    st.finalPass = true;
    for (const doc of L.docs) applyLines(doc.lines, doc, st, env, 0);
  }
  const get = (k: string): string | undefined => st.settings.get(k)?.[0];
  const where = `host "${hs.host}"`;

  if (get('proxycommand') !== undefined && get('proxycommand')!.toLowerCase() !== 'none' && !noJump) {
    throw new RunnerError('config', `ssh config for ${where} uses ProxyCommand, which ZFS Fleet does not support; use ProxyJump instead`);
  }
  const hostNameRaw = get('hostname');
  const hostName = hostNameRaw !== undefined ? expandHostName(hostNameRaw, hs.host) : hs.host;
  if (hostName === '' || /\s/.test(hostName)) throw new RunnerError('config', `Bad HostName "${hostName}" for ${where}`);
  const portText = get('port');
  const port =
    hs.port ?? (portText !== undefined ? parsePort(portText, (why) => new RunnerError('config', `Bad Port for ${where}: ${why}`)) : undefined) ?? d.port ?? 22;
  const user = hs.user ?? get('user') ?? d.user ?? env.localUser;
  const hostKeyAlias = get('hostkeyalias');
  const jumpText = noJump ? undefined : get('proxyjump');
  const tc: TokenContext = {
    home: env.home,
    localUser: env.localUser,
    localHostName: env.localHostName,
    hostName,
    user,
    port,
    originalHost: hs.host,
    proxyJump: jumpText && jumpText.toLowerCase() !== 'none' ? jumpText : '',
  };
  if (hostKeyAlias !== undefined) tc.hostKeyAlias = hostKeyAlias;

  let identityFiles: string[];
  if (st.identityFiles.length > 0) {
    identityFiles = st.identityFiles.map((f) => expandPath(f, tc, env, 'IdentityFile'));
  } else {
    identityFiles = ['id_ed25519', 'id_ecdsa', 'id_rsa']
      .map((n) => path.join(env.home, '.ssh', n))
      .filter((f) => {
        try {
          return fs.statSync(f).isFile();
        } catch {
          return false;
        }
      });
  }

  let identityAgent: string | undefined;
  const ia = get('identityagent');
  if (ia === undefined || ia === 'SSH_AUTH_SOCK') identityAgent = env.env.SSH_AUTH_SOCK || undefined;
  else if (ia.toLowerCase() === 'none') identityAgent = undefined;
  else if (/^\$[A-Za-z_][A-Za-z0-9_]*$/.test(ia)) identityAgent = env.env[ia.slice(1)] || undefined;
  else identityAgent = expandPath(ia, tc, env, 'IdentityAgent');

  const knownFiles = (key: string, def: string[]): string[] => {
    const v = st.settings.get(key);
    if (v === undefined) return def;
    if (v.length === 1 && v[0]!.toLowerCase() === 'none') return [];
    return v
      .flatMap((s) => s.split(/\s+/))
      .filter((s) => s !== '')
      .map((f) => expandPath(f, tc, env, key));
  };
  const userKnownHostsFiles =
    o.userKnownHostsFiles ??
    knownFiles('userknownhostsfile', d.userKnownHostsFiles ?? [path.join(env.home, '.ssh', 'known_hosts'), path.join(env.home, '.ssh', 'known_hosts2')]);
  const globalKnownHostsFiles = knownFiles('globalknownhostsfile', d.globalKnownHostsFiles ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);

  const target: SshTarget = {
    alias: hs.host,
    hostName,
    port,
    user,
    identityFiles,
    identitiesOnly: yes(get('identitiesonly')) ?? false,
    proxyJump: [],
    connectTimeoutMs: o.connectTimeoutMs ?? parseSeconds(get('connecttimeout'), 'ConnectTimeout') ?? d.connectTimeoutMs ?? 15_000,
    serverAliveIntervalMs: o.serverAliveIntervalMs ?? parseSeconds(get('serveraliveinterval'), 'ServerAliveInterval') ?? d.serverAliveIntervalMs ?? 15_000,
    serverAliveCountMax: o.serverAliveCountMax ?? parseCount(get('serveralivecountmax'), 'ServerAliveCountMax') ?? d.serverAliveCountMax ?? 3,
    userKnownHostsFiles,
    globalKnownHostsFiles,
    hashKnownHosts: yes(get('hashknownhosts')) ?? false,
  };
  if (identityAgent !== undefined) target.identityAgent = identityAgent;
  if (hostKeyAlias !== undefined) target.hostKeyAlias = hostKeyAlias;
  const revoked = get('revokedhostkeys');
  if (revoked !== undefined && revoked.toLowerCase() !== 'none') target.revokedHostKeys = expandPath(revoked, tc, env, 'RevokedHostKeys');

  if (jumpText !== undefined && jumpText.toLowerCase() !== 'none') {
    if (depth >= MAX_JUMP_DEPTH) {
      throw new RunnerError('config', `ProxyJump chain too long or looping: ${chain.join(' -> ')}`);
    }
    const hops = jumpText.split(',').map((s) => s.trim());
    target.proxyJump = hops.map((hopSpec, i) => {
      let hop: HostSpec;
      try {
        hop = parseHostSpec(hopSpec);
      } catch (e) {
        throw new RunnerError('config', `Bad ProxyJump for ${where}: ${(e as Error).message}`, undefined, { cause: e });
      }
      // As OpenSSH (`ssh -J a,b` runs `ssh -J a -W host:port b`): only the first hop follows its own
      // ProxyJump; later hops are reached through the hops before them.
      return resolveWith(hop, L, depth + 1, [...chain, hopSpec], i > 0);
    });
  }
  return target;
}

/** Every hop then the target, in connection order (a first hop's own jumps come first). */
export function connectionChain(target: SshTarget): SshTarget[] {
  if (target.proxyJump.length === 0) return [target];
  const [first, ...rest] = target.proxyJump;
  return [...connectionChain(first!), ...rest, target];
}

/**
 * The concrete Host aliases of a config (no wildcards, no negations, not Match blocks), in order,
 * following Include (relative to ~/.ssh) unless followIncludes is false.
 */
export function listConfigHosts(configText: string, options: { homeDir?: string; followIncludes?: boolean } = {}): string[] {
  const home = options.homeDir ?? os.homedir();
  const out: string[] = [];
  const visit = (lines: SSHConfig, depth: number): void => {
    for (const line of lines) {
      if (!isDirective(line)) continue;
      const param = line.param.toLowerCase();
      if (param === 'host') {
        for (const p of values(line).flatMap((v) => v.split(/\s+/))) {
          if (p !== '' && !/[*?!]/.test(p) && !out.includes(p)) out.push(p);
        }
        if (line.config) visit(line.config, depth);
      } else if (param === 'match') {
        if (line.config) visit(line.config, depth);
      } else if (param === 'include' && options.followIncludes !== false && depth < MAX_INCLUDE_DEPTH) {
        for (const v of values(line)) {
          let p = expandTilde(v, home);
          if (!path.isAbsolute(p)) p = path.join(home, '.ssh', p);
          for (const f of expandGlob(p)) {
            let sub: SSHConfig | undefined;
            try {
              sub = readConfigFile(f, false);
            } catch {
              sub = undefined;
            }
            if (sub) visit(sub, depth + 1);
          }
        }
      }
    }
  };
  visit(parseConfigText(configText, '<ssh config>'), 0);
  return out;
}

/** The Host aliases of an ssh config file with their HostName and User (for matching the hosts other configs name); none when the file does not exist. */
export function sshConfigHosts(configPath: string, warn: (message: string) => void): { alias: string; hostName?: string; user?: string }[] {
  if (!fs.existsSync(configPath)) return [];
  const hosts: { alias: string; hostName?: string; user?: string }[] = [];
  for (const alias of listConfigHosts(fs.readFileSync(configPath, 'utf8'))) {
    try {
      const t = resolveSshTarget(alias, { configPath, systemConfigPath: false, defaults: { user: '' } });
      hosts.push({ alias, hostName: t.hostName, ...(t.user ? { user: t.user } : {}) });
    } catch (e) {
      warn(`${configPath}: ${alias}: ${(e as Error).message}`);
      hosts.push({ alias });
    }
  }
  return hosts;
}
