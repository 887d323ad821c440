import type { FleetNode } from '../core/fleet/treeModel.js';

/** What a command acts on: VS Code passes the clicked node and, with several rows selected, all of them (the clicked one among them). */
export function selection<T>(node: T | undefined, nodes: readonly T[] | undefined): T[] {
  return nodes?.length ? [...nodes] : node !== undefined ? [node] : [];
}

/** A Hosts view node (a command may also get a pair node, an id, or nothing). */
export function isFleetNode(x: unknown): x is FleetNode {
  return !!x && typeof x === 'object' && typeof (x as FleetNode).kind === 'string' && typeof (x as FleetNode).host === 'string';
}
