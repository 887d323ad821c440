/**
 * What a host's zfs can do, decided by asking it. OpenZFS identifies itself with `zfs version`;
 * anything else (zfs-fuse, old illumos) is probed feature by feature, never assumed.
 */
import type { Runner } from '../runner.js';
import { runBatch, type BatchResult } from './batch.js';
import { parseOpenZfsVersion } from './parse.js';
import type { ZfsCapabilities } from './types.js';

export interface ProbeOptions {
  zfsPath: string;
  zpoolPath: string;
  timeoutMs: number;
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/** Capabilities of an OpenZFS release, from its version. */
export function openZfsCapabilities(version: string, versionText: string): ZfsCapabilities {
  const properties = ['createtxg', 'written', 'userrefs', 'mounted', 'clones'];
  if (atLeast(version, 0, 7)) properties.push('receive_resume_token');
  if (atLeast(version, 0, 8)) properties.push('encryption', 'keystatus');
  return {
    implementation: 'openzfs',
    version,
    versionText,
    listParsable: true,
    json: atLeast(version, 2, 3),
    zpoolParsable: true,
    properties,
    holds: true,
    bookmarks: true,
    resumeTokens: atLeast(version, 0, 7),
    allow: true,
    sendEstimate: true,
  };
}

const OPTIONAL_PROPERTIES = ['createtxg', 'written', 'userrefs', 'mounted', 'clones', 'encryption', 'keystatus', 'receive_resume_token'];

/** zfs-fuse has no `zfs version`; its package says what it is (never run the zfs-fuse binary: it is the daemon). */
const FUSE_VERSION = ['sh', '-c', "command -v zfs-fuse >/dev/null 2>&1 && echo zfs-fuse && (dpkg-query -W -f '${Version}' zfs-fuse 2>/dev/null || true)"];

/**
 * The commands whose answers identify a host's ZFS build, cheap enough to run with every listing
 * of a host whose probe is cached: `zfs version` (OpenZFS: userland and kernel module), and whether
 * zfs-fuse is installed with a checksum of the zfs binary the host runs (any upgrade changes it).
 */
export function identityCommands(opts: Pick<ProbeOptions, 'zfsPath'>): string[][] {
  return [
    [opts.zfsPath, 'version'],
    ['sh', '-c', 'command -v zfs-fuse >/dev/null 2>&1 && echo zfs-fuse; p=$(command -v "$1") && cksum <"$p"', 'zfs-fleet-id', opts.zfsPath],
  ];
}

/** What identifies a host's ZFS build (from the identity commands' results): a cached probe is valid while this stays the same. */
export function zfsIdentity(version: BatchResult, build: BatchResult): string {
  return `${version.exitCode}\n${version.stdout.trim()}\n${version.exitCode === 0 ? '' : version.stderr.trim()}\n${build.stdout.trim()}`;
}

export interface ProbeResult {
  capabilities: ZfsCapabilities;
  /** See zfsIdentity. */
  identity: string;
}

/**
 * Probe in as few remote commands as the host allows: one batch (version, pools, package) that
 * decides OpenZFS by its version; anything else gets one more batch of feature probes on its first pool.
 */
export async function probeCapabilities(runner: Runner, opts: ProbeOptions): Promise<ZfsCapabilities> {
  return (await probeHost(runner, opts)).capabilities;
}

export async function probeHost(runner: Runner, opts: ProbeOptions): Promise<ProbeResult> {
  const [version, build, pools, fuse] = await runBatch(runner, [...identityCommands(opts), [opts.zpoolPath, 'list', '-H', '-o', 'name'], FUSE_VERSION], {
    timeoutMs: opts.timeoutMs,
  });
  const identity = zfsIdentity(version!, build!);
  if (version!.exitCode === 0) {
    const v = parseOpenZfsVersion(version!.stdout);
    if (v) return { capabilities: openZfsCapabilities(v, version!.stdout.trim().split('\n')[0]!), identity };
  }
  if (version!.exitCode === 127 || (/not found/.test(version!.stderr) && !/unrecognized/.test(version!.stderr))) {
    throw Object.assign(
      new Error(`${runner.label}: ${opts.zfsPath} was not found on the host (${(version!.stderr || version!.stdout).trim()}); set zfsFleet.zfsPath`),
      { code: 'command-not-found' },
    );
  }
  // Not OpenZFS: probe. The first pool's root dataset is the probe target; with no pool, assume the least.
  const pool = pools!.exitCode === 0 ? pools!.stdout.split('\n').find((l) => l !== '') : undefined;
  const isFuse = fuse!.stdout.startsWith('zfs-fuse');
  const fuseVersion = /(\d+\.\d+\.\d+)/.exec(fuse!.stdout)?.[1];
  const caps: ZfsCapabilities = {
    implementation: isFuse ? 'zfs-fuse' : 'unknown',
    version: isFuse ? fuseVersion : undefined,
    versionText: isFuse ? `zfs-fuse${fuseVersion ? ' ' + fuseVersion : ''}` : `unknown ZFS (${firstLine(version!.stderr || version!.stdout)})`,
    listParsable: false,
    json: false,
    zpoolParsable: false,
    properties: [],
    holds: false,
    bookmarks: false,
    resumeTokens: false,
    allow: false,
    sendEstimate: false,
  };
  if (!pool) return { capabilities: caps, identity };
  const probes = await runBatch(
    runner,
    [
      [opts.zfsPath, 'list', '-H', '-p', '-o', 'name', pool],
      [opts.zpoolPath, 'list', '-H', '-p', '-o', 'name', pool],
      [opts.zfsPath, 'list', '-H', '-t', 'bookmark', '-o', 'name', pool],
      [opts.zfsPath, 'allow', pool],
      ...OPTIONAL_PROPERTIES.map((p) => [opts.zfsPath, 'get', '-H', '-p', '-o', 'value', p, pool]),
    ],
    { timeoutMs: opts.timeoutMs },
  );
  const [listP, zpoolP, bookmarks, allow, ...props] = probes;
  caps.listParsable = listP!.exitCode === 0;
  caps.zpoolParsable = zpoolP!.exitCode === 0;
  caps.bookmarks = bookmarks!.exitCode === 0;
  caps.allow = allow!.exitCode === 0;
  caps.properties = OPTIONAL_PROPERTIES.filter((_, i) => props[i]!.exitCode === 0);
  caps.holds = caps.properties.includes('userrefs');
  caps.resumeTokens = caps.properties.includes('receive_resume_token');
  return { capabilities: caps, identity };
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}
