/**
 * The fleet tree (FleetTreeModel, as the sidebar shows it) on OpenZFS 2.3.2: holds, bookmarks and a
 * partial receive, made here on the shared VM and undone afterwards, also when a test fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetTreeModel, type FleetNode } from '../../src/core/fleet/treeModel.js';
import { SNAPS, ssh, sshTry, vmFleet } from './vm.js';

const HOLD_TAG = 'zfs-fleet-test';
const HELD = `tank/off/products@${SNAPS[0]}`;
const BOOKMARK = `tank/off/products#${SNAPS[0]}`;
const PARTIAL = 'backup/zfs-fleet-vm-partial';

const undo: { what: string; command: string }[] = [];
const fleet = vmFleet(['zfsvm']);

/** Change the VM and register how to undo it (undone in reverse order in afterAll). */
function change(command: string, undoCommand: string, what: string): void {
  undo.push({ what, command: undoCommand });
  ssh('zfsvm', command);
}

beforeAll(() => {
  // Register the undo first: a half-made change is undone too (each undo tolerates what is not there).
  change(`zfs hold ${HOLD_TAG} ${HELD}`, `zfs release ${HOLD_TAG} ${HELD} 2>/dev/null || true`, 'hold');
  const marks = ssh('zfsvm', 'zfs list -H -o name -t bookmark -r tank/off/products');
  if (marks.split('\n').includes(BOOKMARK)) throw new Error(`${BOOKMARK} already exists on the VM (left by another suite?): not touching it`);
  change(`zfs bookmark ${HELD} ${BOOKMARK}`, `zfs destroy ${BOOKMARK} 2>/dev/null || true`, 'bookmark');
  undo.push({ what: 'partial receive', command: `zfs destroy -r ${PARTIAL} 2>/dev/null || true` });
  sshTry('zfsvm', `zfs destroy -r ${PARTIAL} 2>/dev/null`);
  ssh('zfsvm', `zfs send ${HELD} | zfs recv -u ${PARTIAL}`);
  // The -I stream is 1.6 MB: cut at 200 kB, the receive fails and keeps what it got (resumable).
  const cut = sshTry('zfsvm', `zfs send -I ${HELD} tank/off/products@${SNAPS[2]} | head -c 200000 | zfs recv -s -u ${PARTIAL}`);
  expect(cut.status).toBe(1);
  expect(cut.stderr).toMatch(/zfs send -t/);
});

afterAll(async () => {
  await fleet.dispose();
  const failed: string[] = [];
  for (const u of undo.reverse()) {
    const r = sshTry('zfsvm', u.command);
    if (r.status !== 0) failed.push(`${u.what}: ${r.stderr.trim()}`);
  }
  // Verify the VM is back: no hold of ours, no bookmark, no partial dataset.
  const left = sshTry(
    'zfsvm',
    `zfs holds -H ${HELD} | grep -w ${HOLD_TAG}; zfs list -H -o name -t bookmark ${BOOKMARK} 2>/dev/null; zfs list -H -o name ${PARTIAL} 2>/dev/null; true`,
  ).stdout.trim();
  if (failed.length > 0 || left !== '') throw new Error(`cleanup of the VM failed: ${[...failed, left].filter(Boolean).join('; ')}`);
});

async function walk(m: FleetTreeModel, labels: string[]): Promise<FleetNode> {
  let node: FleetNode | undefined;
  for (const label of labels) {
    const kids = m.children(node);
    const next = kids.find((k) => m.view(k).label === label);
    if (!next) throw new Error(`no child '${label}' under ${node ? m.view(node).label : 'the root'}; have: ${kids.map((k) => m.view(k).label).join(', ')}`);
    node = next;
    if (node.kind === 'host') await m.loadHost(node.host, false);
  }
  return node!;
}

const details = (m: FleetTreeModel, n: FleetNode) => Object.fromEntries(m.details(n));

describe('the fleet tree on OpenZFS 2.3.2', () => {
  it('shows the host with its version, and a held snapshot with its hold count', async () => {
    const m = new FleetTreeModel(fleet);
    const host = await walk(m, ['zfsvm']);
    expect(m.view(host).description).toBe('OpenZFS 2.3.2');
    expect(details(m, host).Features).toMatch(/holds, bookmarks, resume tokens, zfs allow/);
    const holds = ssh('zfsvm', `zfs holds -H ${HELD}`).split('\n').filter(Boolean);
    expect(holds.map((l) => l.split('\t')[1])).toContain(HOLD_TAG);
    const nSnaps = m.listing('zfsvm')!.datasets.get('tank/off/products')!.snapshots.length;
    const snap = await walk(m, ['zfsvm', 'tank', 'off', 'products', `Snapshots (${nSnaps})`, SNAPS[0]]);
    // On the VM as `vm.sh up` leaves it, ours is the only hold: "1 hold".
    const v = m.view(snap);
    expect(v.description).toContain(holds.length === 1 ? '1 hold' : `${holds.length} holds`);
    expect(v.icon).toBe('lock-small');
    expect(details(m, snap).Holds).toBe(String(holds.length));
    expect(holds).toHaveLength(1);
    // A snapshot without holds says nothing about holds.
    const other = await walk(m, ['zfsvm', 'tank', 'off', 'products', `Snapshots (${nSnaps})`, SNAPS[1]]);
    expect(m.view(other).description).not.toMatch(/hold/);
    expect(details(m, other).Holds).toBe('0');
  });

  it('shows the bookmark under a Bookmarks node of its dataset', async () => {
    const m = new FleetTreeModel(fleet);
    const products = await walk(m, ['zfsvm', 'tank', 'off', 'products']);
    const labels = m.children(products).map((n) => m.view(n).label);
    expect(labels).toContain('Bookmarks (1)');
    const marks = await walk(m, ['zfsvm', 'tank', 'off', 'products', 'Bookmarks (1)']);
    const [mark] = m.children(marks);
    expect(m.view(mark!)).toMatchObject({ label: SNAPS[0], icon: 'bookmark', contextValue: 'zfs.bookmark' });
    expect(m.parent(mark!)).toBe(marks);
    // The bookmark keeps the guid of the snapshot it was made from.
    const guid = ssh('zfsvm', `zfs get -H -p -o value guid ${HELD}`).trim();
    expect(details(m, mark!).guid).toBe(guid);
  });

  it('marks a dataset holding a partially received stream', async () => {
    const m = new FleetTreeModel(fleet);
    await m.loadHost('zfsvm', true);
    const partial = await walk(m, ['zfsvm', 'backup', 'zfs-fleet-vm-partial']);
    expect(m.view(partial).description).toContain('partial receive');
    expect(details(m, partial)['Partial receive']).toBe('yes (resume token present)');
    const token = ssh('zfsvm', `zfs get -H -p -o value receive_resume_token ${PARTIAL}`).trim();
    expect(token).toMatch(/^1-/);
    expect(m.listing('zfsvm')!.datasets.get(PARTIAL)!.object.receiveResumeToken).toBe(token);
    // A complete dataset is not marked.
    const products = await walk(m, ['zfsvm', 'tank', 'off', 'products']);
    expect(m.view(products).description).not.toContain('partial receive');
  });
});
