/** The one history file of the extension and the CLI: where it lives, and the extension's older file moved into it once. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultHistoryFile, History, type HistoryEntry } from '../../../src/app/history.js';

const entry = (title: string, finishedAt: string): HistoryEntry =>
  ({ planId: title, title, kind: 'sync', outcome: 'ok', startedAt: finishedAt, finishedAt, durationMs: 1, steps: [], hosts: [] }) as unknown as HistoryEntry;

describe('history', () => {
  it('lives under XDG_STATE_HOME (or ~/.local/state), ZFS_FLEET_HISTORY wins, LOCALAPPDATA on Windows', () => {
    expect(defaultHistoryFile({}, '/home/op', 'linux')).toBe('/home/op/.local/state/zfs-fleet/history.jsonl');
    expect(defaultHistoryFile({ XDG_STATE_HOME: '/s' }, '/home/op', 'linux')).toBe('/s/zfs-fleet/history.jsonl');
    expect(defaultHistoryFile({ XDG_STATE_HOME: '/s', ZFS_FLEET_HISTORY: '/h.jsonl' }, '/home/op', 'darwin')).toBe('/h.jsonl');
    expect(defaultHistoryFile({ LOCALAPPDATA: 'C:\\L' }, 'C:\\U', 'win32')).toBe(path.join('C:\\L', 'zfs-fleet', 'history.jsonl'));
  });

  it('skips and counts lines that do not parse', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-hist-'));
    const file = path.join(dir, 'h.jsonl');
    fs.writeFileSync(file, `${JSON.stringify(entry('a', 'x'))}\n{broken\n${JSON.stringify(entry('b', 'y'))}\n`);
    const r = await new History(file).read();
    expect(r.entries.map((e) => e.title)).toEqual(['b', 'a']);
    expect(r.unreadable).toBe(1);
  });
});
