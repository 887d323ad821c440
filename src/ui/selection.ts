/** What a command acts on: VS Code passes the clicked node and, with several rows selected, all of them (the clicked one among them). */
export function selection<T>(node: T | undefined, nodes: readonly T[] | undefined): T[] {
  return nodes?.length ? [...nodes] : node !== undefined ? [node] : [];
}
