/**
 * Edits of the fleet file's text that keep everything else as written (its order, indentation and
 * spacing): jsonc-parser's modify computes the smallest edit, as VS Code's own settings editor does.
 */
import { applyEdits, findNodeAtLocation, getNodeValue, modify, parseTree, type FormattingOptions } from 'jsonc-parser';
import { parseEndpoint } from './endpoint.js';

const FORMAT: FormattingOptions = { insertSpaces: true, tabSize: 2 };

/**
 * Group number `groupIndex` (named `group`) with its replica number `replicaIndex` as the primary
 * and the old primary in that replica's place. Throws when the file no longer has that group there.
 */
export function swapGroupPrimary(text: string, group: string, groupIndex: number, replicaIndex: number): string {
  const tree = parseTree(text);
  const at = (...path: (string | number)[]) => (tree ? findNodeAtLocation(tree, ['groups', groupIndex, ...path]) : undefined);
  const name = at('name');
  if (!name || getNodeValue(name) !== group) throw new Error(`the fleet file's group number ${groupIndex + 1} is no longer ${group}`);
  const primary = at('primary');
  const replica = at('replicas', replicaIndex);
  if (!primary || !replica || typeof getNodeValue(primary) !== 'string' || typeof getNodeValue(replica) !== 'string')
    throw new Error(`group ${group} of the fleet file has no primary or no replica number ${replicaIndex + 1}`);
  const [p, r] = [getNodeValue(primary) as string, getNodeValue(replica) as string];
  const once = applyEdits(text, modify(text, ['groups', groupIndex, 'primary'], r, { formattingOptions: FORMAT }));
  return applyEdits(once, modify(once, ['groups', groupIndex, 'replicas', replicaIndex], p, { formattingOptions: FORMAT }));
}

/**
 * Every pair's source and target and every group's primary and replicas that name a renamed
 * dataset (or one below it) on its host, with the new path; the rest of the file as written.
 */
export function renameEndpoints(text: string, moves: readonly { host: string; from: string; to: string }[]): string {
  const tree = parseTree(text);
  if (!tree) return text;
  const edits: { path: (string | number)[]; value: string }[] = [];
  const visit = (path: (string | number)[]) => {
    const node = findNodeAtLocation(tree, path);
    const v = node ? getNodeValue(node) : undefined;
    if (typeof v !== 'string') return;
    let e;
    try {
      e = parseEndpoint(v);
    } catch {
      return;
    }
    const full = e.name?.full;
    const m = full === undefined ? undefined : moves.find((x) => x.host === e.host && (full === x.from || full.startsWith(`${x.from}/`)));
    if (!m || !v.endsWith(full!)) return;
    edits.push({ path, value: v.slice(0, v.length - full!.length) + m.to + full!.slice(m.from.length) });
  };
  const json = getNodeValue(tree) as { pairs?: unknown[]; groups?: { replicas?: unknown[] }[] };
  (Array.isArray(json.pairs) ? json.pairs : []).forEach((_, i) => ['source', 'target'].forEach((k) => visit(['pairs', i, k])));
  (Array.isArray(json.groups) ? json.groups : []).forEach((g, i) => {
    visit(['groups', i, 'primary']);
    (Array.isArray(g?.replicas) ? g.replicas : []).forEach((_, j) => visit(['groups', i, 'replicas', j]));
  });
  let out = text;
  for (const x of edits) out = applyEdits(out, modify(out, x.path, x.value, { formattingOptions: FORMAT }));
  return out;
}
