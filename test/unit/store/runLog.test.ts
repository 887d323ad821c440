// Runs recorded in the fleet store as the application layer records them (StoreRunLog), on a temp SQLite file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../../src/app/history.js';
import { StoreRunLog } from '../../../src/store/runLog.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-runlog-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const run = (title: string, finishedAt: string, extra: Partial<HistoryEntry> = {}): HistoryEntry => ({
  planId: `plan-${title}`,
  title,
  kind: 'sync',
  outcome: 'ok',
  hosts: ['off1', 'ovh3'],
  bytes: 4096,
  durationMs: 1200,
  startedAt: finishedAt,
  finishedAt,
  steps: [],
  ...extra,
});

describe('runs in the fleet store (StoreRunLog)', () => {
  it('imports the history files kept before once (renamed *.imported), then records and reads newest first', async () => {
    const dir = path.join(tmp, 'a');
    fs.mkdirSync(dir);
    const cliHistory = path.join(dir, 'history.jsonl');
    const extensionHistory = path.join(dir, 'replication-history.jsonl');
    fs.writeFileSync(cliHistory, `${JSON.stringify(run('cli', '2026-01-01T00:00:00.000Z', { pair: 'off1:a->ovh3:a' }))}\n{not json\n`);
    fs.writeFileSync(extensionHistory, `${JSON.stringify(run('vscode', '2026-01-02T00:00:00.000Z', { outcome: 'failed', error: 'cannot receive' }))}\n`);
    const missing = path.join(dir, 'never-there.jsonl');

    const log = new StoreRunLog(path.join(dir, 'fleet.db'), [cliHistory, extensionHistory, missing]);
    expect(log.file).toBe(path.join(dir, 'fleet.db'));
    await log.append(run('now', '2026-02-01T00:00:00.000Z', { commands: { off1: ['zfs send x'] } }));
    const { entries } = await log.read();
    expect(entries.map((e) => e.title)).toEqual(['now', 'vscode', 'cli']);
    expect(entries[1]).toMatchObject({ outcome: 'failed', error: 'cannot receive', hosts: ['off1', 'ovh3'] });
    expect(entries[2]!.pair).toBe('off1:a->ovh3:a');
    expect(entries[0]!.commands).toEqual({ off1: ['zfs send x'] });
    expect(fs.existsSync(cliHistory)).toBe(false);
    expect(fs.existsSync(`${cliHistory}.imported`)).toBe(true);
    expect(fs.existsSync(`${extensionHistory}.imported`)).toBe(true);
    await log.close();

    // Another process (the CLI after the extension) sees the same runs; nothing is imported twice.
    fs.copyFileSync(`${cliHistory}.imported`, cliHistory);
    const again = new StoreRunLog(path.join(dir, 'fleet.db'), [cliHistory]);
    expect((await again.read()).entries.map((e) => e.title)).toEqual(['now', 'vscode', 'cli']);
    expect((await again.read(1)).entries.map((e) => e.title)).toEqual(['now']);
    await again.close();
  });

  it('a store that cannot be opened fails the read with its name, and the next call tries again', async () => {
    const file = path.join(tmp, 'plain-file');
    fs.writeFileSync(file, 'x');
    const log = new StoreRunLog(path.join(file, 'fleet.db'));
    await expect(log.read()).rejects.toThrow(/cannot open fleet store sqlite:.*plain-file\/fleet\.db/);
    fs.rmSync(file);
    fs.mkdirSync(file);
    await log.append(run('later', '2026-03-01T00:00:00.000Z'));
    expect((await log.read()).entries.map((e) => e.title)).toEqual(['later']);
    await log.close();
  });
});

describe('where the CLI records runs (runLogOf)', () => {
  it('the fleet store by default, a named history file (ZFS_FLEET_HISTORY, --history) when there is one', async () => {
    const { runLogOf } = await import('../../../src/cli/replication.js');
    const { History } = await import('../../../src/app/history.js');
    const named = runLogOf({}, { ZFS_FLEET_HISTORY: '/tmp/h.jsonl' });
    expect(named).toBeInstanceOf(History);
    expect(named.file).toBe('/tmp/h.jsonl');
    const store = runLogOf({}, { XDG_STATE_HOME: '/tmp/state' });
    expect(store).toBeInstanceOf(StoreRunLog);
    expect(runLogOf({ store: '/srv/fleet.db' }, {}).file).toBe('/srv/fleet.db');
  });
});
