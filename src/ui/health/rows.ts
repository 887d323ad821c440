/**
 * The Fleet Health view as plain data (no vscode): a health snapshot (app/health.ts: the facts and
 * check's findings, the same the CLI's `zfs-fleet check` prints) turned into rows. Problems first,
 * one row per finding that is not OK; then the hosts (online/offline, last seen, listing time) with
 * their pools (health, a capacity bar); then the pairs. Every text from a host is escaped here
 * (safeLine/safeText), so the provider only maps a row to a TreeItem.
 */
import { describeScan } from '../../core/zfs/poolStatus.js';
import { pairLabel } from '../../app/replication.js';
import type { HealthSnapshot } from '../../app/health.js';
import { formatAge, formatTime } from '../../core/format.js';
import { worst, type Finding, type FindingKind, type Severity } from '../../core/monitor/check.js';
import { formatDuration } from '../../core/monitor/duration.js';
import { safeLine, safeText } from '../../core/text.js';
import type { TreeRow } from '../treeRow.js';

export type HealthNode =
  | { kind: 'health.group'; id: string; group: 'problems' | 'hosts' | 'pairs' }
  | { kind: 'health.problem'; id: string; finding: Finding; host?: string; pairId?: string }
  | { kind: 'health.host'; id: string; host: string }
  | { kind: 'health.pool'; id: string; host: string; pool: string }
  | { kind: 'health.pair'; id: string; pairId: string }
  | { kind: 'health.message'; id: string; text: string };

export type HealthRow = TreeRow<HealthNode>;

/** A Fleet Health node (a command may get one from the view). */
export function isHealthNode(x: unknown): x is HealthNode {
  return !!x && typeof x === 'object' && typeof (x as HealthNode).kind === 'string' && (x as HealthNode).kind.startsWith('health.');
}

/** The pair a Fleet Health node is about (a pair problem, a pair row), if any. */
export function healthPairId(x: unknown): string | undefined {
  return isHealthNode(x) && (x.kind === 'health.pair' || x.kind === 'health.problem') ? x.pairId : undefined;
}

export const SEVERITY_ICON: Record<Severity, { icon: string; iconColor: string }> = {
  critical: { icon: 'error', iconColor: 'problemsErrorIcon.foreground' },
  warning: { icon: 'warning', iconColor: 'problemsWarningIcon.foreground' },
  unknown: { icon: 'question', iconColor: 'problemsInfoIcon.foreground' },
  ok: { icon: 'pass', iconColor: 'testing.iconPassed' },
};

const WORD: Record<Severity, string> = { ok: 'OK', warning: 'Warning', critical: 'Critical', unknown: 'Unknown' };

const PAIR_KINDS = new Set<FindingKind>([
  'pair',
  'pair-behind',
  'pair-diverged',
  'pair-incomplete',
  'pair-modified',
  'replica-writable',
  'split-brain',
  'resume-token',
  'base-at-risk',
  'last-run-failed',
  'pair-unreadable',
]);

/** `▇▇▇▇▁ 81%`: five cells, filled to the nearest fifth. */
export function capacityBar(ratio: number): string {
  const r = Math.min(1, Math.max(0, ratio));
  const filled = Math.round(r * 5);
  return `${'▇'.repeat(filled)}${'▁'.repeat(5 - filled)} ${Math.round(r * 100)}%`;
}

const RANK: Record<Severity, number> = { critical: 0, warning: 1, unknown: 2, ok: 3 };
/** Within a severity: what an operator acts on first (a host down, a pool, a pair) before stale datasets and configuration. */
const SCOPE_ORDER = { host: 0, pool: 1, pair: 2, dataset: 3, config: 4 } as const;

/** The problems (findings that are not OK): critical, warning, unknown; within each, hosts, pools, pairs, datasets, configuration. */
export function problems(s: HealthSnapshot): Finding[] {
  return s.report.findings
    .filter((f) => f.severity !== 'ok')
    .map((f, i) => ({ f, i, scope: SCOPE_ORDER[about(f, s).scope] }))
    .sort((a, b) => RANK[a.f.severity] - RANK[b.f.severity] || a.scope - b.scope || a.i - b.i)
    .map((x) => x.f);
}

/** What a finding is about: its host (the longest host name its subject starts with) or its pair. */
function about(f: Finding, s: HealthSnapshot): { host?: string; pairId?: string; scope: 'host' | 'pool' | 'dataset' | 'pair' | 'config' } {
  if (PAIR_KINDS.has(f.kind)) return { pairId: f.subject, scope: 'pair' };
  if (f.kind === 'config') return { scope: 'config' };
  const hosts = s.facts.hosts.map((h) => h.host).sort((a, b) => b.length - a.length);
  const host = hosts.find((h) => f.subject === h || f.subject.startsWith(`${h}:`));
  const scope =
    f.kind === 'pool-health' || f.kind === 'pool-capacity' || f.kind === 'pool-errors'
      ? 'pool'
      : f.kind === 'host' || f.kind === 'host-unreachable'
        ? 'host'
        : 'dataset';
  return host === undefined ? { scope: 'config' } : { host, scope };
}

/** The finding's short text without its subject (`off2 unreachable` -> `unreachable`). */
function shortWithoutSubject(f: Finding): string {
  return f.short.startsWith(`${f.subject} `) ? f.short.slice(f.subject.length + 1) : f.short;
}

function pairTitle(s: HealthSnapshot, pairId: string): string {
  const p = s.facts.pairs.find((x) => x.pair.id === pairId);
  return p ? pairLabel(p.pair) : pairId;
}

function problemRow(f: Finding, s: HealthSnapshot, id: string): HealthRow {
  const a = about(f, s);
  const label = a.scope === 'pair' ? pairTitle(s, f.subject) : f.subject || f.short;
  return {
    node: {
      kind: 'health.problem',
      id,
      finding: f,
      ...(a.host !== undefined ? { host: a.host } : {}),
      ...(a.pairId !== undefined ? { pairId: a.pairId } : {}),
    },
    label: safeLine(label),
    description: safeLine(shortWithoutSubject(f)),
    ...SEVERITY_ICON[f.severity],
    contextValue: `zfs.health.problem.${a.scope}`,
    tooltip: [
      [WORD[f.severity], safeText(f.message)],
      ['Check', f.kind],
    ],
  };
}

function hostRows(s: HealthSnapshot, lastSeen: ReadonlyMap<string, number>, bySubject: Map<string, Finding[]>): HealthRow[] {
  const now = s.readAt;
  return s.facts.hosts.map((h) => {
    const own = bySubject.get(h.host) ?? [];
    const pools = s.facts.pools.filter((p) => p.host === h.host);
    const datasets = s.facts.datasets.filter((d) => d.host === h.host);
    const seen = h.up ? (h.listedAt ?? now) : lastSeen.get(h.host);
    const seenText = seen === undefined ? 'never seen' : `seen ${formatAge(seen / 1000, now)}`;
    const tooltip: [string, string][] = [
      ['State', h.up ? 'online' : `offline: ${safeLine(h.error ?? 'unreachable')}`],
      ['Last seen', seen === undefined ? 'not since the extension started' : `${formatTime(seen / 1000)} (${formatAge(seen / 1000, now)})`],
    ];
    if (h.up) {
      tooltip.push(['Listing took', `${(h.listingSeconds ?? 0).toFixed(1)} s`]);
      tooltip.push(['Objects', `${pools.length} pool(s), ${datasets.length} dataset(s), ${datasets.reduce((n, d) => n + d.snapshots, 0)} snapshot(s)`]);
      if (h.rejected) tooltip.push(['Left out', `${h.rejected} object(s) with invalid names`]);
    }
    const poolRows = pools.map((p): HealthRow => {
      const subject = `${h.host}:${p.pool}`;
      const sev = (bySubject.get(subject) ?? []).reduce<Severity>((x, f) => worst(x, f.severity), 'ok');
      const cap = p.capacityRatio !== undefined ? `${capacityBar(p.capacityRatio)} · ` : '';
      return {
        node: { kind: 'health.pool', id: `health/pool/${subject}`, host: h.host, pool: p.pool },
        label: safeLine(p.pool),
        description: safeLine(`${cap}${p.health}`),
        icon: sev === 'ok' ? 'database' : SEVERITY_ICON[sev].icon,
        ...(sev === 'ok' ? {} : { iconColor: SEVERITY_ICON[sev].iconColor }),
        contextValue: 'zfs.health.pool',
        tooltip: [
          ['Health', safeLine(p.health)],
          ['Capacity', p.capacityRatio !== undefined ? `${(p.capacityRatio * 100).toFixed(1)}% allocated` : 'not reported'],
          ['Last scrub', p.scan || p.dataErrors !== undefined ? safeLine(describeScan(p.scan)) : 'not reported'],
          ...(bySubject.get(subject) ?? []).map((f): [string, string] => [WORD[f.severity], safeText(f.message)]),
        ],
      };
    });
    const children: HealthRow[] = h.up
      ? poolRows
      : [
          {
            node: { kind: 'health.message', id: `health/host/${h.host}/error`, text: h.error ?? 'unreachable' },
            label: safeLine(h.error ?? 'unreachable'),
            icon: 'info',
            contextValue: 'zfs.health.message',
            tooltip: [['Error', safeText(h.error ?? 'unreachable')]],
          },
        ];
    const sev = own.reduce<Severity>((x, f) => worst(x, f.severity), 'ok');
    return {
      node: { kind: 'health.host', id: `health/host/${h.host}`, host: h.host },
      label: safeLine(h.host),
      description: h.up ? `online · ${(h.listingSeconds ?? 0).toFixed(1)} s · ${seenText}` : `offline · ${seenText}`,
      icon: h.up ? 'vm-active' : 'vm-outline',
      iconColor: h.up ? (sev === 'ok' ? SEVERITY_ICON.ok.iconColor : SEVERITY_ICON[sev].iconColor) : SEVERITY_ICON.critical.iconColor,
      contextValue: 'zfs.health.host',
      tooltip,
      children,
      expanded: false,
    };
  });
}

function pairRows(s: HealthSnapshot, bySubject: Map<string, Finding[]>): HealthRow[] {
  return s.facts.pairs.map((p) => {
    const fs = bySubject.get(p.pair.id) ?? [];
    const bad = fs.filter((f) => f.severity !== 'ok');
    const sev = fs.reduce<Severity>((x, f) => worst(x, f.severity), 'ok');
    const shown = (bad.length ? bad : fs).map(shortWithoutSubject);
    const tooltip: [string, string][] = [
      ['Source', safeLine(`${p.pair.source.host}:${p.pair.source.name!.full}`)],
      ['Target', safeLine(`${p.pair.target.host}:${p.pair.target.name!.full}`)],
    ];
    if (p.lagSeconds !== undefined) tooltip.push(['Lag', formatDuration(p.lagSeconds)]);
    if (p.lastRun) tooltip.push(['Last run', safeLine(`${p.lastRun.finishedAt}: ${p.lastRun.outcome}`)]);
    if (p.lastSuccess) tooltip.push(['Last success', safeLine(p.lastSuccess.finishedAt)]);
    for (const f of fs) tooltip.push([WORD[f.severity], safeText(f.message)]);
    return {
      node: { kind: 'health.pair', id: `health/pair/${p.pair.id}`, pairId: p.pair.id },
      label: safeLine(pairLabel(p.pair)),
      description: safeLine(shown.join(', ') || (p.state ? p.state.summary : 'not checked')),
      ...SEVERITY_ICON[sev],
      contextValue: 'zfs.health.pair',
      tooltip,
    };
  });
}

/**
 * The view's rows. `lastSeen`: when each host last answered (ms), remembered by the caller across
 * reads, for hosts that are offline now.
 */
export function healthRows(s: HealthSnapshot, lastSeen: ReadonlyMap<string, number> = new Map()): HealthRow[] {
  const bySubject = new Map<string, Finding[]>();
  for (const f of s.report.findings) bySubject.set(f.subject, [...(bySubject.get(f.subject) ?? []), f]);
  const ids = new Map<string, number>();
  const uniqueId = (base: string) => {
    const n = ids.get(base) ?? 0;
    ids.set(base, n + 1);
    return n === 0 ? base : `${base}#${n}`;
  };
  const found = problems(s);
  const problemRows = found.map((f) => problemRow(f, s, uniqueId(`health/problem/${f.kind}/${f.subject}`)));
  const count = (sev: Severity) => found.filter((f) => f.severity === sev).length;
  const counts = (['critical', 'warning', 'unknown'] as const).filter((x) => count(x) > 0).map((x) => `${count(x)} ${x}`);
  const worstSev = s.report.severity;
  const rows: HealthRow[] = [
    {
      node: { kind: 'health.group', id: 'health/group/problems', group: 'problems' },
      label: 'Problems',
      description: found.length ? counts.join(', ') : 'none',
      ...SEVERITY_ICON[worstSev],
      contextValue: 'zfs.health.group',
      tooltip: [['Checked', `${formatTime(s.readAt / 1000)} (${s.from === 'live' ? 'from the hosts' : 'from the fleet store'})`]],
      children: problemRows.length
        ? problemRows
        : [
            {
              node: { kind: 'health.message', id: 'health/problems/none', text: 'No problems' },
              label: 'No problems',
              description: `${s.facts.hosts.length} host(s), ${s.facts.pairs.length} pair(s) checked`,
              ...SEVERITY_ICON.ok,
              contextValue: 'zfs.health.message',
              tooltip: [],
            },
          ],
      expanded: true,
    },
  ];
  const online = s.facts.hosts.filter((h) => h.up).length;
  rows.push({
    node: { kind: 'health.group', id: 'health/group/hosts', group: 'hosts' },
    label: 'Hosts',
    description: `${online} of ${s.facts.hosts.length} online`,
    icon: 'server',
    contextValue: 'zfs.health.group',
    tooltip: [],
    children: hostRows(s, lastSeen, bySubject),
    expanded: true,
  });
  if (s.facts.pairs.length)
    rows.push({
      node: { kind: 'health.group', id: 'health/group/pairs', group: 'pairs' },
      label: 'Replication',
      description: `${s.facts.pairs.length} pair(s)`,
      icon: 'sync',
      contextValue: 'zfs.health.group',
      tooltip: [],
      children: pairRows(s, bySubject),
      expanded: true,
    });
  return rows;
}

/** A row that only says something (the first read under way, a read that failed); `text` is escaped here. */
export function messageRow(id: string, text: string, icon: string, iconColor?: string): HealthRow {
  return {
    node: { kind: 'health.message', id: `health/message/${id}`, text },
    label: safeLine(text),
    icon,
    ...(iconColor ? { iconColor } : {}),
    contextValue: 'zfs.health.message',
    tooltip: [['', safeText(text)]],
  };
}

/** The status bar's text and level: `$(pulse) 3 problems` or `$(check) Fleet OK`. */
export function statusSummary(s: HealthSnapshot, top = 5): { text: string; level: 'error' | 'warning' | 'ok'; lines: string[] } {
  const found = problems(s);
  const level = found.some((f) => f.severity === 'critical') ? 'error' : found.some((f) => f.severity === 'warning') ? 'warning' : 'ok';
  const text = found.length === 0 ? '$(check) Fleet OK' : `$(pulse) ${found.length} problem${found.length === 1 ? '' : 's'}`;
  const lines = found.slice(0, top).map((f) => safeLine(`${WORD[f.severity]}: ${f.short}`));
  if (found.length > top) lines.push(`and ${found.length - top} more`);
  return { text, level, lines };
}
