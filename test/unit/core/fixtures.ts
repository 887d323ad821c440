/** Output recorded from real ZFS (test/lab/record-fixtures.sh, test/lab/vm/record-fixtures.sh): stdout, stderr, exit code, command. */
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../fixtures');

export interface Recorded {
  cmd: string;
  stdout: string;
  stderr: string;
  exit: number;
}

export function recorded(dialect: 'zfs-fuse' | 'openzfs-2.3', name: string): Recorded {
  const base = path.join(root, dialect, name);
  const read = (ext: string) => fs.readFileSync(`${base}.${ext}`, 'utf8');
  return { cmd: read('cmd').trim(), stdout: read('stdout'), stderr: read('stderr'), exit: Number(read('exit').trim()) };
}

/** Every recorded case of a dialect whose name matches. */
export function recordedNames(dialect: 'zfs-fuse' | 'openzfs-2.3', re: RegExp): string[] {
  const dir = path.join(root, dialect);
  if (!fs.existsSync(dir)) return [];
  return [
    ...new Set(
      fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.cmd'))
        .map((f) => f.slice(0, -4)),
    ),
  ]
    .filter((n) => re.test(n))
    .sort();
}
