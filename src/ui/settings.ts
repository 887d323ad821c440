/**
 * One typed accessor for the `zfsFleet.*` settings: every read and write of them goes through here
 * (the host and connection settings, the raw replication pairs, the host and pair lists written back).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PairSpec } from '../core/fleet/pairs.js';
import { DEFAULT_THRESHOLDS, type CheckThresholds } from '../core/monitor/check.js';
import { parseDuration } from '../core/monitor/duration.js';

export interface FleetSettings {
  hosts: string[];
  sshConfigPath: string;
  knownHostsPath: string;
  zfsPath: string;
  zpoolPath: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  keepaliveIntervalMs: number;
  maxChannelsPerHost: number;
  hostConcurrency: number;
  rememberPassphrases: 'ask' | 'never';
  /** The fleet store's URL or file; undefined: `$ZFS_FLEET_STORE`, else the default file (as the CLI). */
  store: string | undefined;
  /** How often the Fleet Health view lists the hosts again, seconds; 0: only on Refresh. */
  pollIntervalSeconds: number;
  /** What the Fleet Health view judges against, as `zfs-fleet check --stale-after --capacity-warn --capacity-crit`. */
  healthThresholds: CheckThresholds;
}

export const SECTION = 'zfsFleet';

export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return p;
}

function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION);
}

export function readSettings(): FleetSettings {
  const c = config();
  const hosts = c.get<unknown>('hosts', []);
  return {
    hosts: Array.isArray(hosts) ? hosts.map((h) => String(h).trim()).filter((h) => h !== '') : [],
    sshConfigPath: expandHome(c.get('sshConfigPath', '~/.ssh/config')),
    knownHostsPath: expandHome(c.get('knownHostsPath', '~/.ssh/known_hosts')),
    zfsPath: c.get('zfsPath', 'zfs') || 'zfs',
    zpoolPath: c.get('zpoolPath', 'zpool') || 'zpool',
    connectTimeoutMs: c.get('connectTimeoutSeconds', 15) * 1000,
    commandTimeoutMs: c.get('commandTimeoutSeconds', 120) * 1000,
    keepaliveIntervalMs: c.get('keepaliveIntervalSeconds', 15) * 1000,
    maxChannelsPerHost: c.get('maxChannelsPerHost', 8),
    hostConcurrency: c.get('hostConcurrency', 8),
    rememberPassphrases: c.get<string>('rememberPassphrases', 'ask') === 'never' ? 'never' : 'ask',
    store: c.get<string>('store', '').trim() || undefined,
    pollIntervalSeconds: pollInterval(c.get<unknown>('pollIntervalSeconds', 300)),
    healthThresholds: thresholds(c.get<unknown>('staleAfter', '7h'), c.get<unknown>('capacityWarnPercent', 80), c.get<unknown>('capacityCritPercent', 90)),
  };
}

/** 0 (off) or at least 10 seconds; anything that is not a number: the default, 300. */
function pollInterval(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return 300;
  return v === 0 ? 0 : Math.max(10, Math.round(v));
}

/** The check's thresholds; a value that is not one (a duration like 7h, a percentage) is the default. */
function thresholds(staleAfter: unknown, warn: unknown, crit: unknown): CheckThresholds {
  let stale = DEFAULT_THRESHOLDS.staleAfterSeconds;
  try {
    if (typeof staleAfter === 'string' || typeof staleAfter === 'number') stale = parseDuration(String(staleAfter));
  } catch {
    // not a duration: the default
  }
  const pct = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 100 ? v : d);
  return { staleAfterSeconds: stale, capacityWarn: pct(warn, DEFAULT_THRESHOLDS.capacityWarn), capacityCrit: pct(crit, DEFAULT_THRESHOLDS.capacityCrit) };
}

/** Where a list setting is written: where it is defined now (folder, workspace settings), else the user settings. */
function writeTarget(c: vscode.WorkspaceConfiguration, key: 'hosts' | 'pairs'): vscode.ConfigurationTarget {
  const info = c.inspect<unknown[]>(key);
  return info?.workspaceFolderValue !== undefined
    ? vscode.ConfigurationTarget.WorkspaceFolder
    : info?.workspaceValue !== undefined
      ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
}

/** Write the host list where it is defined now (workspace or user settings), else to user settings. */
export async function writeHosts(hosts: string[]): Promise<void> {
  const c = config();
  await c.update('hosts', hosts, writeTarget(c, 'hosts'));
}

/** `zfsFleet.pairs` as written (core's collectPairs validates it) and the level it comes from (for "defined in"). */
export function readPairsSetting(): { value: unknown; scope: 'user' | 'workspace' | 'folder' } {
  const c = config();
  const info = c.inspect('pairs');
  const scope = info?.workspaceFolderValue !== undefined ? 'folder' : info?.workspaceValue !== undefined ? 'workspace' : 'user';
  return { value: c.get<unknown>('pairs'), scope };
}

/** Append a pair to `zfsFleet.pairs` where it is defined now (workspace or user settings), else to the user settings. */
export async function addPairSetting(spec: PairSpec): Promise<void> {
  const c = config();
  const target = writeTarget(c, 'pairs');
  const info = c.inspect<unknown[]>('pairs');
  const current =
    target === vscode.ConfigurationTarget.WorkspaceFolder
      ? info?.workspaceFolderValue
      : target === vscode.ConfigurationTarget.Workspace
        ? info?.workspaceValue
        : info?.globalValue;
  await c.update('pairs', [...(Array.isArray(current) ? current : []), spec], target);
}

/** Remove the entries of `zfsFleet.pairs` for which `match` is true from every settings level that has them; how many were removed. */
export async function removePairSettings(match: (entry: unknown) => boolean): Promise<number> {
  const c = config();
  const info = c.inspect<unknown[]>('pairs');
  let removed = 0;
  const levels: [unknown, vscode.ConfigurationTarget][] = [
    [info?.workspaceFolderValue, vscode.ConfigurationTarget.WorkspaceFolder],
    [info?.workspaceValue, vscode.ConfigurationTarget.Workspace],
    [info?.globalValue, vscode.ConfigurationTarget.Global],
  ];
  for (const [value, target] of levels) {
    if (!Array.isArray(value)) continue;
    const kept = value.filter((e) => !match(e));
    if (kept.length === value.length) continue;
    removed += value.length - kept.length;
    await c.update('pairs', kept, target);
  }
  return removed;
}
