// Runs the product: the packaged extension in a real VS Code (code-server) against the running lab.
// Called by scripts/start.sh after the lab is up, the .vsix built and code-server installed.
import * as path from 'node:path';
import { installVsix, makeProfile, startCodeServer } from '../test/e2e/lib/codeServer.mjs';

const root = path.resolve(import.meta.dirname, '..');
const lab = process.env.ZFS_FLEET_LAB ?? '/tmp/zfs-fleet-lab';
const port = Number(process.env.PORT ?? 8080);

const profile = await makeProfile({
  root: path.join(lab, 'vscode'),
  settings: {
    'zfsFleet.hosts': ['off1', 'ovh3', 'off2'],
    'zfsFleet.sshConfigPath': path.join(lab, 'ssh_config'),
    'zfsFleet.knownHostsPath': path.join(lab, 'known_hosts'),
  },
});
await installVsix(profile, path.join(root, 'dist/zfs-fleet.vsix'));
const server = await startCodeServer(profile, { port });
console.log(`\nZFS Fleet is running in VS Code (code-server) against the lab:\n\n    ${server.url}\n\nOpen it in a browser and click the ZFS Fleet icon in the activity bar. Ctrl-C stops it (the lab keeps running: npm run lab -- down).`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
await new Promise(() => {});
