/**
 * Plan, preview, confirm, execute for every replication command:
 * the plan is shown as a read-only document (renderPlan), a MODAL confirmation names everything it
 * destroys and its warnings and offers "Run" or "Send to Terminal"; destroying a clone or dataset
 * also asks for its name typed exactly; a blocked plan says why and offers its alternative instead
 * of Run. Running re-checks the plan (executor), asks for each `confirm` step, shows bytes, rate and
 * time left, can be cancelled, records the result in the history and refreshes the trees.
 */
import * as vscode from 'vscode';
import type { ExecEvent, ExecResult } from '../../core/execute/executor.js';
import { executePlan } from '../../core/execute/executor.js';
import { formatBytes } from '../../core/format.js';
import { destroyLines, planToShell, renderPlan, type Plan, type PlanStep } from '../../core/replication/plan.js';
import { formatDuration } from '../../core/replication/processes.js';
import type { FleetContext } from '../context.js';
import { readSettings } from '../settings.js';
import { openSshArgs } from '../terminal.js';
import { TerminalTextError, terminalScript, type TerminalScript } from './terminalText.js';
import { planBasesLost, type BaseLoss } from '../../core/replication/baseGuard.js';

export const RUN = 'Run';
export const SEND_TO_TERMINAL = 'Send to Terminal';
export const RUN_STEP = 'Run Step';
export const REPLAN = 'Re-plan';
/** The alternative to the clone rebase a blocked rollback offers: destroy the clones in the way (what `zfs rollback -R` would). */
export const DESTROY_CLONES = 'Roll Back and Destroy Clones (-R)';

export interface BlockedAction {
  label: string;
  run: () => Promise<FlowResult | undefined>;
}

export interface FlowOptions {
  /** The pair a sync came from (recorded in the history). */
  pairId?: string;
  /** Build the plan again from fresh listings and review it (offered when the hosts changed). */
  replan?: () => Promise<FlowResult | undefined>;
  /** Offered instead of Run when the plan is blocked (the rebase). */
  blockedActions?: BlockedAction[];
  /** More text for the preview document (inspections, a diagnosis). */
  extraPreview?: string;
  /** More lines for the confirmation's detail (after the summary; for a blocked plan, after what is in the way). */
  extraDetail?: string[];
}

/** What happened, for the caller and for the tests (commands return it). */
export interface FlowResult {
  plan: Plan;
  choice: 'run' | 'terminal' | 'cancelled' | 'blocked' | 'nothing';
  /** The modal's message and detail as shown. */
  message?: string;
  detail?: string;
  buttons?: string[];
  preview?: vscode.Uri;
  result?: ExecResult;
  terminals?: { name: string; runOn: string; text: string }[];
  /** Step confirmations asked while running (step ids). */
  confirmedSteps?: string[];
  /** What a blocked action or a re-plan led to. */
  next?: FlowResult;
}

const bullet = (s: string) => `  • ${s}`;

/** The confirmation's detail: the summary, EVERY destroyed object, the warnings, the hosts. */
export function confirmationDetail(plan: Plan, extra: string[] = []): string {
  const out: string[] = [plan.summary, ...extra];
  const destroyed = destroyLines(plan.destroys);
  out.push('');
  if (destroyed.length) {
    out.push(`This destroys ${destroyed.length} object${destroyed.length === 1 ? '' : 's'}:`, ...destroyed.map(bullet));
  } else {
    out.push('This destroys nothing.');
  }
  if (plan.warnings.length) out.push('', 'Warnings:', ...plan.warnings.map(bullet));
  const confirmed = plan.steps.filter((s) => s.confirm && !s.estimate).length;
  out.push('', `Hosts: ${plan.hosts.join(', ')}. ${plan.steps.filter((s) => !s.estimate).length} step(s)${confirmed ? `, ${confirmed} confirmed one by one` : ''}. The plan is re-checked against the hosts right before it runs.`);
  return out.join('\n');
}

function blockedDetail(plan: Plan, extra: string[] = []): string {
  const b = plan.blockedBy!;
  const out = [b.reason, '', plan.summary];
  if (b.clones.length) out.push('', 'In the way:', ...b.clones.map((c) => bullet(`${c.host}: ${c.name}`)));
  out.push(...extra);
  if (plan.warnings.length) out.push('', 'Warnings:', ...plan.warnings.map(bullet));
  return out.join('\n');
}

/** Detail lines for a blocked modal: everything an alternative plan (e.g. the rollback with -R) would destroy. */
export function alternativeDestroys(label: string, alt: Plan): string[] {
  const lines = destroyLines(alt.destroys);
  return ['', `"${label}" destroys ${lines.length} object${lines.length === 1 ? '' : 's'}:`, ...lines.map(bullet)];
}

/** The configured pairs whose newest common base the plan destroys (their hosts' listings loaded as needed). */
async function baseLosses(ctx: FleetContext, plan: Plan): Promise<BaseLoss[]> {
  const pairs = (await ctx.replication.pairs.allNodes()).flatMap((n) => (n.kind === 'pair' ? [n.entry.pair] : []));
  return planBasesLost(plan, pairs, (h) => ctx.fleet.host(h).listing(), (h, e) => ctx.log.warn(`${h}: not listed, so the pairs on it are not checked for a lost base: ${e.message}`));
}

function sshFor(host: string): string[] {
  const s = readSettings();
  return ['ssh', ...openSshArgs(host, s.sshConfigPath, s.knownHostsPath)];
}

/** The preview document: renderPlan, what the terminal would get, and extras. */
export function previewText(plan: Plan, script: TerminalScript | string, extra?: string): string {
  const out = [renderPlan(plan)];
  if (extra) out.push('', extra.trimEnd());
  if (typeof script === 'string') out.push('', script);
  else if (!plan.blockedBy && script.groups.length) {
    out.push('', '"Send to Terminal" types, without pressing Enter, one line per terminal, to be run in this order:');
    script.groups.forEach((g, i) => out.push(`  ${i + 1}. ${g.runOn === 'local' ? 'this machine' : g.runOn}: ${g.descriptions.join('; then ')}`));
    if (script.leftOut.length) out.push(`  Left out (they only protect an automatic run): ${script.leftOut.join('; ')}`);
  }
  out.push('', `Plan ${plan.id}, made ${plan.createdAt}.`);
  return out.join('\n') + '\n';
}

export async function reviewAndRun(ctx: FleetContext, plan: Plan, opts: FlowOptions = {}): Promise<FlowResult> {
  const rep = ctx.replication;
  if (plan.steps.length === 0 && !plan.blockedBy) {
    void ctx.input.info(`${plan.title}: ${plan.summary}`);
    return { plan, choice: 'nothing' };
  }
  // A plan whose commands carry control bytes from a host is run or read, never typed (TerminalTextError).
  let script: TerminalScript | string;
  try {
    script = terminalScript(plan, sshFor);
  } catch (e) {
    if (!(e instanceof TerminalTextError)) throw e;
    script = e.message;
  }
  const losses = await baseLosses(ctx, plan);
  const preview = await rep.docs.show(`${plan.title}.txt`, previewText(plan, script, [...losses.map((l) => `BASE LOST: ${l.message}`), opts.extraPreview ?? ''].filter(Boolean).join('\n')), { preserveFocus: true });

  if (plan.blockedBy) {
    const buttons = (opts.blockedActions ?? []).map((a) => a.label);
    const message = `Blocked: ${plan.title.replace(/ \(blocked\)$/, '')}`;
    const detail = blockedDetail(plan, opts.extraDetail);
    const choice = await ctx.input.warnModal(message, detail, ...buttons);
    const action = opts.blockedActions?.find((a) => a.label === choice);
    const next = action ? await action.run() : undefined;
    return { plan, choice: 'blocked', message, detail, buttons, preview, ...(next ? { next } : {}) };
  }

  const message = plan.title;
  const detail = confirmationDetail(plan, [...losses.map((l) => `\n${l.message}`), ...(opts.extraDetail ?? [])]);
  const buttons = typeof script === 'string' ? [RUN] : [RUN, SEND_TO_TERMINAL];
  const choice = await ctx.input.warnModal(message, detail, ...buttons);
  const base = { plan, message, detail, buttons, preview };
  if (choice === SEND_TO_TERMINAL && typeof script !== 'string') {
    rep.requireTrust('Send to Terminal');
    return { ...base, choice: 'terminal', terminals: await sendToTerminals(ctx, plan, script) };
  }
  if (choice !== RUN) return { ...base, choice: 'cancelled' };
  rep.requireTrust(plan.title);

  // A clone or dataset (with everything in it) is destroyed: its name, typed exactly.
  for (const o of [...plan.destroys.datasets, ...plan.destroys.clones]) {
    const kind = plan.destroys.clones.includes(o) ? 'clone' : 'dataset';
    const ok = await ctx.input.confirmTyped(`This plan destroys the ${kind} ${o.name} on ${o.host} with all its data. Type its name to run the plan.`, o.name);
    if (!ok) return { ...base, choice: 'cancelled' };
  }
  // The newest common snapshot of a pair: the dataset's name, typed exactly.
  for (const l of losses) {
    const ok = await ctx.input.confirmTyped(`${l.message} Type the dataset name ${l.dataset} to run the plan.`, l.dataset);
    if (!ok) return { ...base, choice: 'cancelled' };
  }
  const confirmedSteps: string[] = [];
  const result = await execute(ctx, plan, confirmedSteps);
  await rep.history
    .append({ ...result, ...(opts.pairId ? { pair: opts.pairId } : {}), commands: Object.fromEntries(planToShell(plan, { ssh: sshFor }).byHost) })
    .catch((e: unknown) => ctx.log.error(`could not write the replication history: ${(e as Error).message}`));
  await refreshAfter(ctx, plan);
  const out: FlowResult = { ...base, choice: 'run', result, confirmedSteps };
  const next = await reportOutcome(ctx, plan, result, opts);
  if (next) out.next = next;
  return out;
}

/** Ask the hosts again (both views redraw) and the pairs' last runs. */
async function refreshAfter(ctx: FleetContext, plan: Plan): Promise<void> {
  await Promise.all(plan.hosts.map((h) => ctx.tree.loadHost(h, true)));
  await ctx.replication.pairs.historyChanged();
}

function stepConfirmDetail(plan: Plan, step: PlanStep): string {
  const line = planToShell(plan, { ssh: sshFor, includeEstimates: true }).lines.find((l) => l.stepId === step.id);
  const destroyed = destroyLines(step.destroys);
  const out = [step.description, ''];
  if (line) out.push(`${line.runOn === 'local' ? 'this machine' : line.runOn}$ ${line.line}`);
  if (destroyed.length) out.push('', `This step destroys ${destroyed.length} object${destroyed.length === 1 ? '' : 's'}:`, ...destroyed.map(bullet));
  return out.join('\n');
}

function progressMessage(e: Extract<ExecEvent, { type: 'progress' }>): string {
  const parts = [`${formatBytes(e.bytes)}${e.totalBytes ? ` of ${formatBytes(e.totalBytes)}` : ''} sent`, `${formatBytes(Math.round(e.bytesPerSecond))}/s`];
  if (e.secondsLeft !== undefined) parts.push(`${formatDuration(Math.round(e.secondsLeft))} left`);
  return parts.join(', ');
}

async function execute(ctx: FleetContext, plan: Plan, confirmedSteps: string[]): Promise<ExecResult> {
  const runnable = plan.steps.filter((s) => !s.cleanupOf).length || 1;
  ctx.log.info(`running plan ${plan.id}: ${plan.title}`);
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: plan.title, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    let label = 'starting';
    try {
      return await executePlan(
        plan,
        { runner: (h) => ctx.fleet.host(h).runner, freshListing: (h) => ctx.fleet.host(h).refresh(), logger: ctx.log },
        {
          signal: abort.signal,
          onEvent: (e) => {
            switch (e.type) {
              case 'checking':
                progress.report({ message: e.message });
                break;
              case 'step-start':
                label = `step ${e.index + 1}/${e.total}: ${e.step.description}`;
                ctx.log.info(`${plan.id} ${label}`);
                progress.report({ message: label });
                break;
              case 'progress':
                progress.report({ message: `${label} — ${progressMessage(e)}` });
                break;
              case 'step-done':
                ctx.log.info(`${plan.id} ${e.step.id} done in ${e.durationMs} ms${e.bytes !== undefined ? `, ${e.bytes} bytes` : ''}`);
                if (!e.step.cleanupOf) progress.report({ increment: 100 / runnable });
                break;
              case 'step-failed':
                ctx.log.error(`${plan.id} ${e.step.id} failed: ${e.error}`);
                break;
              case 'step-skipped':
                ctx.log.info(`${plan.id} ${e.step.id} skipped: ${e.reason}`);
                break;
            }
          },
          confirmStep: async (step) => {
            const i = plan.steps.indexOf(step) + 1;
            const answer = await ctx.input.warnModal(`Step ${i} of ${plan.steps.length}: ${step.description}`, stepConfirmDetail(plan, step), RUN_STEP);
            if (answer === RUN_STEP) confirmedSteps.push(step.id);
            return answer === RUN_STEP;
          },
        },
      );
    } finally {
      sub.dispose();
    }
  });
}

async function reportOutcome(ctx: FleetContext, plan: Plan, r: ExecResult, opts: FlowOptions): Promise<FlowResult | undefined> {
  const took = `${(r.durationMs / 1000).toFixed(1)} s`;
  ctx.log.info(`plan ${plan.id} ${r.outcome} in ${took}${r.bytes ? `, ${r.bytes} bytes` : ''}${r.error ? `: ${r.error}` : ''}`);
  switch (r.outcome) {
    case 'ok':
      void ctx.input.info(`${plan.title}: done in ${took}${r.bytes ? `, ${formatBytes(r.bytes)} sent` : ''}.`, 'Show History').then((b) => b && vscode.commands.executeCommand('zfsFleet.showReplicationHistory'));
      return undefined;
    case 'cancelled':
      void ctx.input.info(`${plan.title}: cancelled. ${ranSteps(r)}`);
      return undefined;
    case 'declined':
      void ctx.input.info(`${plan.title}: stopped, a step was not confirmed. ${ranSteps(r)}`);
      return undefined;
    case 'failed': {
      const buttons = ['Show Log', ...(opts.pairId ? ['Diagnose Pair'] : [])];
      void ctx.input.error(`${plan.title} failed: ${r.error ?? 'unknown error'}`, ...buttons).then((b) => {
        if (b === 'Show Log') ctx.log.show();
        if (b === 'Diagnose Pair') void vscode.commands.executeCommand('zfsFleet.diagnosePair', opts.pairId);
      });
      return undefined;
    }
    case 'changed': {
      const detail = `Nothing was run for the steps the plan guards:\n${(r.changes ?? [r.error ?? '']).map(bullet).join('\n')}\n\n${ranSteps(r)}`;
      const b = await ctx.input.warnModal(`${plan.title}: the hosts changed since the plan was made.`, detail, ...(opts.replan ? [REPLAN] : []));
      if (b === REPLAN && opts.replan) return opts.replan();
      return undefined;
    }
  }
}

function ranSteps(r: ExecResult): string {
  const ok = r.steps.filter((s) => s.status === 'ok');
  return ok.length ? `Steps that ran: ${ok.map((s) => s.description).join('; ')}.` : 'No step ran.';
}

/** One terminal per host, each with ONE line typed and NOT run (see terminalText.ts). */
export async function sendToTerminals(ctx: FleetContext, plan: Plan, script: TerminalScript): Promise<{ name: string; runOn: string; text: string }[]> {
  const s = readSettings();
  const out: { name: string; runOn: string; text: string }[] = [];
  const n = script.groups.length;
  script.groups.forEach((g, i) => {
    const where = g.runOn === 'local' ? 'this machine' : g.runOn;
    const name = `ZFS plan ${i + 1}/${n}: ${where}`;
    const term =
      g.runOn === 'local'
        ? vscode.window.createTerminal({ name })
        : vscode.window.createTerminal({ name, shellPath: 'ssh', shellArgs: openSshArgs(g.runOn, s.sshConfigPath, s.knownHostsPath) });
    term.sendText(g.text, false); // safe: terminalScript refused any control byte in g.text; no Enter
    if (i === 0) term.show();
    out.push({ name, runOn: g.runOn, text: g.text });
  });
  const order = script.groups.map((g, i) => `${i + 1}) ${g.runOn === 'local' ? 'this machine' : g.runOn}`).join(', ');
  const notes = [
    `${plan.title}: typed into ${n} terminal${n === 1 ? '' : 's'}, NOT run. Review each line and press Enter yourself, in this order: ${order}.`,
    script.interleaved ? 'Some host runs commands before and after another host: see the order in the preview.' : '',
    script.leftOut.length ? `Left out: ${script.leftOut.length} hold/release step(s).` : '',
  ].filter(Boolean);
  ctx.log.info(notes.join(' '));
  void ctx.input.info(notes.join(' '));
  return out;
}
