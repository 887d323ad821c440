/** Results of executed plans, one JSON line each, newest last: what ran, when, on which hosts, the outcome, bytes, duration, the error text. */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ExecResult } from './executor.js';

export interface HistoryEntry extends ExecResult {
  /** The pair id for syncs, when the plan came from a pair. */
  pair?: string;
  /** The plan's commands per host, as they ran. */
  commands?: Record<string, string[]>;
}

export class History {
  constructor(readonly file: string) {}

  async append(entry: HistoryEntry): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
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
