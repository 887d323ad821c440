/**
 * Words and numbers the timeline shows: tooltip lines, the screen-reader announcement, lane
 * badges, the legend. Pure (no DOM): the caller puts the strings into the DOM with textContent.
 * Sizes go through src/core/format.ts' formatBytes, the one the Hosts view and the CLI use.
 */
import { timeFormat } from 'd3-time-format';
import { formatBytes } from '../../src/core/format.js';
import { MarkFlag, type TimelineLane, type TimelineMark } from '../../src/shared/protocol.js';

const p2 = (x: number) => String(x).padStart(2, '0');

/** 2023-05-15 00:00:00 in the viewer's time zone. */
export function formatLocal(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

/** 2023-05-15 00:00:00 UTC. */
export function formatUtc(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} UTC`;
}

/** "3 days ago", "in 2 hours" (clock skew between hosts), "just now". */
export function formatAge(epochSeconds: number, nowMs: number): string {
  const s = Math.round(nowMs / 1000 - epochSeconds);
  const a = Math.abs(s);
  const unit = (n: number, u: string) => `${n} ${u}${n === 1 ? '' : 's'}`;
  let t: string;
  if (a < 60) return 'just now';
  else if (a < 3600) t = unit(Math.round(a / 60), 'minute');
  else if (a < 48 * 3600) t = unit(Math.round(a / 3600), 'hour');
  else if (a < 60 * 86400) t = unit(Math.round(a / 86400), 'day');
  else if (a < 730 * 86400) t = unit(Math.round(a / (30.44 * 86400)), 'month');
  else t = unit(Math.round(a / (365.25 * 86400)), 'year');
  return s >= 0 ? `${t} ago` : `in ${t}`;
}

/** A duration in words: "1 hour", "15 minutes", "1 day". */
export function formatInterval(seconds: number): string {
  const unit = (n: number, u: string) => `${n} ${u}${n === 1 ? '' : 's'}`;
  if (seconds < 120) return unit(Math.round(seconds), 'second');
  if (seconds < 2 * 3600) return unit(Math.round(seconds / 60), 'minute');
  if (seconds < 2 * 86400) return unit(Math.round(seconds / 3600), 'hour');
  return unit(Math.round(seconds / 86400), 'day');
}

export function fullName(lane: TimelineLane, m: TimelineMark): string {
  return `${lane.dataset}${m.kind === 'bookmark' ? '#' : '@'}${m.name}`;
}

/** The mark's state in words, most important first. */
export function markStates(m: TimelineMark): string[] {
  const f = m.flags;
  const out: string[] = [];
  if (f & MarkFlag.Base) out.push('common base');
  else if (f & MarkFlag.Common) out.push('on both sides');
  if (f & MarkFlag.AtRisk) out.push('at risk: retention prunes the common base next');
  else if (f & MarkFlag.PrunesNext) out.push('retention prunes it next');
  if (f & MarkFlag.TargetOnly) out.push('target only: a rollback to the base destroys it');
  if (f & MarkFlag.Unsent) out.push('not sent yet');
  if (f & MarkFlag.Clash) out.push('same name, different guid on the other side');
  if (f & MarkFlag.GapBefore) out.push('gap in the schedule before it');
  if (f & MarkFlag.Held) out.push('held');
  if (m.kind === 'bookmark') out.push('bookmark');
  return out;
}

/** The tooltip of a mark, one line each (label, value). */
export function tooltipLines(lane: TimelineLane, m: TimelineMark, nowMs: number): Array<[string, string]> {
  const lines: Array<[string, string]> = [];
  lines.push(['', fullName(lane, m)]);
  lines.push(['host', `${lane.host} (${lane.role})`]);
  lines.push(['created', `${formatLocal(m.time)} (${formatAge(m.time, nowMs)})`]);
  lines.push(['', formatUtc(m.time)]);
  if (m.kind === 'snapshot') lines.push(['used', formatBytes(m.used, 'unknown')]);
  if (m.guid !== undefined) lines.push(['guid', m.guid]);
  if (m.createtxg !== undefined) lines.push(['createtxg', String(m.createtxg)]);
  if (m.holds !== undefined || m.flags & MarkFlag.Held) lines.push(['holds', m.holds !== undefined ? String(m.holds) : 'yes']);
  if (m.clones && m.clones.length > 0) lines.push(['clones', m.clones.join(', ')]);
  const states = markStates(m);
  if (states.length > 0) lines.push(['state', states.join('; ')]);
  return lines;
}

/** What a screen reader hears when a mark is selected. */
export function announcement(lane: TimelineLane, m: TimelineMark, nowMs: number): string {
  const parts = [`${lane.host} ${lane.dataset} ${m.kind === 'bookmark' ? '#' : '@'}${m.name}`];
  parts.push(...markStates(m));
  parts.push(formatAge(m.time, nowMs));
  if (m.kind === 'snapshot' && m.used !== undefined) parts.push(formatBytes(m.used));
  if (m.clones && m.clones.length > 0) parts.push(`${m.clones.length} clone${m.clones.length === 1 ? '' : 's'}`);
  return parts.join(', ');
}

export interface Badge {
  kind: 'modified' | 'written' | 'resume' | 'problem' | 'unknown';
  text: string;
  title: string;
}

/** The badges of a lane's label. */
export function laneBadges(lane: TimelineLane): Badge[] {
  const out: Badge[] = [];
  if (lane.problem) out.push({ kind: 'problem', text: 'problem', title: lane.problem });
  const receiving = lane.role === 'target' || lane.role === 'replica';
  if (lane.modified === 'yes') {
    const w = lane.written !== undefined ? `: ${formatBytes(lane.written)} written since the newest snapshot` : ' since the newest snapshot';
    // On a replica a problem (the next receive needs a rollback); on a source, the usual state between snapshots.
    if (receiving) out.push({ kind: 'modified', text: 'modified', title: `Written to${w}; the next receive needs a rollback, which discards it` });
    else out.push({ kind: 'written', text: 'written', title: `Written to${w}` });
  } else if (lane.modified === 'unknown' && receiving) {
    out.push({
      kind: 'unknown',
      text: 'modified?',
      title: 'This host cannot tell whether the dataset was written since its newest snapshot (no `written` property)',
    });
  }
  if (lane.resumeToken) out.push({ kind: 'resume', text: 'resumable', title: 'A partially received stream can be resumed (receive_resume_token is set)' });
  return out;
}

/** The lane's second label line: role, count, schedule. */
export function laneDetail(lane: TimelineLane): string {
  const snaps = lane.marks.filter((m) => m.kind === 'snapshot').length;
  const books = lane.marks.length - snaps;
  const parts = [lane.role, `${snaps.toLocaleString('en-US')} snapshot${snaps === 1 ? '' : 's'}`];
  if (books > 0) parts.push(`${books.toLocaleString('en-US')} bookmark${books === 1 ? '' : 's'}`);
  if (lane.interval !== undefined) parts.push(`every ${formatInterval(lane.interval)}`);
  return parts.join(' · ');
}

const fmtSecond = timeFormat(':%S');
const fmtMinute = timeFormat('%H:%M');
const fmtDay = timeFormat('%a %d');
const fmtWeek = timeFormat('%b %d');
const fmtMonth = timeFormat('%B');
const fmtYear = timeFormat('%Y');

/** The time axis' ticks in local time, 24-hour clock (d3's default is a 12-hour clock without AM/PM). */
export function axisTickFormat(d: Date): string {
  if (d.getSeconds() !== 0 || d.getMilliseconds() !== 0) return fmtSecond(d);
  if (d.getMinutes() !== 0 || d.getHours() !== 0) return fmtMinute(d);
  if (d.getDate() !== 1) return d.getDay() === 0 ? fmtWeek(d) : fmtDay(d);
  if (d.getMonth() !== 0) return fmtMonth(d);
  return fmtYear(d);
}

/** The time zone the axis is in, e.g. "local time, UTC+01:00". */
export function timeZoneLabel(at: Date = new Date()): string {
  const off = -at.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `local time, UTC${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}
