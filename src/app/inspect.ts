/** Runs the read-only commands a plan or a diagnosis asks for (`ps`, who uses a mountpoint, local properties) and parses their output. */
import { localPropertiesCommand, parseLocalProperties, shareCommand, type LocalProperty } from '../core/replication/cloneRebase.js';
import type { InspectCommand } from '../core/replication/plan.js';
import { parseMountUsers, parseProcessList, type MountUsers, type ProcessInfo } from '../core/replication/processes.js';
import type { Fleet } from '../core/fleet/fleet.js';

export type Inspected =
  | { purpose: 'processes'; value: ProcessInfo[] }
  | { purpose: 'local-properties'; value: LocalProperty[] }
  | { purpose: 'mount-users'; value: MountUsers }
  | { purpose: 'share-properties'; value: Record<string, string> };

export async function runInspect(fleet: Fleet, cmd: InspectCommand, timeoutMs = 30_000): Promise<Inspected> {
  const r = await fleet.host(cmd.host).runner.run(cmd.argv, { timeoutMs });
  if (r.exitCode !== 0) throw new Error(`${cmd.host}: ${cmd.argv[0]} exited with ${r.exitCode}: ${r.stderr.trim() || r.stdout.trim()}`);
  switch (cmd.purpose) {
    case 'processes':
      return { purpose: 'processes', value: parseProcessList(r.stdout) };
    case 'local-properties':
      return { purpose: 'local-properties', value: parseLocalProperties(r.stdout) };
    case 'mount-users':
      return { purpose: 'mount-users', value: parseMountUsers(r.stdout) };
    case 'share-properties':
      return { purpose: 'share-properties', value: shareCommand('zfs', cmd.subject).parse(r.stdout) };
  }
}

export async function localProperties(fleet: Fleet, zfs: string, host: string, dataset: string): Promise<LocalProperty[]> {
  return fleet.host(host).exec(localPropertiesCommand(zfs, dataset));
}

/** Inspections for a plan preview: text for the preview document and short notes for the confirmation. */
export async function inspectForPreview(fleet: Fleet, commands: readonly InspectCommand[]): Promise<{ text: string; notes: string[] }> {
  if (commands.length === 0) return { text: '', notes: [] };
  const lines = ['What the preview found (read-only commands run just now):'];
  const notes: string[] = [];
  for (const c of commands) {
    try {
      const r = await runInspect(fleet, c);
      if (r.purpose === 'share-properties') {
        const v = r.value;
        lines.push(
          `  ${c.host}: ${c.subject}: mountpoint ${v.mountpoint ?? '?'}, mounted ${v.mounted ?? '?'}, sharenfs ${v.sharenfs ?? '?'}, sharesmb ${v.sharesmb ?? '?'}`,
        );
        for (const k of ['sharenfs', 'sharesmb'])
          if (v[k] && v[k] !== 'off' && v[k] !== '-') notes.push(`${c.subject} is shared (${k}=${v[k]}): stop its clients first.`);
      } else if (r.purpose === 'mount-users') {
        const p = r.value.processes;
        if (r.value.tool === 'none') lines.push(`  ${c.host}: who uses ${c.subject}: unknown (neither fuser nor lsof on the host)`);
        else lines.push(`  ${c.host}: ${p.length} process(es) use ${c.subject}${p.length ? ': ' + p.map((x) => `${x.pid} ${x.args}`).join('; ') : ''}`);
        if (p.length)
          notes.push(
            `In use on ${c.host}: ${p.length} process(es) have files open under ${c.subject} (${p.map((x) => `pid ${x.pid} ${x.args}`).join(', ')}). Stop them first.`,
          );
      } else if (r.purpose === 'processes') {
        lines.push(`  ${c.host}: ${r.value.length} processes`);
      } else {
        lines.push(`  ${c.host}: ${c.subject}: ${r.value.map((p) => `${p.property}=${p.value}`).join(', ') || 'no local properties'}`);
      }
    } catch (e) {
      lines.push(`  ${c.host}: ${c.purpose} of ${c.subject}: could not be read (${(e as Error).message})`);
    }
  }
  return { text: lines.join('\n'), notes };
}
