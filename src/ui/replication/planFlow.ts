/**
 * The extension's side of the one plan flow (src/app/flow.ts): the plan is shown as a read-only
 * document (renderPlan), a MODAL confirmation names everything it destroys and its warnings and
 * offers "Run" or "Send to Terminal"; destroying a clone, a dataset or a pair's newest common base
 * asks for its name typed exactly; a blocked plan says why and offers its alternatives instead of
 * Run. Running shows bytes, rate and time left in a cancellable notification and asks for each
 * `confirm` step; the outcome is a notification (or, when the hosts changed, an offer to re-plan).
 */
import * as vscode from 'vscode';
import type { FlowResult, Interaction, Review, TypedQuestion } from '../../app/flow.js';
import { pairLabel, type RebaseQuestion, type ReplicationUI } from '../../app/replication.js';
import type { ExecEvent, ExecResult } from '../../core/execute/executor.js';
import type { ReplicationPair } from '../../core/fleet/pairs.js';
import { formatBytes, formatTime } from '../../core/format.js';
import type { Diagnosis } from '../../core/replication/diagnose.js';
import { snapName } from '../../core/replication/commonBase.js';
import { destroyLines, planToShell, renderPlan, type Plan, type PlanStep } from '../../core/replication/plan.js';
import { formatDuration } from '../../core/replication/processes.js';
import { shortName } from '../../core/zfs/names.js';
import { safeLine } from '../../core/text.js';
import { queueViewOf } from '../queue/view.js';
import type { FleetContext } from '../context.js';
import { readSettings } from '../settings.js';
import { openSshArgs } from '../terminal.js';
import { pick } from '../userInput.js';
import { diagnosisMarkdown, historyMarkdown } from './reports.js';
import { TerminalTextError, terminalScript, type TerminalScript } from './terminalText.js';

export type { FlowResult } from '../../app/flow.js';
export { DESTROY_CLONES } from '../../app/replication.js';
export const RUN = 'Run';
export const QUEUE = 'Queue';
export const SEND_TO_TERMINAL = 'Send to Terminal';
export const RUN_STEP = 'Run Step';
export const REPLAN = 'Re-plan';
const bullet = (s: string) => `  • ${s}`;

/** The confirmation's detail: the summary, EVERY destroyed object, the warnings, the hosts. */
export function confirmationDetail(plan: Plan, extra: string[] = []): string {
  const out: string[] = [plan.summary, ...extra];
  if (plan.effects?.length) out.push('', 'What changes:', ...plan.effects.map(bullet));
  const destroyed = destroyLines(plan.destroys);
  out.push('');
  if (destroyed.length) {
    out.push(`This destroys ${destroyed.length} object${destroyed.length === 1 ? '' : 's'}:`, ...destroyed.map(bullet));
  } else {
    out.push('This destroys nothing.');
  }
  if (plan.warnings.length) out.push('', 'Warnings:', ...plan.warnings.map(bullet));
  const confirmed = plan.steps.filter((s) => s.confirm && !s.estimate).length;
  out.push(
    '',
    `Hosts: ${plan.hosts.join(', ')}. ${plan.steps.filter((s) => !s.estimate).length} step(s)${confirmed ? `, ${confirmed} confirmed one by one` : ''}. The plan is re-checked against the hosts right before it runs.`,
  );
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

/** The ssh command line that reaches a host (the history's and the terminals' commands). */
export function sshFor(host: string): string[] {
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

const scripts = new WeakMap<Plan, TerminalScript | string>();

/** The plan's terminal script, or why it is not typed (control bytes from a host: run or read it, never type it); made once per plan. */
function scriptOf(plan: Plan): TerminalScript | string {
  let script = scripts.get(plan);
  if (script === undefined) {
    try {
      script = terminalScript(plan, sshFor);
    } catch (e) {
      if (!(e instanceof TerminalTextError)) throw e;
      script = e.message;
    }
    scripts.set(plan, script);
  }
  return script;
}

function typedPrompt(q: TypedQuestion): { prompt: string; expected: string } {
  if (q.kind === 'base') return { prompt: `${q.loss.message} Type the dataset name ${q.loss.dataset} to run the plan.`, expected: q.loss.dataset };
  return { prompt: `This plan destroys the ${q.kind} ${q.name} on ${q.host} with all its data. Type its name to run the plan.`, expected: q.name };
}

/** How the extension shows, asks and reports (the modal, the preview document, the progress notification). */
export function vscodeInteraction(ctx: FleetContext): Interaction {
  const rep = ctx.replication;
  return {
    nothing: (plan) => void ctx.input.info(`${plan.title}: ${plan.summary}`),
    preview: async (r) => {
      const extra = [...r.losses.map((l) => `BASE LOST: ${l.message}`), r.extraPreview ?? ''].filter(Boolean).join('\n');
      return { preview: await rep.docs.show(`${r.plan.title}.txt`, previewText(r.plan, scriptOf(r.plan), extra), { preserveFocus: true }) };
    },
    chooseAlternative: async (r, buttons) => {
      const message = `Blocked: ${r.plan.title.replace(/ \(blocked\)$/, '')}`;
      const detail = blockedDetail(r.plan, r.extraDetail);
      const label = await ctx.input.warnModal(message, detail, ...buttons);
      return { message, detail, buttons, ...(label ? { label } : {}) };
    },
    confirm: async (r: Review) => {
      const message = r.plan.title;
      const detail = confirmationDetail(r.plan, [...r.losses.map((l) => `\n${l.message}`), ...(r.extraDetail ?? [])]);
      const buttons = [RUN, ...(r.queueable ? [QUEUE] : []), ...(typeof scriptOf(r.plan) === 'string' ? [] : [SEND_TO_TERMINAL])];
      const answer = await ctx.input.warnModal(message, detail, ...buttons);
      const choice = answer === RUN ? 'run' : answer === QUEUE ? 'queue' : answer === SEND_TO_TERMINAL ? 'terminal' : 'cancelled';
      return { message, detail, buttons, choice };
    },
    queued: ({ job, added }) => {
      void ctx.input.info(
        added
          ? `Queued job ${job.id}: ${safeLine(job.name)}. A worker runs it (zfs-fleet worker, or the agent); it is planned again from the hosts when it starts.`
          : `Already queued: job ${job.id} (${job.state}) syncs ${safeLine(job.name)}.`,
      );
      void queueViewOf(ctx).refresh();
    },
    confirmTyped: (q) => {
      const { prompt, expected } = typedPrompt(q);
      return ctx.input.confirmTyped(prompt, expected);
    },
    confirmStep: async (plan, step) => {
      const i = plan.steps.indexOf(step) + 1;
      return (await ctx.input.warnModal(`Step ${i} of ${plan.steps.length}: ${step.description}`, stepConfirmDetail(plan, step), RUN_STEP)) === RUN_STEP;
    },
    running: (plan, run) => withProgress(plan, run),
    sendToTerminals: async (plan) => {
      const script = scriptOf(plan);
      if (typeof script === 'string') throw new Error(script);
      return sendToTerminals(ctx, plan, script);
    },
    outcome: (plan, result, offers) => reportOutcome(ctx, plan, result, offers),
  };
}

/** The Interaction plus what the replication flows ask in the extension: the rebase target, the diagnosis report. */
export function vscodeReplicationUI(ctx: FleetContext): ReplicationUI {
  return {
    ...vscodeInteraction(ctx),
    cannotPlan: (what, reason, diagnose) => {
      void ctx.input.error(`${what}: ${reason}`, ...(diagnose ? ['Diagnose Pair'] : [])).then((b) => b && diagnose?.());
    },
    rebaseTarget: (q) => askRebaseTarget(ctx, q),
    diagnosis: (pair, d, notes) => showDiagnosis(ctx, pair, d, notes),
  };
}

async function askRebaseTarget(ctx: FleetContext, q: RebaseQuestion): Promise<{ onto: string; keepData: boolean }> {
  const originDs = q.origin.slice(0, q.origin.indexOf('@'));
  const items = q.choices.map((s) => ({
    label: `@${snapName(s.name)}`,
    description: `${formatTime(s.creation)}${s.name === q.suggested ? ' · suggested' : ''}`,
    name: s.name,
  }));
  const onto = await pick(ctx.input, items, { title: `Re-base ${q.clone} (now a clone of @${snapName(q.origin)}) onto an older snapshot of ${originDs}` });
  const copy = `${shortName(q.clone)}-pre-rebase-…`;
  const keep = await pick(
    ctx.input,
    [
      { label: 'Keep its data', description: `copy the clone's current data to ${copy} first`, keep: true },
      { label: 'Drop its data', description: `the clone then holds the data of ${onto.label}; its current data is lost`, keep: false },
    ],
    { title: `Re-base ${q.clone} onto ${onto.label}: its current data` },
  );
  return { onto: onto.name, keepData: keep.keep };
}

async function showDiagnosis(ctx: FleetContext, pair: ReplicationPair, d: Diagnosis, notes: string[]): Promise<{ reviewFix: boolean; report: vscode.Uri }> {
  const label = pairLabel(pair);
  const report = await ctx.replication.docs.show(`Diagnosis ${label}.md`, diagnosisMarkdown(pair, d, notes));
  if (!d.fix) {
    void ctx.input.info(`Diagnosis of ${label}: ${d.fixUnavailable ? `no fix can be planned: ${d.fixUnavailable}` : 'nothing to fix.'}`);
    return { reviewFix: false, report };
  }
  const b = await ctx.input.info(
    `Diagnosis of ${label}: ${d.findings.length} finding(s); a fix plan of ${d.fix.steps.length} step(s) is ready.`,
    'Review Fix Plan…',
  );
  return { reviewFix: b === 'Review Fix Plan…', report };
}

/** The history as a read-only document. */
export async function showHistory(ctx: FleetContext): Promise<vscode.Uri> {
  const { entries, unreadable } = await ctx.replication.history.read(500);
  return ctx.replication.docs.show('Replication History.md', historyMarkdown(entries, unreadable, ctx.replication.history.file), { key: 'history' });
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

/** A cancellable notification: the step running, then bytes, rate and time left. */
function withProgress(plan: Plan, run: (onEvent: (e: ExecEvent) => void, signal: AbortSignal) => Promise<ExecResult>): Promise<ExecResult> {
  const runnable = plan.steps.filter((s) => !s.cleanupOf).length || 1;
  return Promise.resolve(
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: plan.title, cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      let label = 'starting';
      try {
        return await run((e) => {
          if (e.type === 'checking') progress.report({ message: e.message });
          else if (e.type === 'step-start') progress.report({ message: (label = `step ${e.index + 1}/${e.total}: ${e.step.description}`) });
          else if (e.type === 'progress') progress.report({ message: `${label} — ${progressMessage(e)}` });
          else if (e.type === 'step-done' && !e.step.cleanupOf) progress.report({ increment: 100 / runnable });
        }, abort.signal);
      } finally {
        sub.dispose();
      }
    }),
  );
}

async function reportOutcome(
  ctx: FleetContext,
  plan: Plan,
  r: ExecResult,
  offers: { replan?: () => Promise<FlowResult | undefined>; diagnose?: () => Promise<unknown> },
): Promise<FlowResult | undefined> {
  const took = `${(r.durationMs / 1000).toFixed(1)} s`;
  switch (r.outcome) {
    case 'ok':
      void ctx.input.info(`${plan.title}: done in ${took}${r.bytes ? `, ${formatBytes(r.bytes)} sent` : ''}.`, 'Show History').then((b) => {
        if (b) void showHistory(ctx);
      });
      return undefined;
    case 'cancelled':
      void ctx.input.info(`${plan.title}: cancelled. ${ranSteps(r)}`);
      return undefined;
    case 'declined':
      void ctx.input.info(`${plan.title}: stopped, a step was not confirmed. ${ranSteps(r)}`);
      return undefined;
    case 'failed': {
      const buttons = ['Show Log', ...(offers.diagnose ? ['Diagnose Pair'] : [])];
      void ctx.input.error(`${plan.title} failed: ${r.error ?? 'unknown error'}`, ...buttons).then((b) => {
        if (b === 'Show Log') ctx.log.show();
        if (b === 'Diagnose Pair') void offers.diagnose?.();
      });
      return undefined;
    }
    case 'changed': {
      const detail = `Nothing was run for the steps the plan guards:\n${(r.changes ?? [r.error ?? '']).map(bullet).join('\n')}\n\n${ranSteps(r)}`;
      const b = await ctx.input.warnModal(`${plan.title}: the hosts changed since the plan was made.`, detail, ...(offers.replan ? [REPLAN] : []));
      return b === REPLAN && offers.replan ? offers.replan() : undefined;
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
