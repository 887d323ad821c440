/**
 * The Hosts view's own node for a dataset, snapshot, bookmark or clone, found by walking the tree
 * model from the host down (the nodes are interned there, so TreeView.reveal gets the element the
 * view holds, and getParent leads back up the same way).
 */
import type { FleetNode, FleetTreeModel } from '../../core/fleet/treeModel.js';

export type NodeKind = 'dataset' | 'snapshot' | 'bookmark' | 'clone';

/** undefined when the host is not listed or the object is not in its listing. */
export function findNode(model: FleetTreeModel, host: string, name: string, kind: NodeKind): FleetNode | undefined {
  const cut = name.search(/[@#]/);
  const dataset = cut < 0 ? name : name.slice(0, cut);
  const parts = dataset.split('/');
  let node: FleetNode | undefined = model.children(undefined).find((n) => n.host === host);
  if (!node) return undefined;
  node = model.children(node).find((n) => n.kind === 'pool' && n.pool === parts[0]);
  for (let i = 1; node && i < parts.length; i++) {
    const want = parts.slice(0, i + 1).join('/');
    node = model.children(node).find((n) => n.kind === 'dataset' && n.name === want);
  }
  if (!node) return undefined;
  if (kind === 'dataset') return node;
  if (kind === 'clone') {
    const origin = model.listing(host)?.datasets.get(dataset)?.object.origin;
    const snap = origin ? findNode(model, host, origin, 'snapshot') : undefined;
    return snap ? model.children(snap).find((n) => n.kind === 'clone' && n.name === dataset) : node;
  }
  const group = model.children(node).find((n) => n.kind === (kind === 'snapshot' ? 'snapshots' : 'bookmarks'));
  return group ? model.children(group).find((n) => (n.kind === 'snapshot' || n.kind === 'bookmark') && n.name === name) : undefined;
}
