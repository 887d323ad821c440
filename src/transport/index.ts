/** The transport: how commands reach a host. Shared by the extension and the CLI; never imports 'vscode'. */
import type { Logger } from '../core/log.js';
import { LocalRunner } from './local.js';
import type { Runner } from '../core/runner.js';
import { SshRunner, type HostKeyDecision, type PassphraseRequest, type SessionHostKeys, type UnknownHostKeyInfo } from './ssh.js';
import { resolveSshTarget, type ResolveOptions } from './sshConfig.js';

export interface TransportDeps {
  logger: Logger;
  /** The user's OpenSSH client config (default ~/.ssh/config); /etc/ssh/ssh_config is read after it. */
  sshConfigPath?: string;
  /** known_hosts files to use instead of the config's UserKnownHostsFile; new keys are saved to the first. */
  knownHostsFiles?: string[];
  onUnknownHostKey: (info: UnknownHostKeyInfo) => Promise<HostKeyDecision>;
  getPassphrase: (req: PassphraseRequest) => Promise<string | undefined>;
  onPassphraseAccepted?: (keyPath: string, passphrase: string) => void | Promise<void>;
  /** Concurrent commands per host connection (default 8). */
  maxChannels?: number;
  /** Used when the ssh config has no ConnectTimeout (default 15 000). */
  connectTimeoutMs?: number;
  /** Used when the ssh config has no ServerAliveInterval (default 15 000; 0 turns keepalives off). */
  keepaliveIntervalMs?: number;
  /** Used when the ssh config has no ServerAliveCountMax (default 3). */
  keepaliveCountMax?: number;
  /** For tests and special setups: the system-wide config (false: none), home directory, environment. */
  systemSshConfigPath?: string | false;
  homeDir?: string;
  env?: Record<string, string | undefined>;
  /** Keys accepted "once" (default: shared by the whole process). */
  sessionHostKeys?: SessionHostKeys;
}

/**
 * `local` runs commands on this machine; anything else is an ssh-config alias or `[user@]host[:port]`,
 * resolved now through the ssh config (RunnerError 'config' if that fails) and connected on first use.
 */
export function createRunner(spec: string, deps: TransportDeps): Runner {
  if (spec === 'local') return new LocalRunner({ logger: deps.logger });
  const options: ResolveOptions = {
    defaults: {},
    onWarning: (m) => deps.logger.warn(m),
  };
  if (deps.sshConfigPath !== undefined) options.configPath = deps.sshConfigPath;
  if (deps.systemSshConfigPath !== undefined) options.systemConfigPath = deps.systemSshConfigPath;
  const d = options.defaults!;
  if (deps.connectTimeoutMs !== undefined) d.connectTimeoutMs = deps.connectTimeoutMs;
  if (deps.keepaliveIntervalMs !== undefined) d.serverAliveIntervalMs = deps.keepaliveIntervalMs;
  if (deps.keepaliveCountMax !== undefined) d.serverAliveCountMax = deps.keepaliveCountMax;
  if (deps.homeDir !== undefined) d.homeDir = deps.homeDir;
  if (deps.env !== undefined) d.env = deps.env;
  if (deps.knownHostsFiles !== undefined && deps.knownHostsFiles.length > 0) options.overrides = { userKnownHostsFiles: deps.knownHostsFiles };
  const target = resolveSshTarget(spec, options);
  return new SshRunner(target, {
    logger: deps.logger,
    label: spec,
    onUnknownHostKey: deps.onUnknownHostKey,
    getPassphrase: deps.getPassphrase,
    ...(deps.onPassphraseAccepted ? { onPassphraseAccepted: deps.onPassphraseAccepted } : {}),
    ...(deps.maxChannels !== undefined ? { maxChannels: deps.maxChannels } : {}),
    ...(deps.sessionHostKeys ? { sessionHostKeys: deps.sessionHostKeys } : {}),
  });
}

export { RunnerError } from '../core/runner.js';
export type { Runner, RunnerErrorCode, RunOptions, RunResult } from '../core/runner.js';
export { LocalRunner, type LocalRunnerOptions } from './local.js';
export {
  SshRunner,
  SessionHostKeys,
  processHostKeys,
  type HostKeyDecision,
  type PassphraseRequest,
  type SshCallbacks,
  type SshRunnerOptions,
  type UnknownHostKeyInfo,
} from './ssh.js';
export {
  resolveSshTarget,
  parseHostSpec,
  listConfigHosts,
  connectionChain,
  type HostSpec,
  type ResolveDefaults,
  type ResolveOptions,
  type ResolveOverrides,
  type SshTarget,
} from './sshConfig.js';
export {
  appendKnownHost,
  fingerprintSha256,
  verifyHostKey,
  parseKnownHosts,
  knownHostsName,
  type HostKeyCheck,
  type HostKeyStatus,
  type KnownHostsEntry,
} from './knownHosts.js';
