/**
 * Replication commands: pairs (add, remove, refresh), Sync Pair, Diagnose Pair, Roll Back to This
 * Snapshot, Rebase Clone onto…, Show Replication History. Each builds a plan from FRESH listings and
 * hands it to planFlow (preview, modal confirmation, run or send to terminal). They return what
 * happened (FlowResult) so the e2e suite can check it.
 */
import * as vscode from 'vscode';
import type { HostListing } from '../../core/fleet/listing.js';
import { parseEndpoint, type Endpoint } from '../../core/fleet/endpoint.js';
import { parsePair, type PairSpec, type Route } from '../../core/fleet/pairs.js';
import { formatTime } from '../../core/format.js';
import { oldestFirst, snapName } from '../../core/replication/commonBase.js';
import { planCloneRebase } from '../../core/replication/cloneRebase.js';
import { diagnose, type Diagnosis, type DiagnoseOptions } from '../../core/replication/diagnose.js';
import { PlanError, type Plan } from '../../core/replication/plan.js';
import type { LocalProperty } from '../../core/replication/cloneRebase.js';
import type { MountUsers, ProcessInfo } from '../../core/replication/processes.js';
import { planRollback } from '../../core/replication/rollback.js';
import { pairState } from '../../core/replication/state.js';
import { planSync, type SyncOptions } from '../../core/replication/sync.js';
import { shortName, validateSnapshotName } from '../../core/zfs/names.js';
import type { Command, FleetContext } from '../context.js';
import { syncFacts } from '../replication/facts.js';
import { inspectForPreview, localProperties, runInspect } from '../replication/inspect.js';
import { describeOrigin, type ValidPair } from '../../core/fleet/pairSpecs.js';
import { addPairSetting, removePairSettings } from '../replication/pairsConfig.js';
import { isPairNode, type PairNode } from '../replication/pairsTree.js';
import { pairLabel } from '../replication/pairView.js';
import { alternativeDestroys, DESTROY_CLONES, reviewAndRun, type BlockedAction, type FlowResult } from '../replication/planFlow.js';
import { diagnosisMarkdown, historyMarkdown } from '../replication/reports.js';
import { readSettings } from '../settings.js';
import type { FleetNode } from '../tree.js';
import { UserCancelled } from '../userInput.js';

const zfsPath = () => readSettings().zfsPath;

/** UTC YYYYMMDD-HHMMSS, for names made now. */
function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

function isFleetNode(x: unknown): x is FleetNode {
  return !!x && typeof x === 'object' && typeof (x as FleetNode).kind === 'string' && typeof (x as FleetNode).host === 'string';
}

/** Fresh listings (the hosts are asked again; both views redraw). A host that cannot be listed fails the command with its reason. */
async function freshListings(ctx: FleetContext, hosts: string[]): Promise<HostListing[]> {
  const unique = [...new Set(hosts)];
  const states = await Promise.all(unique.map((h) => ctx.tree.model.loadHost(h, true)));
  const byHost = new Map<string, HostListing>();
  states.forEach((s, i) => {
    if (s.state === 'error') throw new Error(`${unique[i]} cannot be listed: ${s.error.message}`);
    if (s.state === 'ok') byHost.set(unique[i]!, s.listing);
  });
  return hosts.map((h) => byHost.get(h)!);
}

// ---------------------------------------------------------------------------------------------
// Pairs

/** A pair from a Replication view node, a pair id (string), or a quick pick. */
async function resolvePair(ctx: FleetContext, arg: unknown): Promise<ValidPair> {
  const pairs = await ctx.replication.pairs.pairs();
  if (isPairNode(arg)) return pairs.find((p) => p.pair.id === arg.entry.pair.id) ?? arg.entry;
  if (typeof arg === 'string') {
    const p = pairs.find((x) => x.pair.id === arg || x.pair.label === arg);
    if (!p) throw new Error(`no replication pair ${arg}`);
    return p;
  }
  if (pairs.length === 0) throw new Error('No replication pairs: add one with "Add Replication Pair…" or in .zfs-fleet.json.');
  const pick = await ctx.input.quickPick(
    pairs.map((p) => ({ label: pairLabel(p), description: `${p.pair.source.host}:${p.pair.source.name!.full} → ${p.pair.target.host}:${p.pair.target.name!.full}`, detail: `${p.pair.route} · ${describeOrigin(p.origin)}`, p })),
    { title: 'Replication pair', placeHolder: 'Choose a pair' },
  );
  if (!pick) throw new UserCancelled();
  return pick.p;
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
  const prefill = isFleetNode(node) && (node.kind === 'dataset' || node.kind === 'pool') ? `${node.host}:${node.kind === 'pool' ? node.pool : node.name}` : undefined;
  const source = await ctx.input.inputBox({
    title: 'Add Replication Pair (1/4): source',
    prompt: 'The dataset to replicate, HOST:DATASET (HOST as in zfsFleet.hosts)',
    placeHolder: 'off1:zfs-hdd/off/products',
    ...(prefill ? { value: prefill } : {}),
    ignoreFocusOut: true,
    validateInput: endpointProblem,
  });
  if (source === undefined) throw new UserCancelled();
  const target = await ctx.input.inputBox({
    title: 'Add Replication Pair (2/4): target',
    prompt: `Where ${source.trim()} is received, HOST:DATASET`,
    placeHolder: 'ovh3:rpool/off/products',
    ignoreFocusOut: true,
    validateInput: (v) => endpointProblem(v) ?? (v.trim() === source.trim() ? 'the target must differ from the source' : undefined),
  });
  if (target === undefined) throw new UserCancelled();
  const routes: { label: string; description: string; route: Route }[] = [
    { label: 'relay', description: 'both streams pass through this machine (works with any two hosts you reach)', route: 'relay' },
    { label: 'push', description: 'the source runs `zfs send | ssh target zfs recv`', route: 'push' },
    { label: 'pull', description: 'the target runs `ssh source zfs send | zfs recv`', route: 'pull' },
  ];
  const route = await ctx.input.quickPick(routes, { title: 'Add Replication Pair (3/4): route', placeHolder: 'How the stream travels' });
  if (!route) throw new UserCancelled();
  const label = await ctx.input.inputBox({ title: 'Add Replication Pair (4/4): label (optional)', prompt: 'A short name for the Replication view; empty for none', ignoreFocusOut: true });
  if (label === undefined) throw new UserCancelled();
  const spec: PairSpec = { source: source.trim(), target: target.trim(), ...(route.route !== 'relay' ? { route: route.route } : {}), ...(label.trim() ? { label: label.trim() } : {}) };
  const pair = parsePair(spec);
  const existing = (await ctx.replication.pairs.pairs()).find((p) => p.pair.id === pair.id);
  if (existing) throw new Error(`the pair ${pair.id} already exists (${describeOrigin(existing.origin)})`);
  await addPairSetting(spec);
  await ctx.replication.pairs.reload();
  return spec;
};

const sameEntry = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export const removePair: Command = async (ctx, node, nodes) => {
  const list = ((nodes?.length ? nodes : node ? [node] : []) as unknown[]).filter((n): n is PairNode => isPairNode(n) || (!!n && (n as PairNode).kind === 'invalid'));
  if (list.length === 0) list.push({ kind: 'pair', id: '', entry: await resolvePair(ctx, undefined) });
  let removed = 0;
  for (const n of list) {
    if (n.kind === 'notice') continue;
    const origin = n.entry.origin;
    if (origin.kind === 'file') {
      await openDefinition(ctx, n);
      void ctx.input.info(`${n.kind === 'pair' ? n.entry.pair.id : 'This entry'} is defined in ${origin.file}, a file of the workspace (maybe committed): remove it there.`);
      continue;
    }
    if (n.kind === 'pair') {
      const id = n.entry.pair.id;
      removed += await removePairSettings((e) => !!e && typeof e === 'object' && `${String((e as PairSpec).source).trim()}->${String((e as PairSpec).target).trim()}` === id);
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

async function syncFlow(ctx: FleetContext, v: ValidPair, options: SyncOptions): Promise<FlowResult | undefined> {
  ctx.replication.requireTrust('Sync Pair');
  const pair = v.pair;
  const [src, dst] = await freshListings(ctx, [pair.source.host, pair.target.host]);
  const facts = await syncFacts(ctx, pair);
  let plan: Plan;
  try {
    plan = planSync(pair, src!, dst!, { ...options, zfs: zfsPath(), ...(facts ? { facts } : {}) });
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    ctx.log.warn(`cannot sync ${pair.id}: ${e.reason}`);
    void ctx.input.error(`Cannot sync ${pairLabel(v)}: ${e.reason}`, 'Diagnose Pair').then((b) => b && vscode.commands.executeCommand('zfsFleet.diagnosePair', pair.id));
    return undefined;
  }
  const blockedActions: BlockedAction[] = [];
  if (plan.blockedBy) {
    const base = pairState(pair, src!, dst!).base?.target;
    for (const c of plan.blockedBy.clones) {
      blockedActions.push({
        label: plan.blockedBy.clones.length > 1 ? `Re-base ${c.name} onto…` : 'Re-base Clone onto…',
        run: async () => {
          const r = await rebaseFlow(ctx, c.host, c.name, base);
          if (r?.choice === 'run' && r.result?.outcome === 'ok') r.next = await syncFlow(ctx, v, options);
          return r;
        },
      });
    }
    blockedActions.push({ label: 'Diagnose Pair', run: async () => (await diagnoseFlow(ctx, v)).flow });
  }
  return reviewAndRun(ctx, plan, { pairId: pair.id, replan: () => syncFlow(ctx, v, options), blockedActions });
}

export const syncPair: Command = async (ctx, node) => syncFlow(ctx, await resolvePair(ctx, node), {});

export const syncPairWithOptions: Command = async (ctx, node) => {
  const v = await resolvePair(ctx, node);
  const pair = v.pair;
  const mode = await ctx.input.quickPick(
    [
      { label: 'Incremental', description: 'from the common base (the default)', value: 'auto' as const },
      { label: 'Full', description: 'a full stream: only when the target does not exist yet', value: 'full' as const },
    ],
    { title: `Sync ${pairLabel(v)}: send mode` },
  );
  if (!mode) throw new UserCancelled();
  const dflt = pair.options.intermediates;
  const inter = await ctx.input.quickPick(
    [
      { label: '-I', description: `every snapshot in between${dflt ? ' (the pair’s default)' : ''}`, value: true },
      { label: '-i', description: `only the newest snapshot${!dflt ? ' (the pair’s default)' : ''}`, value: false },
    ].sort((a) => (a.value === dflt ? -1 : 1)),
    { title: `Sync ${pairLabel(v)}: snapshots in between` },
  );
  if (!inter) throw new UserCancelled();
  const upTo = await ctx.input.quickPick(
    [
      { label: "The source's newest snapshot", value: 'newest' as const },
      { label: 'A new snapshot taken now…', value: 'new' as const },
    ],
    { title: `Sync ${pairLabel(v)}: send up to` },
  );
  if (!upTo) throw new UserCancelled();
  const options: SyncOptions = { incremental: mode.value, intermediates: inter.value };
  if (upTo.value === 'new') {
    const ds = pair.source.name!.full;
    const name = await ctx.input.inputBox({
      title: `New snapshot of ${ds}`,
      prompt: 'The part after @',
      value: `zfs-fleet-${stamp()}`,
      validateInput: (s) => {
        try {
          validateSnapshotName(`${ds}@${s}`);
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
    });
    if (name === undefined) throw new UserCancelled();
    options.newSnapshotName = name;
  }
  return syncFlow(ctx, v, options);
};

// ---------------------------------------------------------------------------------------------
// Diagnose

export interface DiagnoseResult {
  diagnosis: Diagnosis;
  report: vscode.Uri;
  flow?: FlowResult;
}

async function diagnoseFlow(ctx: FleetContext, v: ValidPair): Promise<DiagnoseResult> {
  const pair = v.pair;
  const [src, dst] = await freshListings(ctx, [pair.source.host, pair.target.host]);
  // A receive that failed with "destination has been modified" says what a host without `written` cannot.
  const last = (await ctx.replication.history.read(200).catch(() => ({ entries: [] }))).entries.find((h) => h.pair === pair.id);
  const processes = new Map<string, ProcessInfo[]>();
  const cloneProperties = new Map<string, LocalProperty[]>();
  const mountUsers = new Map<string, MountUsers>();
  const opts: DiagnoseOptions = { zfs: zfsPath(), processes, cloneProperties, mountUsers, ...(last?.outcome === 'failed' && /destination has been modified/.test(last.error ?? '') ? { targetModified: true } : {}) };
  const notes: string[] = [];
  const tried = new Set<string>();
  let d = diagnose(pair, src!, dst!, opts);
  for (let round = 0; round < 4; round++) {
    const todo = d.needs.filter((n) => !tried.has(`${n.host}\0${n.purpose}\0${n.subject}`));
    if (todo.length === 0) break;
    await Promise.all(
      todo.map(async (n) => {
        tried.add(`${n.host}\0${n.purpose}\0${n.subject}`);
        try {
          const r = await runInspect(ctx.fleet, n);
          if (r.purpose === 'processes') processes.set(n.host, r.value);
          else if (r.purpose === 'local-properties') cloneProperties.set(n.subject, r.value);
          else if (r.purpose === 'mount-users') mountUsers.set(n.subject, r.value);
        } catch (e) {
          notes.push(`${n.purpose} on ${n.host} (${n.subject}): ${(e as Error).message}`);
        }
      }),
    );
    d = diagnose(pair, src!, dst!, opts);
  }
  const label = pairLabel(v);
  const report = await ctx.replication.docs.show(`Diagnosis ${label}.md`, diagnosisMarkdown(pair, d, notes));
  if (!d.fix) {
    void ctx.input.info(`Diagnosis of ${label}: ${d.fixUnavailable ? `no fix can be planned: ${d.fixUnavailable}` : 'nothing to fix.'}`);
    return { diagnosis: d, report };
  }
  const b = await ctx.input.info(`Diagnosis of ${label}: ${d.findings.length} finding(s); a fix plan of ${d.fix.steps.length} step(s) is ready.`, 'Review Fix Plan…');
  if (b !== 'Review Fix Plan…') return { diagnosis: d, report };
  ctx.replication.requireTrust('The fix plan');
  const flow = await reviewAndRun(ctx, d.fix, { pairId: pair.id, replan: async () => (await diagnoseFlow(ctx, v)).flow });
  return { diagnosis: d, report, flow };
}

export const diagnosePair: Command = async (ctx, node) => diagnoseFlow(ctx, await resolvePair(ctx, node));

// ---------------------------------------------------------------------------------------------
// Rollback and clone rebase

async function pickHost(ctx: FleetContext, title: string): Promise<string> {
  const names = [...ctx.fleet.names];
  if (names.length === 0) throw new Error('No hosts in zfsFleet.hosts.');
  const pick = names.length === 1 ? { label: names[0]! } : await ctx.input.quickPick(names.map((label) => ({ label })), { title });
  if (!pick) throw new UserCancelled();
  return pick.label;
}

/** The snapshot of a node, or host, dataset and snapshot picked one after the other. */
async function snapshotFrom(ctx: FleetContext, node: unknown): Promise<{ host: string; snapshot: string }> {
  if (isFleetNode(node) && node.kind === 'snapshot') return { host: node.host, snapshot: node.name };
  const host = await pickHost(ctx, 'Roll back a dataset on');
  const l = await ctx.fleet.host(host).listing(false);
  const ds = await ctx.input.quickPick(
    [...l.datasets.values()].filter((e) => e.snapshots.length > 0).map((e) => ({ label: e.object.name, description: `${e.snapshots.length} snapshot(s)` })),
    { title: `Roll back which dataset on ${host}?` },
  );
  if (!ds) throw new UserCancelled();
  const snap = await ctx.input.quickPick(
    l.datasets.get(ds.label)!.snapshots.map((s) => ({ label: `@${snapName(s.name)}`, description: formatTime(s.creation), name: s.name })),
    { title: `Roll back ${ds.label} to` },
  );
  if (!snap) throw new UserCancelled();
  return { host, snapshot: snap.name };
}

/**
 * Roll back; when clones block it, offer their rebase or, explicitly, the rollback that destroys them
 * (`destroyClones`: the clones, their descendants and snapshots, listed in the blocked modal and again
 * in the plan's own modal, each clone's name typed, each step confirmed, re-checked before running).
 */
async function rollbackFlow(ctx: FleetContext, host: string, snapshot: string, destroyClones = false): Promise<FlowResult> {
  ctx.replication.requireTrust('Roll Back to This Snapshot');
  const [l] = await freshListings(ctx, [host]);
  const zfs = zfsPath();
  const plan = planRollback(host, l!, snapshot, { zfs, destroyClones });
  const blockedActions: BlockedAction[] = (plan.blockedBy?.clones ?? []).map((c) => ({
    label: plan.blockedBy!.clones.length > 1 ? `Re-base ${c.name} onto…` : 'Re-base Clone onto…',
    run: async () => {
      const r = await rebaseFlow(ctx, c.host, c.name, snapshot);
      // The clone is out of the way: plan the rollback again (the user confirms it again).
      if (r?.choice === 'run' && r.result?.outcome === 'ok') r.next = await rollbackFlow(ctx, host, snapshot);
      return r;
    },
  }));
  let extraDetail: string[] | undefined;
  let extraPreview: string | undefined;
  if (plan.blockedBy) {
    // What the alternative destroys, from the same listing; it is planned again from a fresh one when chosen.
    const alt = planRollback(host, l!, snapshot, { zfs, destroyClones: true });
    extraDetail = alternativeDestroys(DESTROY_CLONES, alt);
    extraPreview = extraDetail.join('\n').trim();
    blockedActions.push({ label: DESTROY_CLONES, run: () => rollbackFlow(ctx, host, snapshot, true) });
  }
  return reviewAndRun(ctx, plan, { replan: () => rollbackFlow(ctx, host, snapshot, destroyClones), blockedActions, ...(extraDetail ? { extraDetail, extraPreview } : {}) });
}

export const rollbackToSnapshot: Command = async (ctx, node) => {
  const { host, snapshot } = await snapshotFrom(ctx, node);
  return rollbackFlow(ctx, host, snapshot);
};

async function cloneFrom(ctx: FleetContext, node: unknown): Promise<{ host: string; clone: string }> {
  if (isFleetNode(node) && (node.kind === 'clone' || node.kind === 'dataset')) return { host: node.host, clone: node.name };
  const host = await pickHost(ctx, 'Re-base a clone on');
  const l = await ctx.fleet.host(host).listing(false);
  const clones = [...l.datasets.values()].filter((e) => e.object.origin).map((e) => ({ label: e.object.name, description: `clone of ${e.object.origin}` }));
  if (clones.length === 0) throw new Error(`${host} has no clones.`);
  const pick = await ctx.input.quickPick(clones, { title: `Re-base which clone on ${host}?` });
  if (!pick) throw new UserCancelled();
  return { host, clone: pick.label };
}

/** Ask onto which older snapshot and whether to keep the data, then review the rebase plan. */
async function rebaseFlow(ctx: FleetContext, host: string, clone: string, suggestedOnto?: string): Promise<FlowResult | undefined> {
  ctx.replication.requireTrust('Rebase Clone');
  const [l] = await freshListings(ctx, [host]);
  const e = l!.datasets.get(clone);
  if (!e) throw new Error(`${host}: ${clone} does not exist`);
  const origin = e.object.origin;
  if (!origin) throw new Error(`${host}: ${clone} is not a clone (it has no origin)`);
  const originDs = origin.slice(0, origin.indexOf('@'));
  const snaps = oldestFirst(l!.datasets.get(originDs)?.snapshots ?? []);
  const i = snaps.findIndex((s) => s.name === origin);
  const older = snaps.slice(0, Math.max(0, i)).reverse();
  if (older.length === 0) throw new Error(`${host}: ${clone} is a clone of ${origin}, the oldest snapshot of ${originDs}: there is no older snapshot to re-base it onto.`);
  const items = older.map((s) => ({ label: `@${snapName(s.name)}`, description: `${formatTime(s.creation)}${s.name === suggestedOnto ? ' · suggested' : ''}`, name: s.name }));
  items.sort((a, b) => (a.name === suggestedOnto ? -1 : b.name === suggestedOnto ? 1 : 0));
  const onto = await ctx.input.quickPick(items, { title: `Re-base ${clone} (now a clone of @${snapName(origin)}) onto an older snapshot of ${originDs}` });
  if (!onto) throw new UserCancelled();
  const copy = `${shortName(clone)}-pre-rebase-…`;
  const keep = await ctx.input.quickPick(
    [
      { label: 'Keep its data', description: `copy the clone's current data to ${copy} first`, keep: true },
      { label: 'Drop its data', description: `the clone then holds the data of ${onto.label}; its current data is lost`, keep: false },
    ],
    { title: `Re-base ${clone} onto ${onto.label}: its current data` },
  );
  if (!keep) throw new UserCancelled();
  return rebaseReview(ctx, host, clone, onto.name, keep.keep);
}

async function rebaseReview(ctx: FleetContext, host: string, clone: string, onto: string, keepData: boolean): Promise<FlowResult> {
  const zfs = zfsPath();
  const [l] = await freshListings(ctx, [host]);
  const plan = planCloneRebase(host, l!, clone, onto, { keepData, date: stamp(), localProperties: await localProperties(ctx.fleet, zfs, host, clone), zfs });
  const { text, notes } = await inspectForPreview(ctx.fleet, plan.inspect ?? []);
  return reviewAndRun(ctx, plan, { replan: () => rebaseReview(ctx, host, clone, onto, keepData), extraPreview: text, extraDetail: notes.length ? ['', ...notes] : [] });
}

export const rebaseClone: Command = async (ctx, node) => {
  const { host, clone } = await cloneFrom(ctx, node);
  return rebaseFlow(ctx, host, clone);
};

// ---------------------------------------------------------------------------------------------
// History

export const showReplicationHistory: Command = async (ctx) => {
  const { entries, unreadable } = await ctx.replication.history.read(500);
  return ctx.replication.docs.show('Replication History.md', historyMarkdown(entries, unreadable, ctx.replication.history.file), { key: 'history' });
};
