/** One typed accessor for the `zfsFleet.*` settings. */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

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
}

export const SECTION = 'zfsFleet';

export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return p;
}

export function readSettings(): FleetSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
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
  };
}

/** Write the host list where it is defined now (workspace or user settings), else to user settings. */
export async function writeHosts(hosts: string[]): Promise<void> {
  const c = vscode.workspace.getConfiguration(SECTION);
  const info = c.inspect<string[]>('hosts');
  const target = info?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder : info?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await c.update('hosts', hosts, target);
}
