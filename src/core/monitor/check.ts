/**
 * `zfs-fleet check`: the fleet's facts judged against thresholds, as a Nagios/Icinga plugin says it
 * (Nagios Plugin Development Guidelines, "Plugin Return Codes" and "Performance data"): exit 0 OK,
 * 1 WARNING, 2 CRITICAL, 3 UNKNOWN; one summary line, detail lines, performance data after `|`
 * as `'label'=value[UOM];[warn];[crit];[min];[max]`.
 *
 * Severities:
 * - host unreachable: CRITICAL.
 * - pool health other than ONLINE: CRITICAL, DEGRADED included (as check_zpools.sh does; a degraded
 *   pool has lost redundancy: one more failed device loses data). Capacity (allocated/size) over
 *   --capacity-warn / --capacity-crit percent: WARNING / CRITICAL. Data errors (`zpool status`:
 *   `errors: N data errors`) or a last scrub that found errors it could not repair: CRITICAL (as
 *   check_zpools.sh does): files are damaged; `zpool status -v` lists them.
 * - a dataset's newest snapshot older than --stale-after: WARNING; a dataset without snapshots is
 *   checked only when it is a pair's source ("has no snapshots": WARNING).
 * - more snapshots than --max-snapshots on one dataset: WARNING.
 * - pair: no common base, the target has snapshots newer than the base (diverged), the source
 *   does not exist, or (recursive) the replica lacks a child the source had at the base (the sync is
 *   refused): CRITICAL. Behind for longer than --stale-after (its lag, see facts.ts): WARNING;
 *   behind for less is OK (a sync is due). The target modified since its newest snapshot: WARNING
 *   (the next sync rolls it back). A stale resume token: WARNING. The base is the source's oldest
 *   snapshot (the next prune loses it): WARNING. The last run in the history failed: WARNING.
 *   Not readable because a host is unreachable: UNKNOWN (the host itself is CRITICAL already).
 * - an invalid entry in the pairs file: UNKNOWN.
 * - `check --from-store`: a host (or pair) the agent has not observed for longer than --max-age, or
 *   never: WARNING "agent not reporting since …", and its old facts are left out (a stale agent never
 *   reports a stale OK); the pairs on such a host are UNKNOWN (not checked).
 * The overall state is the worst, ordered OK < UNKNOWN < WARNING < CRITICAL (the monitoring-plugins
 * library's max_state_alt): an unreadable detail does not hide a warning.
 */
import { formatDuration } from './duration.js';
import { formatUtc } from '../retention/forecast.js';
import type { FleetFacts, PairFacts } from './facts.js';

export type Severity = 'ok' | 'warning' | 'critical' | 'unknown';

export const EXIT_CODE: Record<Severity, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };
const RANK: Record<Severity, number> = { ok: 0, unknown: 1, warning: 2, critical: 3 };
const WORD: Record<Severity, string> = { ok: 'OK', warning: 'WARNING', critical: 'CRITICAL', unknown: 'UNKNOWN' };

export function worst(a: Severity, b: Severity): Severity {
  return RANK[a] >= RANK[b] ? a : b;
}

export interface CheckThresholds {
  staleAfterSeconds: number;
  /** Undefined: the number of snapshots is not checked. */
  maxSnapshots?: number;
  /** Percent of the pool allocated. */
  capacityWarn: number;
  capacityCrit: number;
}

export const DEFAULT_THRESHOLDS: CheckThresholds = { staleAfterSeconds: 7 * 3600, capacityWarn: 80, capacityCrit: 90 };

export type FindingKind =
  | 'host-unreachable'
  | 'host'
  | 'pool-health'
  | 'pool-capacity'
  | 'pool-errors'
  | 'stale'
  | 'no-snapshots'
  | 'too-many-snapshots'
  | 'pair'
  | 'pair-behind'
  | 'pair-diverged'
  | 'pair-incomplete'
  | 'pair-modified'
  | 'replica-writable'
  | 'split-brain'
  | 'resume-token'
  | 'base-at-risk'
  | 'last-run-failed'
  | 'job-failed'
  | 'pair-unreadable'
  | 'agent-stale'
  | 'config';

export interface Finding {
  severity: Severity;
  kind: FindingKind;
  /** What it is about: `off2`, `off1:zfs-hdd`, `off1:zfs-hdd/off/products`, a pair id. */
  subject: string;
  /** Short, for the summary line: `off2 unreachable`. */
  short: string;
  /** One detail line. */
  message: string;
}

export interface PerfDatum {
  label: string;
  value: number;
  uom?: '' | 's' | '%' | 'B' | 'c';
  warn?: number;
  crit?: number;
  min?: number;
  max?: number;
}

export interface CheckReport {
  severity: Severity;
  exitCode: number;
  summary: string;
  findings: Finding[];
  perfdata: PerfDatum[];
}

function pct(ratio: number): number {
  return Math.round(ratio * 1000) / 10;
}

function pairFindings(p: PairFacts, t: CheckThresholds, add: (f: Omit<Finding, 'subject'> & { subject?: string }) => void): void {
  const id = p.pair.id;
  const f = (severity: Severity, kind: FindingKind, short: string, message: string) => add({ severity, kind, subject: id, short, message });
  if (!p.state) return f('unknown', 'pair-unreadable', `${id} not checked`, `${id}: not checked: ${p.unreadable ?? 'no listing'}`);
  const s = p.state;
  if (s.status === 'source-missing') f('critical', 'pair-diverged', `${id} source missing`, `${id}: ${s.summary}`);
  if (s.noCommon) f('critical', 'pair-diverged', `${id} no common base`, `${id}: no common base: ${s.noCommon.detail}`);
  const lost = s.descendants?.lost ?? [];
  if (lost.length)
    f(
      'critical',
      'pair-incomplete',
      `${id} replica lacks ${lost.length} child${lost.length === 1 ? '' : 'ren'}`,
      `${id}: the replica lacks ${lost.join(', ')}, which the source had at the common base: the recursive sync is refused until ${lost.length === 1 ? 'it is' : 'they are'} sent on ${lost.length === 1 ? 'its' : 'their'} own or excluded`,
    );
  if (s.statuses.includes('target-has-newer'))
    f('critical', 'pair-diverged', `${id} diverged`, `${id}: diverged: the target has ${s.targetNewer.length} snapshot(s) newer than the common base`);
  if (s.statuses.includes('target-modified'))
    f(
      'warning',
      'pair-modified',
      `${id} target modified`,
      `${id}: the target was modified since its newest snapshot (${s.targetWrittenBytes ?? '?'} bytes written)`,
    );
  const replica = `${p.pair.target.host}:${p.pair.target.name!.full}`;
  if (p.splitBrain)
    f(
      'critical',
      'split-brain',
      `${id} split brain`,
      `${id}: split brain: the replica ${replica} says it is the primary (zfs-fleet:role=primary); zfs-fleet demote ${p.pair.group} ${replica} --keep-data makes it a replica again`,
    );
  if (p.replicaWritable)
    f(
      'warning',
      'replica-writable',
      `${id} replica writable`,
      `${id}: the replica ${replica} is writable (readonly=off): what is written there is lost at the next sync; zfs-fleet roles ${p.pair.group} makes it read-only`,
    );
  if (s.resume?.stale) f('warning', 'resume-token', `${id} stale resume token`, `${id}: stale resume token: ${s.resume.stale}`);
  if (p.baseAtRisk) f('warning', 'base-at-risk', `${id} base at risk`, `${id}: ${s.retentionWarning}`);
  if (p.behind > 0) {
    const lag = p.lagSeconds !== undefined ? `, lag ${formatDuration(p.lagSeconds)}` : '';
    // A group's maxLag (fleet file), else --stale-after.
    const maxLag = p.pair.limits?.maxLagSeconds ?? t.staleAfterSeconds;
    const late = p.lagSeconds !== undefined && p.lagSeconds > maxLag;
    f(
      late ? 'warning' : 'ok',
      'pair-behind',
      `${id} behind ${p.behind}${lag}`,
      `${id}: behind by ${p.behind} snapshot(s)${lag}${late ? ` (over ${formatDuration(maxLag)})` : ''}`,
    );
  }
  if (p.lastRun && p.lastRun.outcome !== 'ok' && p.lastRun.outcome !== 'cancelled' && p.lastRun.outcome !== 'declined') {
    const why = p.lastRun.error ? `: ${p.lastRun.error.split('\n')[0]}` : '';
    f('warning', 'last-run-failed', `${id} last run ${p.lastRun.outcome}`, `${id}: the last run (${p.lastRun.finishedAt}) ${p.lastRun.outcome}${why}`);
  }
  if (s.status === 'in-sync' && !p.baseAtRisk) f('ok', 'pair', `${id} in sync`, `${id}: in sync`);
}

/** Judge the facts: every finding (OK ones included), the overall state, the performance data. */
export function evaluateCheck(facts: FleetFacts, t: CheckThresholds, extra: readonly Finding[] = []): CheckReport {
  const findings: Finding[] = [...extra];
  const add = (x: Omit<Finding, 'subject'> & { subject?: string }) => findings.push({ subject: x.subject ?? '', ...x } as Finding);
  const perf: PerfDatum[] = [];

  for (const h of facts.hosts) {
    if (!h.up) {
      add({
        severity: 'critical',
        kind: 'host-unreachable',
        subject: h.host,
        short: `${h.host} unreachable`,
        message: `${h.host}: unreachable: ${h.error ?? ''}`,
      });
      continue;
    }
    const pools = facts.pools.filter((p) => p.host === h.host).length;
    const ds = facts.datasets.filter((d) => d.host === h.host);
    const snaps = ds.reduce((n, d) => n + d.snapshots, 0);
    add({
      severity: 'ok',
      kind: 'host',
      subject: h.host,
      short: `${h.host} up`,
      message: `${h.host}: ${pools} pool(s), ${ds.length} dataset(s), ${snaps} snapshot(s), listed in ${(h.listingSeconds ?? 0).toFixed(1)}s`,
    });
    perf.push({ label: `listing_seconds_${h.host}`, value: Math.round((h.listingSeconds ?? 0) * 1000) / 1000, uom: 's', min: 0 });
  }

  for (const p of facts.pools) {
    const subject = `${p.host}:${p.pool}`;
    if (p.health !== 'ONLINE')
      add({ severity: 'critical', kind: 'pool-health', subject, short: `${subject} ${p.health}`, message: `${subject}: pool is ${p.health} (not ONLINE)` });
    const scanErrors = p.scan?.state === 'finished' ? (p.scan.errors ?? 0) : 0;
    if ((p.dataErrors ?? 0) > 0 || scanErrors > 0) {
      const said = [
        ...((p.dataErrors ?? 0) > 0 ? [`${p.dataErrors} data error${p.dataErrors === 1 ? '' : 's'}`] : []),
        ...(scanErrors > 0
          ? [
              `its last ${p.scan!.kind}${p.scan!.at !== undefined ? ` (${formatUtc(p.scan!.at)})` : ''} found ${scanErrors} error${scanErrors === 1 ? '' : 's'} it could not repair`,
            ]
          : []),
      ];
      add({
        severity: 'critical',
        kind: 'pool-errors',
        subject,
        short: `${subject} ${(p.dataErrors ?? 0) > 0 ? `${p.dataErrors} data errors` : `${p.scan!.kind} errors`}`,
        message: `${subject}: ${said.join('; ')} (zpool status -v ${p.pool} lists the damaged files)`,
      });
    }
    if (p.capacityRatio !== undefined) {
      const used = pct(p.capacityRatio);
      const sev: Severity = used > t.capacityCrit ? 'critical' : used > t.capacityWarn ? 'warning' : 'ok';
      if (sev !== 'ok')
        add({
          severity: sev,
          kind: 'pool-capacity',
          subject,
          short: `${subject} ${used}% full`,
          message: `${subject}: ${used}% allocated (over ${sev === 'critical' ? t.capacityCrit : t.capacityWarn}%)`,
        });
      perf.push({ label: `capacity_${subject}`, value: used, uom: '%', warn: t.capacityWarn, crit: t.capacityCrit, min: 0, max: 100 });
    }
  }

  let stale = 0;
  for (const d of facts.datasets) {
    const subject = `${d.host}:${d.dataset}`;
    if (d.snapshots === 0) {
      if (d.pairSource) {
        stale++;
        add({
          severity: 'warning',
          kind: 'no-snapshots',
          subject,
          short: `${subject} has no snapshots`,
          message: `${subject}: a pair's source without any snapshot`,
        });
      }
    } else if (d.newestAgeSeconds !== undefined && d.newestAgeSeconds > (d.staleAfterSeconds ?? t.staleAfterSeconds)) {
      stale++;
      const age = formatDuration(d.newestAgeSeconds);
      add({
        severity: 'warning',
        kind: 'stale',
        subject,
        short: `${subject} newest snapshot ${age} old`,
        message: `${subject}: newest snapshot ${d.newestSnapshot?.slice(d.newestSnapshot.indexOf('@')) ?? '?'} is ${age} old (over ${formatDuration(d.staleAfterSeconds ?? t.staleAfterSeconds)})`,
      });
    }
    if (t.maxSnapshots !== undefined && d.snapshots > t.maxSnapshots)
      add({
        severity: 'warning',
        kind: 'too-many-snapshots',
        subject,
        short: `${subject} ${d.snapshots} snapshots`,
        message: `${subject}: ${d.snapshots} snapshots (over ${t.maxSnapshots})`,
      });
    if (d.pairSource && d.newestAgeSeconds !== undefined)
      perf.push({
        label: `newest_snapshot_age_${subject}`,
        value: Math.round(d.newestAgeSeconds),
        uom: 's',
        warn: d.staleAfterSeconds ?? t.staleAfterSeconds,
        min: 0,
      });
  }

  for (const p of facts.pairs) {
    pairFindings(p, t, add);
    if (p.lagSeconds !== undefined)
      perf.push({
        label: `lag_seconds_${p.pair.id}`,
        value: Math.round(p.lagSeconds),
        uom: 's',
        warn: p.pair.limits?.maxLagSeconds ?? t.staleAfterSeconds,
        min: 0,
      });
    if (p.state) perf.push({ label: `behind_${p.pair.id}`, value: p.behind, min: 0 });
  }

  const hostsDown = facts.hosts.filter((h) => !h.up).length;
  perf.push({ label: 'hosts_unreachable', value: hostsDown, min: 0, max: facts.hosts.length });
  perf.push({ label: 'datasets_stale', value: stale, min: 0, max: facts.datasets.length });

  const severity = findings.reduce<Severity>((s, f) => worst(s, f.severity), 'ok');
  findings.sort((a, b) => RANK[b.severity] - RANK[a.severity]);
  return { severity, exitCode: EXIT_CODE[severity], summary: summaryLine(severity, findings, facts), findings, perfdata: perf };
}

function summaryLine(severity: Severity, findings: readonly Finding[], facts: FleetFacts): string {
  const n = (s: Severity) => findings.filter((f) => f.severity === s).length;
  const counts = (['critical', 'warning', 'unknown'] as const).filter((s) => n(s) > 0).map((s) => `${n(s)} ${s}`);
  const problems = findings.filter((f) => f.severity !== 'ok');
  const MAX = 5;
  const shown = problems.slice(0, MAX).map((f) => f.short);
  if (problems.length > MAX) shown.push(`and ${problems.length - MAX} more`);
  const what =
    severity === 'ok'
      ? `${facts.hosts.length} host(s), ${facts.pools.length} pool(s), ${facts.datasets.length} dataset(s), ${facts.pairs.length} pair(s) checked`
      : `${counts.join(', ')}: ${shown.join('; ')}`;
  return `ZFS FLEET ${WORD[severity]} - ${what}`;
}

/** A label as the guidelines allow it: quoted, `'` doubled; `=` (which no label may hold) and line breaks replaced. */
export function perfLabel(label: string): string {
  return `'${label.replace(/[=\r\n|]/g, '_').replace(/'/g, "''")}'`;
}

function num(v: number | undefined): string {
  return v === undefined ? '' : String(v);
}

export function formatPerfDatum(p: PerfDatum): string {
  const tail = [num(p.warn), num(p.crit), num(p.min), num(p.max)];
  while (tail.length && tail[tail.length - 1] === '') tail.pop();
  return `${perfLabel(p.label)}=${p.value}${p.uom ?? ''}${tail.length ? ';' + tail.join(';') : ''}`;
}

/**
 * The plugin's output: the summary line, a line per finding (problems first, then what is OK),
 * and the performance data after `|` on the last line of text, one datum per following line (the
 * guidelines' multi-line form: Nagios and Icinga 2 read everything after that `|` as perfdata).
 */
export function nagiosText(r: CheckReport): string {
  // `|` starts the performance data: none may appear in the text (a host's error message could hold one).
  const text = (s: string) => s.replace(/\|/g, '/');
  const lines = [text(r.summary), ...r.findings.map((f) => text(`[${WORD[f.severity]}] ${f.message}`))];
  const perf = r.perfdata.map(formatPerfDatum);
  if (perf.length) lines[lines.length - 1] += ` | ${perf[0]}`;
  return [...lines, ...perf.slice(1)].join('\n');
}
