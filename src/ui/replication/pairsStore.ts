/**
 * The replication pairs as the extension knows them: read from the setting `zfsFleet.pairs` and the
 * workspace's `.zfs-fleet.json` (pairsConfig.ts), with each pair's last run from the history. One
 * row per entry (a valid pair, an invalid entry with its reason, an ignored file), as plain data.
 * It fires `onDidChange` when the rows or their last runs change; the Replication view
 * (pairsTree.ts) and the timelines subscribe. Commands use it as `ctx.replication.pairs`.
 */
import * as vscode from 'vscode';
import type { HistoryEntry } from '../../app/history.js';
import type { FleetTreeModel } from '../../core/fleet/treeModel.js';
import { describeOrigin, type InvalidPair, type ValidPair } from '../../core/fleet/pairSpecs.js';
import { readPairsConfig, type PairsConfig } from './pairsConfig.js';

export type PairNode =
  | { kind: 'pair'; id: string; entry: ValidPair }
  | { kind: 'invalid'; id: string; entry: InvalidPair }
  | { kind: 'notice'; id: string; text: string; detail: string; file?: string };

export function isPairNode(x: unknown): x is Extract<PairNode, { kind: 'pair' }> {
  return !!x && typeof x === 'object' && (x as PairNode).kind === 'pair' && typeof (x as { entry?: ValidPair }).entry?.pair?.id === 'string';
}

export class PairsStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** The pairs were read again (settings, the workspace file, trust) or the history changed (a plan ran). */
  readonly onDidChange = this.changed.event;
  private config: PairsConfig = { entries: [], hosts: [], files: new Map(), ignoredFiles: [] };
  private nodes: PairNode[] = [];
  private loaded?: Promise<void>;
  private lastRuns = new Map<string, HistoryEntry>();

  constructor(
    /** The Hosts view's model: the listings a pair's state is computed from. */
    private readonly hosts: FleetTreeModel,
    private readonly trusted: () => boolean,
    private readonly readHistory: () => Promise<HistoryEntry[]>,
  ) {}

  dispose(): void {
    this.changed.dispose();
  }

  /** Read the pairs again (settings or the workspace file changed, trust granted). */
  reload(): Promise<void> {
    this.loaded = this.load();
    return this.loaded;
  }

  private async load(): Promise<void> {
    const [config, history] = await Promise.all([readPairsConfig(this.trusted()), this.readHistory().catch(() => [] as HistoryEntry[])]);
    this.config = config;
    this.setLastRuns(history);
    const nodes: PairNode[] = config.entries.map((e, i) =>
      e.ok ? { kind: 'pair', id: `pair:${e.pair.id}`, entry: e } : { kind: 'invalid', id: `invalid:${i}:${describeOrigin(e.origin)}`, entry: e },
    );
    for (const f of config.ignoredFiles) {
      nodes.push({
        kind: 'notice',
        id: `ignored:${f}`,
        text: `${f} ignored`,
        detail: `${f} is not read because this workspace is not trusted: its pairs name hosts to connect to. Trust the workspace to use them.`,
        file: f,
      });
    }
    this.nodes = nodes;
    this.changed.fire();
  }

  /** The history changed (a plan ran): the pairs' last runs. */
  async historyChanged(): Promise<void> {
    this.setLastRuns(await this.readHistory().catch(() => [] as HistoryEntry[]));
    this.changed.fire();
  }

  /** History entries come newest first: the first one naming a pair is its last run. */
  private setLastRuns(history: HistoryEntry[]): void {
    this.lastRuns = new Map();
    for (const h of history) if (h.pair && !this.lastRuns.has(h.pair)) this.lastRuns.set(h.pair, h);
  }

  /** The last recorded run of a pair (by pair id), as of the last read. */
  lastRun(pairId: string): HistoryEntry | undefined {
    return this.lastRuns.get(pairId);
  }

  /** The hosts the workspace fleet files define, as last read. */
  fileHosts(): readonly string[] {
    return this.config.hosts;
  }

  /** The valid pairs, after the configuration has been read. */
  async pairs(): Promise<ValidPair[]> {
    await (this.loaded ?? this.reload());
    return this.config.entries.filter((e): e is ValidPair => e.ok);
  }

  /** Every row (valid pairs, invalid entries, ignored files), after the configuration has been read. */
  async allNodes(): Promise<PairNode[]> {
    await (this.loaded ?? this.reload());
    return this.nodes;
  }

  /** The rows as last read, without waiting for a read under way (none before the first). */
  loadedNodes(): readonly PairNode[] {
    return this.nodes;
  }

  fileUri(display: string): vscode.Uri | undefined {
    return this.config.files.get(display);
  }

  /** The listings of the pairs' hosts are loaded by the Hosts view's model; force: ask the hosts again. */
  async refreshHosts(force: boolean): Promise<void> {
    const hosts = new Set<string>();
    for (const n of await this.allNodes()) if (n.kind === 'pair') hosts.add(n.entry.pair.source.host).add(n.entry.pair.target.host);
    await Promise.all([...hosts].map((h) => (force || !this.hosts.state(h) ? this.hosts.loadHost(h, force) : undefined)));
  }
}
