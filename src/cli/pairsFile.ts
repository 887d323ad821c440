/** The pairs file a verb reads: `--pairs FILE`, else `./.zfs-fleet.json` when it exists. */
import * as fs from 'node:fs';
import { PAIRS_FILE } from '../core/fleet/pairSpecs.js';

/** Its text, or why it could not be read; undefined when no file was named and the default does not exist. */
export function readPairsFile(named: string | undefined): { file: string; text?: string; error?: string } | undefined {
  const file = named ?? (fs.existsSync(PAIRS_FILE) ? PAIRS_FILE : undefined);
  if (file === undefined) return undefined;
  try {
    return { file, text: fs.readFileSync(file, 'utf8') };
  } catch (e) {
    return { file, error: (e as Error).message };
  }
}
