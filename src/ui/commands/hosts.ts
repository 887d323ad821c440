import * as fs from 'node:fs/promises';
import { validateHostSpec } from '../../core/fleet/endpoint.js';
import { listConfigHosts } from '../../transport/sshConfig.js';
import type { Command } from '../context.js';
import { readSettings, writeHosts } from '../settings.js';
import { UserCancelled, text } from '../userInput.js';
import { selection } from '../selection.js';

export const addHost: Command = async (ctx) => {
  const settings = readSettings();
  const value = await text(ctx.input, {
    title: 'Add ZFS Host',
    prompt: 'An ssh config alias, [user@]host[:port], or local',
    placeHolder: 'off1, root@backup.example.org:2222, local',
    validateInput: (v) => {
      try {
        validateHostSpec(v.trim());
        return settings.hosts.includes(v.trim()) ? `${v.trim()} is already in the fleet` : undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  await writeHosts([...settings.hosts, value.trim()]);
};

export const importSshHosts: Command = async (ctx) => {
  const settings = readSettings();
  let text: string;
  try {
    text = await fs.readFile(settings.sshConfigPath, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the ssh config ${settings.sshConfigPath} (zfsFleet.sshConfigPath): ${(e as Error).message}`);
  }
  const aliases = listConfigHosts(text).filter((a) => !settings.hosts.includes(a));
  if (aliases.length === 0) {
    await ctx.input.info(`No new Host entries in ${settings.sshConfigPath}.`);
    return;
  }
  const picked = await ctx.input.pickMany(aliases, { title: `Import hosts from ${settings.sshConfigPath}`, placeHolder: 'Choose the hosts that run ZFS' });
  if (!picked || picked.length === 0) throw new UserCancelled();
  await writeHosts([...settings.hosts, ...picked]);
};

export const removeHost: Command = async (ctx, node, nodes) => {
  const gone = new Set(
    selection(node, nodes)
      .filter((n) => n.kind === 'host')
      .map((n) => n.host),
  );
  if (gone.size === 0) return;
  const settings = readSettings();
  await writeHosts(settings.hosts.filter((h) => !gone.has(h)));
  for (const h of gone) ctx.tree.forget(h);
};
