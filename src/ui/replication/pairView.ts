/**
 * How a replication pair looks in the Replication view, as plain data (no vscode): the short
 * description from `pairState`, the icon, the full tooltip text. The provider maps it to a TreeItem.
 */
import { pairLabel as labelOf } from '../../app/replication.js';
import type { HostState } from '../../core/fleet/treeModel.js';
import { formatBytes, formatTime } from '../../core/format.js';
import type { HistoryEntry } from '../../app/history.js';
import { pairState, type PairState, type PairStatus } from '../../core/replication/state.js';
import { describeOrigin, entryName, type InvalidPair, type ValidPair } from '../../core/fleet/pairSpecs.js';

export interface PairView {
  label: string;
  description: string;
  icon: string;
  iconColor?: string;
  contextValue: string;
  /** Rows for the hover: label, value (values are shown as text, never as markdown). */
  tooltip: [string, string][];
  state?: PairState;
  /** 'unreachable' / 'loading' when a host's listing is not there. */
  hosts: 'ok' | 'loading' | 'unreachable';
}

/** One status in a few words. */
export function statusText(s: PairState, status: PairStatus = s.status): string {
  switch (status) {
    case 'in-sync':
      return 'in sync';
    case 'behind':
      return `behind ${s.behind?.count ?? '?'}`;
    case 'target-modified':
      return 'target modified';
    case 'target-has-newer':
      return 'target has newer snapshots';
    case 'no-common':
      return s.noCommon?.reason === 'never-sent' ? 'never sent' : 'no common base';
    case 'resume-token':
      return s.resume?.stale ? 'stale resume token' : 'resume token';
    case 'source-missing':
      return 'source missing';
  }
}

function icon(s: PairState): { icon: string; iconColor?: string } {
  switch (s.status) {
    case 'in-sync':
      return s.retentionWarning ? { icon: 'pass', iconColor: 'list.warningForeground' } : { icon: 'pass', iconColor: 'testing.iconPassed' };
    case 'behind':
      return { icon: 'arrow-circle-right', iconColor: 'list.warningForeground' };
    case 'resume-token':
      return s.resume?.stale ? { icon: 'debug-pause', iconColor: 'errorForeground' } : { icon: 'debug-pause', iconColor: 'list.warningForeground' };
    case 'no-common':
      return s.noCommon?.reason === 'never-sent' ? { icon: 'circle-large-outline' } : { icon: 'error', iconColor: 'errorForeground' };
    default:
      return { icon: 'warning', iconColor: 'errorForeground' };
  }
}

export function pairLabel(v: ValidPair): string {
  return labelOf(v.pair);
}

function lastRun(h: HistoryEntry | undefined): [string, string][] {
  if (!h) return [];
  const what = `${h.outcome}${h.bytes ? `, ${formatBytes(h.bytes)}` : ''}, ${(h.durationMs / 1000).toFixed(1)} s`;
  return [['Last run', `${formatTime(Date.parse(h.startedAt) / 1000)}: ${what}${h.error ? ` (${h.error.split('\n')[0]})` : ''}`]];
}

export function validPairView(v: ValidPair, src: HostState | undefined, dst: HostState | undefined, last?: HistoryEntry): PairView {
  const p = v.pair;
  // A group's replica (fleet file `groups`) also offers Fail Over, Take Over and Demote.
  const contextValue = v.origin.kind === 'settings' ? 'zfs.pair.settings' : p.group !== undefined ? 'zfs.pair.file.replica' : 'zfs.pair.file';
  const rows: [string, string][] = [
    ['Source', `${p.source.host}:${p.source.name!.full}`],
    ['Target', `${p.target.host}:${p.target.name!.full}`],
    ['Route', p.route],
    ['Defined in', describeOrigin(v.origin) + (v.overrides ? ` (overrides ${describeOrigin(v.overrides)})` : '')],
  ];
  const base = { label: pairLabel(v), contextValue };
  const down = [src, dst]
    .map((s, i) => (s?.state === 'error' ? `${i === 0 ? p.source.host : p.target.host}: ${s.error.message}` : undefined))
    .filter((x): x is string => !!x);
  if (down.length) {
    return {
      ...base,
      description: 'unreachable',
      icon: 'error',
      iconColor: 'errorForeground',
      tooltip: [['State', `unreachable: ${down.join('; ')}`], ...rows, ...lastRun(last)],
      hosts: 'unreachable',
    };
  }
  if (src?.state !== 'ok' || dst?.state !== 'ok') {
    return { ...base, description: 'checking…', icon: 'loading~spin', tooltip: [['State', 'listing the hosts…'], ...rows, ...lastRun(last)], hosts: 'loading' };
  }
  const s = pairState(p, src.listing, dst.listing, { now: Date.now() });
  const words = s.statuses.slice(0, 2).map((x) => statusText(s, x));
  const extra: [string, string][] = [];
  if (s.base) extra.push(['Common base', s.base.source === s.base.target ? s.base.source : `${s.base.source} = ${s.base.target}`]);
  return {
    ...base,
    description: words.join(', '),
    ...icon(s),
    tooltip: [['State', s.summary], ...extra, ...rows, ...lastRun(last)],
    state: s,
    hosts: 'ok',
  };
}

export function invalidPairView(e: InvalidPair): PairView {
  const name = e.origin.index < 0 ? describeOrigin(e.origin) : entryName(e.entry, e.origin);
  return {
    label: `Invalid pair: ${name}`,
    description: e.reason,
    icon: 'error',
    iconColor: 'errorForeground',
    contextValue: 'zfs.pair.invalid',
    tooltip: [
      ['Invalid', e.reason],
      ['Defined in', describeOrigin(e.origin)],
      ...(e.entry !== undefined ? ([['Entry', JSON.stringify(e.entry)]] as [string, string][]) : []),
    ],
    hosts: 'ok',
  };
}
