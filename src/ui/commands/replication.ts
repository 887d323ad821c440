/**
 * Replication commands: pairs (add, remove, refresh), Sync Pair, Diagnose Pair, Roll Back to This
 * Snapshot, Rebase Clone onto…, Show Replication History. Each resolves what it acts on (the node,
 * or quick picks) and hands it to the application layer's flow (src/app/replication.ts) with the
 * extension's way of asking (planFlow.ts). They return what happened (FlowResult) so the e2e suite
 * can check it.
 */
import * as vscode from 'vscode';
import { diagnoseFlow, rebaseFlow, rollbackFlow, stamp, syncFlow } from '../../app/replication.js';
import { parseEndpoint, type Endpoint } from '../../core/fleet/endpoint.js';
import { parsePair, type PairSpec, type Route } from '../../core/fleet/pairs.js';
import { describeOrigin, type ValidPair } from '../../core/fleet/pairSpecs.js';
import type { HostListing } from '../../core/fleet/listing.js';
import { formatTime } from '../../core/format.js';
import { snapName } from '../../core/replication/commonBase.js';
import type { SyncOptions } from '../../core/replication/sync.js';
import { snapshotNameProblem } from '../../core/zfs/names.js';
import type { Command, FleetContext } from '../context.js';
import { addPairSetting, removePairSettings } from '../replication/pairsConfig.js';
import { isPairNode, type PairNode } from '../replication/pairsTree.js';
import { pairLabel } from '../replication/pairView.js';
import { showHistory, vscodeReplicationUI } from '../replication/planFlow.js';
import { pick, text } from '../userInput.js';
import { isFleetNode, selection } from '../selection.js';
import { healthPairId } from '../health/rows.js';

// ---------------------------------------------------------------------------------------------
// Pairs

/** A pair from a Replication view node, a pair id (string), or a quick pick. */
async function resolvePair(ctx: FleetContext, arg: unknown): Promise<ValidPair> {
  const pairs = await ctx.replication.pairs.pairs();
  // A Fleet Health row of a pair (a pair problem, a pair row) names the pair by id.
  const healthPair = healthPairId(arg);
  if (healthPair !== undefined) arg = healthPair;
  if (isPairNode(arg)) return pairs.find((p) => p.pair.id === arg.entry.pair.id) ?? arg.entry;
  if (typeof arg === 'string') {
    const p = pairs.find((x) => x.pair.id === arg || x.pair.label === arg);
    if (!p) throw new Error(`no replication pair ${arg}`);
    return p;
  }
  if (pairs.length === 0) throw new Error('No replication pairs: add one with "Add Replication Pair…" or in .zfs-fleet.json.');
  const picked = await pick(
    ctx.input,
    pairs.map((p) => ({
      label: pairLabel(p),
      description: `${p.pair.source.host}:${p.pair.source.name!.full} → ${p.pair.target.host}:${p.pair.target.name!.full}`,
      detail: `${p.pair.route} · ${describeOrigin(p.origin)}`,
      p,
    })),
    { title: 'Replication pair', placeHolder: 'Choose a pair' },
  );
  return picked.p;
}

function endpointProblem(v: string): string | undefined {
  let e: Endpoint;
  try {
    e = parseEndpoint(v.trim());
  } catch (err) {
    return (err as Error).message;
  }
  if (!e.name) return 'add the dataset: HOST:DATASET';
  if (e.name.kind !== 'dataset' && e.name.kind !== 'pool') return 'a pair replicates a dataset, not a snapshot or bookmark';
  return undefined;
}

export const addPair: Command = async (ctx, node) => {
  const prefill =
    isFleetNode(node) && (node.kind === 'dataset' || node.kind === 'pool') ? `${node.host}:${node.kind === 'pool' ? node.pool : node.name}` : undefined;
  const source = await text(ctx.input, {
    title: 'Add Replication Pair (1/4): source',
    prompt: 'The dataset to replicate, HOST:DATASET (HOST as in zfsFleet.hosts)',
    placeHolder: 'off1:zfs-hdd/off/products',
    ...(prefill ? { value: prefill } : {}),
    ignoreFocusOut: true,
    validateInput: endpointProblem,
  });
  const target = await text(ctx.input, {
    title: 'Add Replication Pair (2/4): target',
    prompt: `Where ${source.trim()} is received, HOST:DATASET`,
    placeHolder: 'ovh3:rpool/off/products',
    ignoreFocusOut: true,
    validateInput: (v) => endpointProblem(v) ?? (v.trim() === source.trim() ? 'the target must differ from the source' : undefined),
  });
  const routes: { label: string; description: string; route: Route }[] = [
    { label: 'relay', description: 'both streams pass through this machine (works with any two hosts you reach)', route: 'relay' },
    { label: 'push', description: 'the source runs `zfs send | ssh target zfs recv`', route: 'push' },
    { label: 'pull', description: 'the target runs `ssh source zfs send | zfs recv`', route: 'pull' },
  ];
  const route = await pick(ctx.input, routes, { title: 'Add Replication Pair (3/4): route', placeHolder: 'How the stream travels' });
  const label = await text(ctx.input, {
    title: 'Add Replication Pair (4/4): label (optional)',
    prompt: 'A short name for the Replication view; empty for none',
    ignoreFocusOut: true,
  });
  const spec: PairSpec = {
    source: source.trim(),
    target: target.trim(),
    ...(route.route !== 'relay' ? { route: route.route } : {}),
    ...(label.trim() ? { label: label.trim() } : {}),
  };
  const pair = parsePair(spec);
  const existing = (await ctx.replication.pairs.pairs()).find((p) => p.pair.id === pair.id);
  if (existing) throw new Error(`the pair ${pair.id} already exists (${describeOrigin(existing.origin)})`);
  await addPairSetting(spec);
  await ctx.replication.pairs.reload();
  return spec;
};

const sameEntry = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export const removePair: Command = async (ctx, node, nodes) => {
  const list = (selection(node, nodes) as unknown[]).filter((n): n is PairNode => isPairNode(n) || (!!n && (n as PairNode).kind === 'invalid'));
  if (list.length === 0) list.push({ kind: 'pair', id: '', entry: await resolvePair(ctx, undefined) });
  let removed = 0;
  for (const n of list) {
    if (n.kind === 'notice') continue;
    const origin = n.entry.origin;
    if (origin.kind === 'file') {
      await openDefinition(ctx, n);
      void ctx.input.info(
        `${n.kind === 'pair' ? n.entry.pair.id : 'This entry'} is defined in ${origin.file}, a file of the workspace (maybe committed): remove it there.`,
      );
      continue;
    }
    if (n.kind === 'pair') {
      const id = n.entry.pair.id;
      removed += await removePairSettings(
        (e) => !!e && typeof e === 'object' && `${String((e as PairSpec).source).trim()}->${String((e as PairSpec).target).trim()}` === id,
      );
    } else {
      const raw = n.entry.entry;
      removed += await removePairSettings((e) => sameEntry(e, raw));
    }
  }
  await ctx.replication.pairs.reload();
  return removed;
};

async function openDefinition(ctx: FleetContext, node: unknown): Promise<void> {
  const n = node as PairNode | undefined;
  const origin = n && n.kind !== 'notice' ? n.entry.origin : undefined;
  const file = origin?.kind === 'file' ? origin.file : n?.kind === 'notice' ? n.file : undefined;
  const uri = file ? ctx.replication.pairs.fileUri(file) : undefined;
  if (uri) {
    await vscode.window.showTextDocument(uri);
    return;
  }
  if (origin?.kind === 'settings' && origin.scope !== 'user') await vscode.commands.executeCommand('workbench.action.openWorkspaceSettingsFile');
  else await vscode.commands.executeCommand('workbench.action.openSettingsJson');
}

export const openPairDefinition: Command = (ctx, node) => openDefinition(ctx, node);

export const refreshPairs: Command = async (ctx) => {
  await ctx.replication.pairs.reload();
  await ctx.replication.pairs.refreshHosts(true);
};

// ---------------------------------------------------------------------------------------------
// Sync

export const syncPair: Command = async (ctx, node) => syncFlow(ctx.app, vscodeReplicationUI(ctx), (await resolvePair(ctx, node)).pair, {});

export const syncPairWithOptions: Command = async (ctx, node) => {
  const v = await resolvePair(ctx, node);
  const pair = v.pair;
  const mode = await pick(
    ctx.input,
    [
      { label: 'Incremental', description: 'from the common base (the default)', value: 'auto' as const },
      { label: 'Full', description: 'a full stream: only when the target does not exist yet', value: 'full' as const },
    ],
    { title: `Sync ${pairLabel(v)}: send mode` },
  );
  const dflt = pair.options.intermediates;
  const inter = await pick(
    ctx.input,
    [
      { label: '-I', description: `every snapshot in between${dflt ? ' (the pair’s default)' : ''}`, value: true },
      { label: '-i', description: `only the newest snapshot${!dflt ? ' (the pair’s default)' : ''}`, value: false },
    ].sort((a) => (a.value === dflt ? -1 : 1)),
    { title: `Sync ${pairLabel(v)}: snapshots in between` },
  );
  const upTo = await pick(
    ctx.input,
    [
      { label: "The source's newest snapshot", value: 'newest' as const },
      { label: 'A new snapshot taken now…', value: 'new' as const },
    ],
    { title: `Sync ${pairLabel(v)}: send up to` },
  );
  const options: SyncOptions = { incremental: mode.value, intermediates: inter.value };
  if (upTo.value === 'new') {
    const ds = pair.source.name!.full;
    const name = await text(ctx.input, {
      title: `New snapshot of ${ds}`,
      prompt: 'The part after @',
      value: `zfs-fleet-${stamp()}`,
      validateInput: (s) => snapshotNameProblem(`${ds}@${s}`),
    });
    options.newSnapshotName = name;
  }
  return syncFlow(ctx.app, vscodeReplicationUI(ctx), pair, options);
};

// ---------------------------------------------------------------------------------------------
// Diagnose

export const diagnosePair: Command = async (ctx, node) => diagnoseFlow(ctx.app, vscodeReplicationUI(ctx), (await resolvePair(ctx, node)).pair);

// ---------------------------------------------------------------------------------------------
// Rollback and clone rebase

export async function pickHost(ctx: FleetContext, title: string): Promise<string> {
  const names = [...ctx.fleet.names];
  if (names.length === 0) throw new Error('No hosts in zfsFleet.hosts.');
  const picked =
    names.length === 1
      ? { label: names[0]! }
      : await pick(
          ctx.input,
          names.map((label) => ({ label })),
          { title },
        );
  return picked.label;
}

/** A dataset of the host's listing picked by the user (`withSnapshots`: only those that have snapshots). */
export async function pickDataset(ctx: FleetContext, host: string, l: HostListing, title: string, withSnapshots: boolean): Promise<string> {
  const items = [...l.datasets.values()]
    .filter((e) => !withSnapshots || e.snapshots.length > 0)
    .map((e) => ({ label: e.object.name, description: `${e.snapshots.length} snapshot(s)` }));
  if (items.length === 0) throw new Error(`${host} has no dataset${withSnapshots ? ' with snapshots' : ''}.`);
  return (await pick(ctx.input, items, { title })).label;
}

/** The snapshot of a node, or host, dataset and snapshot picked one after the other (`verb`: what the titles say is done to it). */
export async function snapshotFrom(ctx: FleetContext, node: unknown, verb = 'Roll back'): Promise<{ host: string; snapshot: string }> {
  if (isFleetNode(node) && node.kind === 'snapshot') return { host: node.host, snapshot: node.name };
  const host = await pickHost(ctx, `${verb} a snapshot on`);
  const l = await ctx.fleet.host(host).listing(false);
  const ds = await pickDataset(ctx, host, l, `${verb} a snapshot of which dataset on ${host}?`, true);
  const snap = await pick(
    ctx.input,
    l.datasets.get(ds)!.snapshots.map((s) => ({ label: `@${snapName(s.name)}`, description: formatTime(s.creation), name: s.name })),
    { title: verb === 'Roll back' ? `Roll back ${ds} to` : `${verb} which snapshot of ${ds}?` },
  );
  return { host, snapshot: snap.name };
}

export const rollbackToSnapshot: Command = async (ctx, node) => {
  const { host, snapshot } = await snapshotFrom(ctx, node);
  return rollbackFlow(ctx.app, vscodeReplicationUI(ctx), host, snapshot);
};

async function cloneFrom(ctx: FleetContext, node: unknown): Promise<{ host: string; clone: string }> {
  if (isFleetNode(node) && (node.kind === 'clone' || node.kind === 'dataset')) return { host: node.host, clone: node.name };
  const host = await pickHost(ctx, 'Re-base a clone on');
  const l = await ctx.fleet.host(host).listing(false);
  const clones = [...l.datasets.values()].filter((e) => e.object.origin).map((e) => ({ label: e.object.name, description: `clone of ${e.object.origin}` }));
  if (clones.length === 0) throw new Error(`${host} has no clones.`);
  const picked = await pick(ctx.input, clones, { title: `Re-base which clone on ${host}?` });
  return { host, clone: picked.label };
}

export const rebaseClone: Command = async (ctx, node) => {
  const { host, clone } = await cloneFrom(ctx, node);
  return rebaseFlow(ctx.app, vscodeReplicationUI(ctx), host, clone);
};

// ---------------------------------------------------------------------------------------------
// History

export const showReplicationHistory: Command = (ctx) => showHistory(ctx);
