/** The tree the provider shows, built by the core model from real hosts; host keys and unreachable hosts through the product. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FleetTreeModel, type FleetNode } from '../../src/core/fleet/treeModel.js';
import { lab, labFleet } from './lab.js';

const port = (name: string) => lab().hosts.find((h) => h.name === name)!.port;

const fleets: { dispose(): Promise<void> }[] = [];
afterAll(async () => Promise.all(fleets.map((f) => f.dispose())));

function model(hosts: string[], overrides: Parameters<typeof labFleet>[1] = {}) {
  const fleet = labFleet(hosts, overrides);
  fleets.push(fleet);
  return new FleetTreeModel(fleet);
}

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

/** The SHA256 fingerprint OpenSSH prints for a lab host's key. */
function labFingerprint(port: number): string {
  const line = fs
    .readFileSync(lab().knownHosts, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`[127.0.0.1]:${port} `))!;
  const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zf-')), 'k.pub');
  fs.writeFileSync(tmp, line.split(' ').slice(1).join(' ') + '\n');
  return execFileSync('ssh-keygen', ['-lf', tmp], { encoding: 'utf8' }).split(' ')[1]!;
}

describe('the fleet tree against the lab', () => {
  it('a refresh keeps the rows it had (same nodes, so VS Code keeps them expanded) and says refreshing until the new listing is in', async () => {
    const m = model(['off1']);
    const products = await walk(m, ['off1', 'zfs-hdd', 'off', 'products']);
    const host = m.children()[0]!;
    const pools = m.children(host);
    const changes: string[] = [];
    m.onDidChangeHost((e) => changes.push(`${e.host}:${e.state}`));
    const reload = m.loadHost('off1', true);
    expect(m.state('off1')!.state).toBe('loading');
    expect(m.view(host).description).toMatch(/^zfs-fuse .* · refreshing…$/);
    expect(m.children(host)).toEqual(pools);
    expect(m.children(m.parent(products)!)).toContain(products);
    await reload;
    expect(changes).toEqual(['off1:loading', 'off1:ok']);
    expect(m.view(host).description).not.toContain('refreshing');
    expect(m.children(host).map((n) => n.id)).toEqual(pools.map((n) => n.id));
  });

  it('hosts -> pools -> datasets -> snapshots, newest first, with the version on the host', async () => {
    const m = model(['off1', 'ovh3', 'off2']);
    expect(m.children().map((n) => m.view(n).label)).toEqual(['off1', 'ovh3', 'off2']);
    const host = await walk(m, ['off1']);
    expect(m.view(host).description).toMatch(/^zfs-fuse/);
    expect(m.view(host).contextValue).toBe('zfs.host.ssh');
    const off = await walk(m, ['off1', 'zfs-hdd', 'off']);
    expect(m.children(off).map((n) => m.view(n).label)).toEqual(expect.arrayContaining(['products', 'images', 'users', 'my data', 'Snapshots (4)']));
    const snaps = await walk(m, ['off1', 'zfs-hdd', 'off', 'products', 'Snapshots (4)']);
    expect(m.children(snaps).map((n) => m.view(n).label)).toEqual(['20230608-1130', '20230530-2330', '20230515-0000', '20230501-0000']);
    const snap = m.children(snaps)[0]!;
    expect(m.details(snap).find(([k]) => k === 'guid')?.[1]).toMatch(/^\d+$/);
    expect(m.parent(snap)).toBe(snaps);
    const pool = await walk(m, ['off1', 'zfs-hdd']);
    expect(m.view(pool).description).toMatch(/^ONLINE · /);
  });

  it('shows a clone under its origin snapshot and marks it on its dataset', async () => {
    const m = model(['ovh3']);
    const clone = await walk(m, ['ovh3', 'rpool', 'off', 'clones', 'products']);
    const v = m.view(clone);
    expect(v.contextValue).toBe('zfs.dataset.clone');
    expect(v.description).toMatch(/clone of rpool\/off\/products@/);
    const origin = m.listing('ovh3')!.datasets.get('rpool/off/clones/products')!.object.origin!;
    const originSnap = await walk(m, [
      'ovh3',
      'rpool',
      'off',
      'products',
      `Snapshots (${m.listing('ovh3')!.datasets.get('rpool/off/products')!.snapshots.length})`,
      origin.split('@')[1]!,
    ]);
    expect(m.view(originSnap).contextValue).toBe('zfs.snapshot.withClones');
    expect(m.children(originSnap).map((n) => m.view(n).label)).toEqual(['rpool/off/clones/products']);
  });

  it('an unreachable host is a node that says why, with a retry', async () => {
    const m = model(['unreachable']);
    const [host] = m.children();
    const state = await m.loadHost(host!.host, false);
    expect(state.state).toBe('error');
    expect(m.view(host!)).toMatchObject({ description: 'unreachable', contextValue: 'zfs.host.unreachable' });
    const [msg] = m.children(host);
    expect(m.view(msg!)).toMatchObject({ command: 'zfsFleet.retryHost', contextValue: 'zfs.message.error' });
    expect(m.view(msg!).label).toMatch(/refused/i);
    expect(m.view(msg!).label).toContain(`127.0.0.1:${lab().unreachable.port}`);
  });

  it('an unknown host key is asked about with its SHA256 fingerprint; cancel refuses, accept once connects', async () => {
    const empty = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zf-kh-')), 'known_hosts');
    fs.writeFileSync(empty, '');
    const asked: { fingerprint: string; port: number }[] = [];
    const refuse = model(['off1'], {
      knownHostsFiles: [empty],
      sshConfigPath: sshConfigWithout(empty),
      onUnknownHostKey: async (q) => (asked.push(q), 'cancel'),
    });
    const s1 = await refuse.loadHost('off1', false);
    expect(s1.state).toBe('error');
    expect(asked).toHaveLength(1);
    expect(asked[0]!.fingerprint).toBe(labFingerprint(port('off1')));
    const accept = model(['off1'], { knownHostsFiles: [empty], sshConfigPath: sshConfigWithout(empty), onUnknownHostKey: async () => 'once' });
    expect((await accept.loadHost('off1', false)).state).toBe('ok');
    expect(fs.readFileSync(empty, 'utf8')).toBe('');
  });

  it('a changed host key refuses to connect, without asking', async () => {
    // off1's port with ovh3's key: what a man in the middle (or a reinstalled host) looks like.
    const lines = fs.readFileSync(lab().knownHosts, 'utf8').split('\n');
    const ovh3Key = lines
      .find((l) => l.startsWith(`[127.0.0.1]:${port('ovh3')} `))!
      .split(' ')
      .slice(1)
      .join(' ');
    const forged = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zf-kh-')), 'known_hosts');
    fs.writeFileSync(forged, `[127.0.0.1]:${port('off1')} ${ovh3Key}\n`);
    let asked = 0;
    const m = model(['off1'], { knownHostsFiles: [forged], sshConfigPath: sshConfigWithout(forged), onUnknownHostKey: async () => (asked++, 'once') });
    const s = await m.loadHost('off1', false);
    expect(asked).toBe(0);
    expect(s.state).toBe('error');
    expect(s.state === 'error' && s.error.message).toMatch(/changed|REMOTE HOST IDENTIFICATION/i);
    expect(s.state === 'error' && s.error.message).toContain(labFingerprint(port('off1')));
  });
});

/** The lab's ssh config, with UserKnownHostsFile pointing at the given file instead of the lab's. */
function sshConfigWithout(knownHosts: string): string {
  const text = fs.readFileSync(lab().sshConfig, 'utf8').replace(/UserKnownHostsFile\s+\S+/g, `UserKnownHostsFile ${knownHosts}`);
  const file = path.join(path.dirname(knownHosts), 'ssh_config');
  fs.writeFileSync(file, text);
  return file;
}
