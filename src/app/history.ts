/**
 * Results of executed plans, one JSON line each, newest last: what ran, when, on which hosts, the
 * outcome, bytes, duration, the error text. ONE file for the extension and the CLI (and later the
 * agent), so `zfs-fleet history` shows what the extension ran and the other way round.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecResult } from '../core/execute/executor.js';

export interface HistoryEntry extends ExecResult {
  /** The pair id for syncs, when the plan came from a pair. */
  pair?: string;
  /** The plan's commands per host, as they ran. */
  commands?: Record<string, string[]>;
}

/**
 * Where the history lives: `$ZFS_FLEET_HISTORY`, else `$XDG_STATE_HOME/zfs-fleet/history.jsonl`
 * (`~/.local/state/zfs-fleet/history.jsonl`; `%LOCALAPPDATA%\zfs-fleet\history.jsonl` on Windows).
 */
export function defaultHistoryFile(env: NodeJS.ProcessEnv = process.env, home = os.homedir(), platform = process.platform): string {
  if (env.ZFS_FLEET_HISTORY) return env.ZFS_FLEET_HISTORY;
  if (platform === 'win32') return path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'zfs-fleet', 'history.jsonl');
  return path.join(env.XDG_STATE_HOME || path.join(home, '.local', 'state'), 'zfs-fleet', 'history.jsonl');
}

/**
 * Where runs are recorded and read back, newest first: the fleet store (src/store/runLog.ts, the
 * default for the extension and the CLI), or a history.jsonl file (History).
 */
export interface RunLog {
  /** Where the runs are kept, for people: a file path, or the store's URL. */
  readonly file: string;
  append(entry: HistoryEntry): Promise<void>;
  read(limit?: number): Promise<{ entries: HistoryEntry[]; unreadable: number }>;
  close?(): Promise<void>;
}

export class History implements RunLog {
  constructor(readonly file: string) {}

  async append(entry: HistoryEntry): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    // One write per entry, opened O_APPEND: the extension and a CLI appending at once do not interleave lines.
    await fs.appendFile(this.file, JSON.stringify(entry) + '\n', { mode: 0o600 });
  }

  /** The newest `limit` entries, newest first; lines that do not parse are skipped and counted. */
  async read(limit = 200): Promise<{ entries: HistoryEntry[]; unreadable: number }> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], unreadable: 0 };
      throw e;
    }
    const entries: HistoryEntry[] = [];
    let unreadable = 0;
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        entries.push(JSON.parse(line) as HistoryEntry);
      } catch {
        unreadable++;
      }
    }
    return { entries: entries.reverse().slice(0, limit), unreadable };
  }
}
