/** package.json's commands, menus and enablement match the one command table (src/ui/commands/index.ts). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../src/ui/commands/index.js';

// The table imports the VS Code API only for registration (vi.mock is hoisted above the imports).
vi.mock('vscode', () => ({}));

interface Contributed {
  command: string;
  enablement?: string;
}
const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
  contributes: { commands: Contributed[]; menus: Record<string, { command: string; when?: string }[]>; viewsWelcome: { contents: string }[] };
};

describe('the command table and package.json', () => {
  const table = Object.entries(COMMANDS) as [string, { mutating?: string }][];
  const contributed = new Map(manifest.contributes.commands.map((c) => [c.command, c]));

  it('every command of the table is contributed, and nothing else is (test hooks are not in the table)', () => {
    expect([...contributed.keys()].sort()).toEqual(table.map(([id]) => id).sort());
    expect(contributed.has('zfsFleet.timeline.debugState')).toBe(false);
  });

  it('a mutating command is enabled only in a trusted workspace, and every menu item of it says so', () => {
    for (const [id, spec] of table) {
      if (!spec.mutating) continue;
      expect(contributed.get(id)?.enablement ?? '', id).toMatch(/isWorkspaceTrusted/);
      for (const [menu, items] of Object.entries(manifest.contributes.menus))
        for (const i of items) if (i.command === id) expect(i.when ?? '', `${menu}: ${id}`).toMatch(/isWorkspaceTrusted/);
    }
  });

  it("menus and welcome links name only commands of the table (or VS Code's own)", () => {
    for (const items of Object.values(manifest.contributes.menus)) for (const i of items) expect(COMMANDS, i.command).toHaveProperty([i.command]);
    for (const w of manifest.contributes.viewsWelcome)
      for (const [, id] of w.contents.matchAll(/\(command:([\w.]+)\)/g)) if (id!.startsWith('zfsFleet.')) expect(COMMANDS, id).toHaveProperty([id!]);
  });
});
