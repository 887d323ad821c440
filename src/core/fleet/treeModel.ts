/**
 * The fleet tree as plain data: hosts -> pools -> datasets -> snapshots (clones under their origin
 * snapshot). Nodes are a discriminated union with stable ids; `children` and `view` switch on `kind`.
 * No vscode here: the provider in src/ui/tree.ts only maps NodeView to a TreeItem, and the
 * integration tests walk this model against real hosts.
 */
import { describeScan } from '../zfs/poolStatus.js';
import { Emitter, type Event } from '../event.js';
import { formatAge, formatBytes, formatTime } from '../format.js';
import { silentLogger, type Logger } from '../log.js';
import { parentDataset, shortName } from '../zfs/names.js';
import type { ZfsObject } from '../zfs/types.js';
import type { Fleet } from './fleet.js';
import type { DatasetEntry, HostListing } from './listing.js';

export type FleetNode =
  | { kind: 'host'; id: string; host: string }
  | { kind: 'pool'; id: string; host: string; pool: string }
  | { kind: 'dataset'; id: string; host: string; name: string }
  | { kind: 'snapshots'; id: string; host: string; dataset: string }
  | { kind: 'bookmarks'; id: string; host: string; dataset: string }
  | { kind: 'snapshot'; id: string; host: string; name: string }
  | { kind: 'bookmark'; id: string; host: string; name: string }
  | { kind: 'clone'; id: string; host: string; name: string; origin: string }
  | { kind: 'message'; id: string; host: string; text: string; detail?: string; error?: boolean };

/** While a host is listed again, `previous` is the listing shown meanwhile (so the tree keeps its rows and their expansion). */
export type HostState = { state: 'loading'; previous?: HostListing } | { state: 'ok'; listing: HostListing } | { state: 'error'; error: Error };

/** A host started or finished loading: its name and the kind of its new state. */
export interface HostChange {
  host: string;
  state: HostState['state'];
}

/** What a node looks like; the UI maps it 1:1 to a TreeItem. `icon` is a codicon id. */
export interface NodeView {
  label: string;
  description?: string;
  icon: string;
  /** A theme colour id for the icon (errorForeground, list.warningForeground). */
  iconColor?: string;
  contextValue: string;
  collapsible: boolean;
  /** Plain text (never markdown from hosts). */
  tooltip?: string;
  /** A command run when the node is clicked (a retry on an error message). */
  command?: string;
}

const SEP = '\u0000';
const id = (host: string, ...parts: string[]) => [host, ...parts].join(SEP);

export class FleetTreeModel {
  private readonly states = new Map<string, HostState>();
  private readonly nodes = new Map<string, FleetNode>();
  private readonly hostChanged: Emitter<HostChange>;
  private readonly hostListChanged: Emitter<void>;
  /** A host started loading (`loading`) or finished (`ok`, `error`): what shows it (the Hosts view, the Replication view, timelines) redraws it. */
  readonly onDidChangeHost: Event<HostChange>;
  /** The host list changed (settings, workspace trust): everything is redrawn; new hosts load as they are shown. */
  readonly onDidChangeHostList: Event<void>;

  constructor(
    private readonly fleet: Fleet,
    logger: Logger = silentLogger,
  ) {
    const onListenerError = (e: unknown) => logger.error(`fleet tree: a change listener failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    this.hostChanged = new Emitter(onListenerError);
    this.hostListChanged = new Emitter(onListenerError);
    this.onDidChangeHost = this.hostChanged.event;
    this.onDidChangeHostList = this.hostListChanged.event;
  }

  dispose(): void {
    this.hostChanged.dispose();
    this.hostListChanged.dispose();
  }

  state(host: string): HostState | undefined {
    return this.states.get(host);
  }

  listing(host: string): HostListing | undefined {
    const s = this.states.get(host);
    return s?.state === 'ok' ? s.listing : undefined;
  }

  /** The state the tree draws: while a host is listed again, its previous listing. */
  private shown(host: string): HostState | undefined {
    const s = this.states.get(host);
    return s?.state === 'loading' && s.previous ? { state: 'ok', listing: s.previous } : s;
  }

  /** Interned so change events can name the node object the view holds. */
  private node<N extends FleetNode>(n: N): N {
    const old = this.nodes.get(n.id);
    if (old) return old as N;
    this.nodes.set(n.id, n);
    return n;
  }

  hostNode(host: string): FleetNode {
    return this.node({ kind: 'host', id: id(host), host });
  }

  /** Load (force: ask the host again) one host; never throws: a failure becomes the host's error state. */
  async loadHost(host: string, force: boolean): Promise<HostState> {
    const before = this.states.get(host);
    const previous = before?.state === 'ok' ? before.listing : before?.state === 'loading' ? before.previous : undefined;
    this.states.set(host, previous ? { state: 'loading', previous } : { state: 'loading' });
    this.hostChanged.fire({ host, state: 'loading' });
    let s: HostState;
    try {
      s = { state: 'ok', listing: await this.fleet.host(host).listing(force) };
    } catch (error) {
      s = { state: 'error', error: error instanceof Error ? error : new Error(String(error)) };
    }
    this.forgetNodes(host);
    this.states.set(host, s);
    this.hostChanged.fire({ host, state: s.state });
    return s;
  }

  /** Drop a host's listing (its connection settings changed, it was removed); it loads again when shown. No event: the caller follows with hostsChanged(). */
  forget(host: string): void {
    this.states.delete(host);
    this.forgetNodes(host);
  }

  /** The fleet's host list changed (or hosts were forgotten): tell everything to redraw from the root. */
  hostsChanged(): void {
    this.hostListChanged.fire();
  }

  private forgetNodes(host: string): void {
    const prefix = host + SEP;
    for (const k of this.nodes.keys()) if (k.startsWith(prefix) && k !== prefix) this.nodes.delete(k);
  }

  /** Children from the cached listing. The root lists the hosts and starts loading any not yet loaded. */
  children(node?: FleetNode): FleetNode[] {
    if (!node) {
      return this.fleet.names.map((h) => {
        if (!this.states.has(h)) void this.loadHost(h, false);
        return this.hostNode(h);
      });
    }
    const s = this.shown(node.host);
    if (node.kind === 'host') {
      if (!s || s.state === 'loading') return [this.node({ kind: 'message', id: id(node.host, 'loading'), host: node.host, text: 'Connecting…' })];
      if (s.state === 'error')
        return [
          this.node({
            kind: 'message',
            id: id(node.host, 'error'),
            host: node.host,
            text: s.error.message.split('\n')[0]!,
            detail: s.error.message,
            error: true,
          }),
        ];
      if (s.listing.pools.length === 0) return [this.node({ kind: 'message', id: id(node.host, 'nopools'), host: node.host, text: 'No pools imported' })];
      return s.listing.pools.map((p) => this.node({ kind: 'pool', id: id(node.host, 'pool', p.name), host: node.host, pool: p.name }));
    }
    if (s?.state !== 'ok') return [];
    const l = s.listing;
    switch (node.kind) {
      case 'pool': {
        const root = l.datasets.get(node.pool);
        return root ? this.datasetChildren(node.host, root) : [];
      }
      case 'dataset': {
        const e = l.datasets.get(node.name);
        return e ? this.datasetChildren(node.host, e) : [];
      }
      case 'snapshots':
        return (l.datasets.get(node.dataset)?.snapshots ?? []).map((o) =>
          this.node({ kind: 'snapshot', id: id(node.host, 'snap', o.name), host: node.host, name: o.name }),
        );
      case 'bookmarks':
        return (l.datasets.get(node.dataset)?.bookmarks ?? []).map((o) =>
          this.node({ kind: 'bookmark', id: id(node.host, 'bm', o.name), host: node.host, name: o.name }),
        );
      case 'snapshot':
        return (l.clones.get(node.name) ?? []).map((c) =>
          this.node({ kind: 'clone', id: id(node.host, 'clone', c), host: node.host, name: c, origin: node.name }),
        );
      default:
        return [];
    }
  }

  private datasetChildren(host: string, e: DatasetEntry): FleetNode[] {
    const out: FleetNode[] = e.children.map((c) => this.node({ kind: 'dataset', id: id(host, 'ds', c), host, name: c }));
    if (e.snapshots.length > 0) out.push(this.node({ kind: 'snapshots', id: id(host, 'snaps', e.object.name), host, dataset: e.object.name }));
    if (e.bookmarks.length > 0) out.push(this.node({ kind: 'bookmarks', id: id(host, 'bms', e.object.name), host, dataset: e.object.name }));
    return out;
  }

  parent(node: FleetNode): FleetNode | undefined {
    const h = node.host;
    const datasetNode = (name: string): FleetNode =>
      name.includes('/')
        ? this.node({ kind: 'dataset', id: id(h, 'ds', name), host: h, name })
        : this.node({ kind: 'pool', id: id(h, 'pool', name), host: h, pool: name });
    switch (node.kind) {
      case 'host':
        return undefined;
      case 'pool':
      case 'message':
        return this.hostNode(h);
      case 'dataset':
        return datasetNode(node.name.slice(0, node.name.lastIndexOf('/')));
      case 'snapshots':
      case 'bookmarks':
        return datasetNode(node.dataset);
      case 'snapshot': {
        const ds = node.name.slice(0, node.name.indexOf('@'));
        return this.node({ kind: 'snapshots', id: id(h, 'snaps', ds), host: h, dataset: ds });
      }
      case 'bookmark': {
        const ds = node.name.slice(0, node.name.indexOf('#'));
        return this.node({ kind: 'bookmarks', id: id(h, 'bms', ds), host: h, dataset: ds });
      }
      case 'clone':
        return this.node({ kind: 'snapshot', id: id(h, 'snap', node.origin), host: h, name: node.origin });
    }
  }

  /** The short face of a node: label, description, icon, context value. */
  view(node: FleetNode): NodeView {
    const s = this.shown(node.host);
    const refreshing = this.states.get(node.host)?.state === 'loading';
    const l = s?.state === 'ok' ? s.listing : undefined;
    switch (node.kind) {
      case 'host': {
        const local = node.host === 'local';
        const contextValue = local ? 'zfs.host.local' : 'zfs.host.ssh';
        if (!s || s.state === 'loading') return { label: node.host, description: 'connecting…', icon: 'loading~spin', contextValue, collapsible: true };
        if (s.state === 'error')
          return {
            label: node.host,
            description: 'unreachable',
            icon: 'error',
            iconColor: 'errorForeground',
            contextValue: 'zfs.host.unreachable',
            collapsible: true,
            tooltip: `${node.host}: unreachable\n\n${s.error.message}`,
          };
        const c = s.listing.capabilities;
        const version = c.implementation === 'openzfs' ? `OpenZFS ${c.version}` : c.versionText;
        if (refreshing) return { label: node.host, description: `${version} · refreshing…`, icon: 'loading~spin', contextValue, collapsible: true };
        const rejected = s.listing.rejected.length;
        if (rejected > 0)
          return {
            label: node.host,
            description: `${version} · ${rejected} invalid ${rejected === 1 ? 'object' : 'objects'} left out`,
            icon: 'warning',
            iconColor: 'list.warningForeground',
            contextValue,
            collapsible: true,
          };
        return { label: node.host, description: version, icon: local ? 'device-desktop' : 'server', contextValue, collapsible: true };
      }
      case 'pool': {
        const p = l?.pools.find((x) => x.name === node.pool);
        const healthy = p?.health === 'ONLINE' && !p.dataErrors;
        return {
          label: node.pool,
          description: p ? `${p.health} · ${formatBytes(p.free)} free of ${formatBytes(p.size)}` : undefined,
          icon: healthy ? 'database' : 'warning',
          iconColor: healthy ? undefined : 'list.warningForeground',
          contextValue: 'zfs.pool',
          collapsible: true,
        };
      }
      case 'dataset': {
        const e = l?.datasets.get(node.name);
        const o = e?.object;
        const parts = [formatBytes(o?.used)];
        if (o?.origin) parts.push(`clone of ${o.origin}`);
        // Its role where it is set (a child inheriting its parent's role says nothing more).
        const parent = parentDataset(node.name);
        if (o?.role && (!parent || l?.datasets.get(parent)?.object.role !== o.role)) parts.push(o.role);
        if (o?.readonly) parts.push('read-only');
        if (o?.encryption) parts.push(o.keystatus === 'unavailable' ? 'encrypted, key not loaded' : 'encrypted');
        if (o?.receiveResumeToken) parts.push('partial receive');
        return {
          label: shortName(node.name),
          description: parts.join(' · '),
          icon: o?.origin ? 'repo-forked' : o?.type === 'volume' ? 'symbol-field' : o?.encryption ? 'lock' : 'folder',
          contextValue: o?.origin ? 'zfs.dataset.clone' : o?.type === 'volume' ? 'zfs.dataset.volume' : 'zfs.dataset',
          collapsible: !!e && (e.children.length > 0 || e.snapshots.length > 0 || e.bookmarks.length > 0),
        };
      }
      case 'snapshots':
        return {
          label: `Snapshots (${l?.datasets.get(node.dataset)?.snapshots.length ?? 0})`,
          icon: 'versions',
          contextValue: 'zfs.snapshots',
          collapsible: true,
        };
      case 'bookmarks':
        return {
          label: `Bookmarks (${l?.datasets.get(node.dataset)?.bookmarks.length ?? 0})`,
          icon: 'bookmark',
          contextValue: 'zfs.bookmarks',
          collapsible: true,
        };
      case 'snapshot': {
        const o = findSnapshot(l, node.name);
        const clones = l?.clones.get(node.name) ?? [];
        const parts = [formatTime(o?.creation), formatBytes(o?.used)];
        if (o?.userrefs) parts.push(`${o.userrefs} hold${o.userrefs > 1 ? 's' : ''}`);
        if (clones.length > 0) parts.push(`${clones.length} clone${clones.length > 1 ? 's' : ''}`);
        return {
          label: shortName(node.name),
          description: parts.join(' · '),
          icon: o?.userrefs ? 'lock-small' : 'device-camera',
          contextValue: clones.length > 0 ? 'zfs.snapshot.withClones' : 'zfs.snapshot',
          collapsible: clones.length > 0,
        };
      }
      case 'bookmark': {
        const o = findBookmark(l, node.name);
        return { label: shortName(node.name), description: formatTime(o?.creation), icon: 'bookmark', contextValue: 'zfs.bookmark', collapsible: false };
      }
      case 'clone':
        return { label: node.name, description: 'clone', icon: 'repo-forked', contextValue: 'zfs.dataset.clone', collapsible: false };
      case 'message':
        return {
          label: node.text,
          icon: node.error ? 'warning' : 'info',
          iconColor: node.error ? 'errorForeground' : undefined,
          contextValue: node.error ? 'zfs.message.error' : 'zfs.message',
          collapsible: false,
          tooltip: node.detail,
          command: node.error ? 'zfsFleet.retryHost' : undefined,
        };
    }
  }

  /** The full details of a node (shown on hover): label/value rows, computed only when asked. */
  details(node: FleetNode): [string, string][] {
    const l = this.listing(node.host);
    if (!l) return [];
    const rows: [string, string | undefined][] = [];
    switch (node.kind) {
      case 'host': {
        const c = l.capabilities;
        rows.push(
          ['Host', node.host],
          ['ZFS', c.versionText],
          ['Pools', String(l.pools.length)],
          ['Datasets', String(l.datasets.size)],
          ['Snapshots', String(l.snapshotCount)],
          [
            'Features',
            [
              c.listParsable && 'list -p',
              c.json && 'JSON',
              c.holds && 'holds',
              c.bookmarks && 'bookmarks',
              c.resumeTokens && 'resume tokens',
              c.allow && 'zfs allow',
              ...c.properties,
            ]
              .filter(Boolean)
              .join(', '),
          ],
          ['Listed', `${l.takenAt.toLocaleString()} in ${l.durationMs.toFixed(0)} ms`],
          ...l.rejected.slice(0, 20).map((r): [string, string] => ['Left out (invalid)', `${r.name}: ${r.reason}`]),
        );
        if (l.rejected.length > 20) rows.push(['Left out (invalid)', `${l.rejected.length - 20} more (see the log)`]);
        break;
      }
      case 'pool': {
        const p = l.pools.find((x) => x.name === node.pool);
        if (p)
          rows.push(
            ['Pool', p.name],
            ['Health', p.health],
            ['Size', formatBytes(p.size)],
            ['Allocated', formatBytes(p.allocated)],
            ['Free', formatBytes(p.free)],
            ['Last scrub', p.scan || p.dataErrors !== undefined ? describeScan(p.scan) : 'not reported'],
            ...(p.dataErrors ? [['Data errors', `${p.dataErrors} (zpool status -v ${p.name} lists the damaged files)`] as [string, string]] : []),
          );
        break;
      }
      case 'dataset':
      case 'clone': {
        const o = l.datasets.get(node.name)?.object;
        if (o)
          rows.push(
            ['Dataset', o.name],
            ['Type', o.type],
            ['Used', formatBytes(o.used)],
            ['Available', formatBytes(o.available)],
            ['Referenced', formatBytes(o.referenced)],
            ['Written since last snapshot', o.written === undefined ? undefined : formatBytes(o.written)],
            ['Mountpoint', o.mountpoint],
            ['Mounted', o.mounted === undefined ? undefined : o.mounted ? 'yes' : 'no'],
            ['Read-only', o.readonly ? 'yes' : 'no'],
            ['Encryption', o.encryption],
            ['Origin (clone of)', o.origin],
            ['Created', formatTime(o.creation)],
            ['Partial receive', o.receiveResumeToken ? 'yes (resume token present)' : undefined],
            ['guid', o.guid],
          );
        break;
      }
      case 'snapshot': {
        const o = findSnapshot(l, node.name);
        if (o)
          rows.push(
            ['Snapshot', o.name],
            ['Created', `${formatTime(o.creation)} (${formatAge(o.creation)})`],
            ['Used', formatBytes(o.used)],
            ['Referenced', formatBytes(o.referenced)],
            ['Written', o.written === undefined ? undefined : formatBytes(o.written)],
            ['guid', o.guid],
            ['createtxg', o.createtxg?.toString()],
            ['Holds', o.userrefs === undefined ? undefined : String(o.userrefs)],
            ['Clones', (l.clones.get(o.name) ?? []).join(', ')],
          );
        break;
      }
      case 'bookmark': {
        const o = findBookmark(l, node.name);
        if (o) rows.push(['Bookmark', o.name], ['Created', formatTime(o.creation)], ['guid', o.guid], ['createtxg', o.createtxg?.toString()]);
        break;
      }
      default:
        break;
    }
    return rows.filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '');
  }
}

function findSnapshot(l: HostListing | undefined, name: string): ZfsObject | undefined {
  return l?.datasets.get(name.slice(0, name.indexOf('@')))?.snapshots.find((o) => o.name === name);
}

function findBookmark(l: HostListing | undefined, name: string): ZfsObject | undefined {
  return l?.datasets.get(name.slice(0, name.indexOf('#')))?.bookmarks.find((o) => o.name === name);
}

/** Find a node's path from the root by name (for reveal and tests): `['off1', 'zfs-hdd', 'off', 'products']`. */
export function nodeName(n: FleetNode): string | undefined {
  switch (n.kind) {
    case 'pool':
      return n.pool;
    case 'dataset':
    case 'snapshot':
    case 'bookmark':
    case 'clone':
      return n.name;
    case 'host':
      return n.host;
    default:
      return undefined;
  }
}
