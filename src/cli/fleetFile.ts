/**
 * The fleet file a verb reads: `--fleet FILE` (or its older name `--pairs FILE`), else
 * `./.zfs-fleet.json` when it exists, else `$XDG_CONFIG_HOME/zfs-fleet/fleet.json`
 * (`~/.config/zfs-fleet/fleet.json`) when it exists.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readFleetDefinition, type FleetDefinition } from '../core/fleet/definition.js';
import { PAIRS_FILE } from '../core/fleet/pairSpecs.js';

/** The user's fleet file, read when the working directory has none. */
export function userFleetFile(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'zfs-fleet', 'fleet.json');
}

export interface FleetFileRead {
  file: string;
  text?: string;
  error?: string;
  /** The file was named (--fleet): unreadable is an error, not "no fleet". */
  named: boolean;
}

/** Its text, or why it could not be read; undefined when no file was named and no default exists. */
export function readFleetFile(named: string | undefined, env: NodeJS.ProcessEnv = process.env): FleetFileRead | undefined {
  const file = named ?? [PAIRS_FILE, userFleetFile(env)].find((f) => fs.existsSync(f));
  if (file === undefined) return undefined;
  try {
    return { file, text: fs.readFileSync(file, 'utf8'), named: named !== undefined };
  } catch (e) {
    return { file, error: (e as Error).message, named: named !== undefined };
  }
}

/** The fleet definition of the file a verb reads; empty without one. */
export function fleetDefinition(named: string | undefined, env: NodeJS.ProcessEnv = process.env): FleetDefinition & { file?: string; error?: string } {
  const read = readFleetFile(named, env);
  if (read === undefined) return { hosts: [], groups: [], policies: [], entries: [] };
  return { ...readFleetDefinition(read), file: read.file, ...(read.error !== undefined ? { error: read.error } : {}) };
}

/** The fleet file rewritten whole: a temporary file beside it (with its mode), renamed over it, so no reader sees half a file. */
export function writeFleetFile(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const mode = fs.existsSync(file) ? fs.statSync(file).mode & 0o777 : 0o644;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}
