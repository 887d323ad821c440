/** Markdown for the read-only documents: a diagnosis, the replication history. No vscode here. */
import type { HistoryEntry } from '../../app/history.js';
import { formatBytes } from '../../core/format.js';
import type { Diagnosis } from '../../core/replication/diagnose.js';
import { destroyLines } from '../../core/replication/plan.js';
import type { ReplicationPair } from '../../core/fleet/pairs.js';

/**
 * Text from hosts goes into code spans or is escaped, so it never turns into markdown. ZFS names hold
 * only letters, digits, space and `_ - . :`, so escaping the inline markers keeps them readable in the
 * raw document.
 */
export function mdEscape(s: string): string {
  return s.replace(/([\\`*_[\]<>|])/g, '\\$1');
}

function code(s: string): string {
  const fence = s.includes('`') ? '``' : '`';
  return `${fence}${s.includes('`') ? ' ' : ''}${s}${s.includes('`') ? ' ' : ''}${fence}`;
}

export function diagnosisMarkdown(pair: ReplicationPair, d: Diagnosis, notes: string[] = []): string {
  const src = `${pair.source.host}:${pair.source.name!.full}`;
  const dst = `${pair.target.host}:${pair.target.name!.full}`;
  const out = [
    `# Diagnosis: ${mdEscape(src)} → ${mdEscape(dst)}`,
    '',
    `Route: ${pair.route}. State: **${mdEscape(d.state.status)}**.`,
    '',
    '## Summary',
    '',
    mdEscape(d.summary),
    '',
  ];
  out.push('## Findings', '');
  if (d.findings.length === 0) out.push('None.');
  d.findings.forEach((f, i) => out.push(`${i + 1}. **${f.kind}** on ${code(f.host)}: ${mdEscape(f.message)}`));
  out.push('');
  if (d.cloneUsage.length) {
    out.push('## Clones the fix re-bases', '');
    for (const u of d.cloneUsage) {
      const parts = [`mounted: ${u.mounted === undefined ? 'unknown' : u.mounted ? 'yes' : 'no'}`];
      if (u.mountpoint) parts.push(`mountpoint ${code(u.mountpoint)}`);
      if (u.sharenfs) parts.push(`sharenfs ${code(u.sharenfs)}`);
      if (u.sharesmb) parts.push(`sharesmb ${code(u.sharesmb)}`);
      if (u.processes?.length) parts.push(`used by ${u.processes.map((p) => code(`${p.pid} ${p.args}`)).join(', ')}`);
      out.push(`- ${code(`${u.host}: ${u.clone}`)}: ${parts.join(', ')}`);
    }
    out.push('');
  }
  out.push('## Fix', '');
  if (d.fix) {
    out.push(mdEscape(d.fix.summary), '');
    d.fix.steps.forEach((s, i) => out.push(`${i + 1}. ${mdEscape(s.description)}`));
    const destroyed = destroyLines(d.fix.destroys);
    if (destroyed.length) out.push('', 'It destroys:', '', ...destroyed.map((l) => `- ${code(l)}`));
    out.push('', 'The fix plan is shown, confirmed and run like any other plan ("Review Fix Plan…"); each step is confirmed on its own.');
  } else if (d.fixUnavailable) {
    out.push(`No fix can be planned: ${mdEscape(d.fixUnavailable)}`);
  } else {
    out.push('Nothing to fix.');
  }
  if (d.needs.length || notes.length) {
    out.push('', '## Not inspected', '');
    for (const n of d.needs) out.push(`- ${n.purpose} on ${code(n.host)} (${code(n.subject)})`);
    for (const n of notes) out.push(`- ${mdEscape(n)}`);
  }
  return out.join('\n') + '\n';
}

export function historyMarkdown(entries: readonly HistoryEntry[], unreadable: number, file: string): string {
  const out = [
    '# Replication history',
    '',
    `${entries.length} run${entries.length === 1 ? '' : 's'}, newest first, from ${code(file)}.${unreadable ? ` ${unreadable} line(s) could not be read.` : ''}`,
    '',
  ];
  if (entries.length === 0) out.push('Nothing has run yet.');
  for (const e of entries) {
    out.push(`## ${mdEscape(e.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))} — ${e.outcome.toUpperCase()}: ${mdEscape(e.title)}`, '');
    out.push(`- Hosts: ${e.hosts.map(code).join(', ')}${e.pair ? `; pair ${code(e.pair)}` : ''}`);
    out.push(`- Duration: ${(e.durationMs / 1000).toFixed(1)} s${e.bytes ? `; ${formatBytes(e.bytes)} sent` : ''}`);
    if (e.error) out.push(`- Error: ${mdEscape(e.error.split('\n').join(' '))}`);
    if (e.changes?.length) out.push(`- Changed: ${e.changes.map(mdEscape).join('; ')}`);
    out.push(`- Steps: ${e.steps.map((s) => `${s.status === 'ok' ? '✓' : s.status === 'failed' ? '✗' : '·'} ${mdEscape(s.description)}`).join('; ')}`);
    if (e.commands) {
      out.push('', '```sh');
      for (const [host, lines] of Object.entries(e.commands)) out.push(`# on ${host === 'local' ? 'this machine' : host}:`, ...lines);
      out.push('```');
    }
    out.push('');
  }
  return out.join('\n') + '\n';
}
