/** activate(): build the services, register the view and the commands. Thin on purpose. */
import * as vscode from 'vscode';
import { Fleet } from './core/fleet/fleet.js';
import { safeLogger, type Logger } from './core/log.js';
import { createRunner } from './transport/index.js';
import { registerCommands } from './ui/commands/index.js';
import type { FleetContext } from './ui/context.js';
import { extensionHealthSource, FleetHealth } from './ui/health/view.js';
import { storeFirstHealthSource } from './ui/health/storeSource.js';
import { QueueView } from './ui/queue/view.js';
import { StoreRunLog } from './store/runLog.js';
import type { PairEntry } from './core/fleet/pairSpecs.js';
import { Replication } from './ui/replication/service.js';
import { extensionApp } from './ui/app.js';
import { readSettings, SECTION, type FleetSettings } from './ui/settings.js';
import { askUnknownHostKey, PassphraseStore } from './ui/sshPrompts.js';
import { FleetTreeProvider, type FleetNode } from './ui/tree.js';
import { vscodeUserInput } from './ui/userInput.js';
import { registerTestCommands, testApi, type TestApi } from './ui/testHooks.js';

export type { TestApi };

export function activate(context: vscode.ExtensionContext): TestApi | undefined {
  const log = vscode.window.createOutputChannel('ZFS Fleet', { log: true });
  const logger: Logger = safeLogger(log);
  const input = vscodeUserInput;
  let settings = readSettings();
  const passphrases = new PassphraseStore(context, input, () => settings.rememberPassphrases);

  const hostSettings = (s: FleetSettings) => ({ zfsPath: s.zfsPath, zpoolPath: s.zpoolPath, commandTimeoutMs: s.commandTimeoutMs });
  const fleet = new Fleet(
    (spec) =>
      createRunner(spec, {
        logger,
        sshConfigPath: settings.sshConfigPath,
        knownHostsFiles: [settings.knownHostsPath],
        connectTimeoutMs: settings.connectTimeoutMs,
        keepaliveIntervalMs: settings.keepaliveIntervalMs,
        maxChannels: settings.maxChannelsPerHost,
        onUnknownHostKey: (q) => askUnknownHostKey(input, q, settings.knownHostsPath),
        getPassphrase: (req) => passphrases.get(req),
        onPassphraseAccepted: (keyPath, passphrase) => void passphrases.accepted(keyPath, passphrase),
      }),
    hostSettings(settings),
    logger,
    undefined,
    true,
  );
  // In an untrusted workspace no host connects (the manifest's promise): the Hosts view says why.
  // The hosts of zfsFleet.hosts, then those the workspace's fleet file defines (read by the Replication service).
  let fileHosts: readonly string[] = [];
  const allowedHosts = () => (vscode.workspace.isTrusted ? [...new Set([...settings.hosts, ...fileHosts])] : []);
  fleet.setHosts(allowedHosts());

  const tree = new FleetTreeProvider(fleet, logger);
  const view = vscode.window.createTreeView<FleetNode>('zfsFleet.hosts', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  const replication = new Replication(context, tree.model);
  const trusted = () => replication.isTrusted();
  // The agent's observations when it fills the store (every host observed within 5 minutes), the hosts themselves otherwise.
  const liveHealth = extensionHealthSource({ fleet, model: tree.model, pairs: replication.pairs, runLog: replication.history, trusted });
  const history = replication.history;
  const healthSource = storeFirstHealthSource(liveHealth, {
    ...(history instanceof StoreRunLog ? { store: history } : {}),
    hosts: () => (trusted() ? fleet.names : []),
    pairs: async () => (await replication.pairs.allNodes()).flatMap((n): PairEntry[] => (n.kind === 'pair' || n.kind === 'invalid' ? [n.entry] : [])),
    runLog: history,
    thresholds: () => readSettings().healthThresholds,
    logger,
  });
  const health = new FleetHealth(healthSource, {
    model: tree.model,
    pairs: replication.pairs,
    fleet,
    trusted,
    logger,
  });
  // The fleet store's job queue; the store is opened when the view is first shown, read only while it is visible.
  const queue = new QueueView(context, { logger });
  const base = {
    extension: context,
    fleet,
    tree,
    view,
    log: { ...logger, show: (preserveFocus?: boolean) => log.show(preserveFocus) },
    input,
    replication,
    health,
  };
  const ctx: FleetContext = { ...base, app: extensionApp(base) };

  context.subscriptions.push(
    replication.pairs.onDidChange(() => {
      const next = replication.pairs.fileHosts();
      if (next.join('\0') === fileHosts.join('\0')) return;
      fileHosts = next;
      fleet.setHosts(allowedHosts());
      tree.reset();
    }),
    log,
    tree,
    view,
    replication,
    health,
    queue,
    ...registerCommands(ctx),
    ...registerTestCommands(ctx),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      const old = settings;
      settings = readSettings();
      const connectionChanged = (
        [
          'sshConfigPath',
          'knownHostsPath',
          'zfsPath',
          'zpoolPath',
          'connectTimeoutMs',
          'commandTimeoutMs',
          'keepaliveIntervalMs',
          'maxChannelsPerHost',
        ] as const
      ).some((k) => old[k] !== settings[k]);
      fleet.setHosts(allowedHosts());
      if (connectionChanged) {
        fleet.updateSettings(hostSettings(settings));
        for (const h of settings.hosts) tree.forget(h);
      }
      tree.reset();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      fleet.setHosts(allowedHosts());
      tree.reset();
    }),
    { dispose: () => void fleet.dispose() },
  );
  log.info(`ZFS Fleet activated with ${settings.hosts.length} host(s) in zfsFleet.hosts`);
  return testApi(ctx);
}

export function deactivate(): void {}
