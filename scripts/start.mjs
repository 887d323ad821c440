// Runs the product: the packaged extension in a real VS Code (code-server) against the running lab.
// Called by scripts/start.sh after the lab is up (with seed 000's incident), the .vsix built and
// code-server installed. The workspace holds the lab's fleet file, and an agent fills the embedded
// SQLite store with the lab's state every minute, so Fleet Health, the Replication view, the timeline
// and Diagnose show real state at the first click.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { installVsix, makeProfile, startCodeServer } from '../test/e2e/lib/codeServer.mjs';

const root = path.resolve(import.meta.dirname, '..');
const lab = process.env.ZFS_FLEET_LAB ?? '/tmp/zfs-fleet-lab';
const port = Number(process.env.PORT ?? 8080);

const store = path.join(lab, 'vscode', 'fleet.db');
const profile = await makeProfile({
  root: path.join(lab, 'vscode'),
  settings: {
    'zfsFleet.store': store,
    'zfsFleet.sshConfigPath': path.join(lab, 'ssh_config'),
    'zfsFleet.knownHostsPath': path.join(lab, 'known_hosts'),
  },
});

/** The lab's fleet: its three hosts (as the other hosts reach them: by address), a group, pairs, and the incident pair. */
function labFleet() {
  const hosts = JSON.parse(readFileSync(path.join(lab, 'lab.json'), 'utf8')).hosts;
  const entry = (h) => ({ labels: [h.role], address: h.hostName, port: h.port, user: h.user });
  return {
    $schema: path.join(root, 'schemas/zfs-fleet.schema.json'),
    hosts: Object.fromEntries(hosts.map((h) => [h.name, entry(h)])),
    groups: [
      {
        name: 'products',
        primary: 'off1:zfs-hdd/off/products',
        replicas: ['ovh3:rpool/off/products', 'off2:zfs-nvme/replicas/off-products'],
        route: 'push',
        staleAfter: '7h',
        maxLag: '1d',
      },
    ],
    pairs: [
      { source: 'off1:zfs-hdd/off/images', target: 'ovh3:rpool/off/images', route: 'pull', label: 'images' },
      { source: 'off1:zfs-hdd/off/users', target: 'ovh3:rpool/off/users', label: 'users' },
      { source: 'off1:zfs-hdd/incident/products', target: 'ovh3:rpool/incident/products', label: 'incident: pruned base, modified replica, staging clone' },
    ],
  };
}
const fleetFile = path.join(profile.workspaceDir, '.zfs-fleet.json');
writeFileSync(fleetFile, JSON.stringify(labFleet(), null, 2) + '\n');

// The agent, as its systemd unit would run it: one sweep a minute into the store the extension reads.
const agent = spawn(
  process.execPath,
  [
    path.join(root, 'dist/cli.js'),
    'agent',
    '--interval',
    '60s',
    '--fleet',
    fleetFile,
    '--store',
    store,
    '--ssh-config',
    path.join(lab, 'ssh_config'),
    '--known-hosts',
    path.join(lab, 'known_hosts'),
  ],
  { stdio: ['ignore', 'inherit', 'inherit'] },
);

await installVsix(profile, path.join(root, 'dist/zfs-fleet.vsix'));
const server = await startCodeServer(profile, { port });
console.log(
  `\nZFS Fleet is running in VS Code (code-server) against the lab:\n\n    ${server.url}\n\nOpen it in a browser and click the ZFS Fleet icon in the activity bar: the workspace holds the lab's fleet file (${fleetFile}), and zfs-fleet agent records the lab into ${store} every minute. Ctrl-C stops it (the lab keeps running: npm run lab -- down).`,
);
const stop = async () => {
  agent.kill('SIGTERM');
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
await new Promise(() => {});
