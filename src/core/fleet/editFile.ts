/**
 * Edits of the fleet file's text that keep everything else as written (its order, indentation and
 * spacing): jsonc-parser's modify computes the smallest edit, as VS Code's own settings editor does.
 */
import { applyEdits, findNodeAtLocation, getNodeValue, modify, parseTree, type FormattingOptions } from 'jsonc-parser';

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
