/**
 * Imported pairs and policies merged into the fleet file (`.zfs-fleet.json`: `{"pairs": [...]}`,
 * now with `"policies": {"HOST:DATASET": {...}}`), and the unified diff shown before writing.
 * Existing entries are kept as they are: an imported pair whose id (`source->target`) is already
 * there, or a policy for a dataset already there, is not added again (and said when it differs).
 */
import { toPairSpec } from './syncoid.js';
import { pairId, type ImportedPolicy, type ImportResult } from './types.js';

export interface MergeResult {
  /** The new file text (2-space JSON, trailing newline). */
  text: string;
  addedPairs: string[];
  addedPolicies: string[];
  /** `HOST from FROM`: how one host reaches another, added under `hosts`. */
  addedReach: string[];
  /** Already in the file: kept as written there, with a note when the import differs. */
  kept: { id: string; note: string }[];
}

export class FleetFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetFileError';
  }
}

/** The fleet-file form of a policy: the policy without its key, and where it came from. */
export function policyEntry(p: ImportedPolicy): Record<string, unknown> {
  const { dataset: _dataset, file, line, ...rest } = p;
  return { ...rest, from: `${file}:${line}` };
}

const stable = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x));

export function mergeFleetFile(existing: string | undefined, imp: ImportResult): MergeResult {
  let doc: Record<string, unknown> = {};
  if (existing !== undefined && existing.trim() !== '') {
    let json: unknown;
    try {
      json = JSON.parse(existing);
    } catch (e) {
      throw new FleetFileError(`is not valid JSON: ${(e as Error).message}`);
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new FleetFileError('must be an object {"pairs": [...]}');
    doc = { ...(json as Record<string, unknown>) };
  }
  if (doc.pairs !== undefined && !Array.isArray(doc.pairs)) throw new FleetFileError('"pairs" must be an array');
  if (doc.policies !== undefined && (doc.policies === null || typeof doc.policies !== 'object' || Array.isArray(doc.policies)))
    throw new FleetFileError('"policies" must be an object keyed by HOST:DATASET');

  const pairs = [...((doc.pairs as unknown[] | undefined) ?? [])];
  const byId = new Map<string, Record<string, unknown>>();
  for (const e of pairs) {
    if (e && typeof e === 'object' && typeof (e as Record<string, unknown>).source === 'string' && typeof (e as Record<string, unknown>).target === 'string') {
      const r = e as Record<string, string>;
      byId.set(`${r.source!.trim()}->${r.target!.trim()}`, e as Record<string, unknown>);
    }
  }
  if (doc.hosts !== undefined && (doc.hosts === null || typeof doc.hosts !== 'object' || Array.isArray(doc.hosts)))
    throw new FleetFileError('"hosts" must be an object keyed by host name');
  const out: MergeResult = { text: '', addedPairs: [], addedPolicies: [], addedReach: [], kept: [] };
  for (const p of imp.pairs) {
    const spec = toPairSpec(p);
    const entry: Record<string, unknown> = {
      ...spec,
      imported: { from: `${p.file}:${p.line}`, ...(Object.keys(p.imported).length ? { flags: p.imported } : {}) },
    };
    const id = pairId(p);
    const prev = byId.get(id);
    if (prev) {
      const same = stable({ route: prev.route ?? 'relay', options: prev.options ?? {} }) === stable({ route: spec.route, options: spec.options });
      out.kept.push({ id, note: same ? 'already in the file' : 'already in the file with another route or options: the file is kept as it is' });
      continue;
    }
    byId.set(id, entry);
    pairs.push(entry);
    out.addedPairs.push(id);
  }
  const policies = { ...((doc.policies as Record<string, unknown> | undefined) ?? {}) };
  for (const p of imp.policies) {
    const entry = policyEntry(p);
    if (p.dataset in policies) {
      const { from: _a, ...mine } = entry;
      const { from: _b, ...theirs } = (policies[p.dataset] ?? {}) as Record<string, unknown>;
      out.kept.push({
        id: p.dataset,
        note: stable(mine) === stable(theirs) ? 'policy already in the file' : 'a different policy is already in the file: kept as it is',
      });
      continue;
    }
    policies[p.dataset] = entry;
    out.addedPolicies.push(p.dataset);
  }
  const hosts = { ...((doc.hosts as Record<string, Record<string, unknown>> | undefined) ?? {}) };
  for (const r of imp.reach ?? []) {
    const entry = { ...(hosts[r.host] ?? {}) };
    const from = { ...((entry.from as Record<string, unknown> | undefined) ?? {}) };
    const mine = { ...(r.address !== undefined ? { address: r.address } : {}), ...(r.user !== undefined ? { user: r.user } : {}) };
    const id = `${r.host} from ${r.from}`;
    if (r.from in from) {
      out.kept.push({ id, note: stable(from[r.from]) === stable(mine) ? 'already in the file' : 'reached otherwise in the file: kept as it is' });
      continue;
    }
    from[r.from] = mine;
    hosts[r.host] = { ...entry, from };
    out.addedReach.push(id);
  }
  if (Object.keys(hosts).length || doc.hosts !== undefined) doc.hosts = hosts;
  if (pairs.length || doc.pairs !== undefined) doc.pairs = pairs;
  if (Object.keys(policies).length || doc.policies !== undefined) doc.policies = policies;
  out.text = JSON.stringify(doc, null, 2) + '\n';
  return out;
}

/** A unified diff (3 lines of context) of two texts, line by line; '' when they are equal. */
export function unifiedDiff(a: string, b: string, nameA: string, nameB: string): string {
  if (a === b) return '';
  const A = a === '' ? [] : a.replace(/\n$/, '').split('\n');
  const B = b === '' ? [] : b.replace(/\n$/, '').split('\n');
  // Longest common subsequence, from the end, then one walk from the start.
  const lcs: number[][] = Array.from({ length: A.length + 1 }, () => new Array<number>(B.length + 1).fill(0));
  for (let i = A.length - 1; i >= 0; i--)
    for (let j = B.length - 1; j >= 0; j--) lcs[i]![j] = A[i] === B[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  type Op = { t: ' ' | '-' | '+'; text: string; ai: number; bi: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < A.length || j < B.length) {
    if (i < A.length && j < B.length && A[i] === B[j]) ops.push({ t: ' ', text: A[i]!, ai: i++, bi: j++ });
    // Deletions before insertions, as diff -u writes a changed line.
    else if (i < A.length && (j >= B.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ t: '-', text: A[i]!, ai: i++, bi: j });
    else ops.push({ t: '+', text: B[j]!, ai: i, bi: j++ });
  }
  const lines = [`--- ${nameA}`, `+++ ${nameB}`];
  const CONTEXT = 3;
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.t === ' ') {
      k++;
      continue;
    }
    const start = Math.max(0, k - CONTEXT);
    let end = k;
    // Extend the hunk while the next change is within 2*CONTEXT unchanged lines.
    for (;;) {
      while (end < ops.length && ops[end]!.t !== ' ') end++;
      let next = end;
      while (next < ops.length && ops[next]!.t === ' ') next++;
      if (next < ops.length && next - end <= 2 * CONTEXT) end = next;
      else {
        end = Math.min(ops.length, end + CONTEXT);
        break;
      }
    }
    const hunk = ops.slice(start, end);
    const aLen = hunk.filter((o) => o.t !== '+').length;
    const bLen = hunk.filter((o) => o.t !== '-').length;
    const aStart = aLen ? hunk.find((o) => o.t !== '+')!.ai + 1 : hunk[0]!.ai;
    const bStart = bLen ? hunk.find((o) => o.t !== '-')!.bi + 1 : hunk[0]!.bi;
    lines.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`, ...hunk.map((o) => o.t + o.text));
    k = end;
  }
  return lines.join('\n') + '\n';
}
