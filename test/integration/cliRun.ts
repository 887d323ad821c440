import { spawn } from 'node:child_process';

/**
 * Run the built CLI and collect its output WITHOUT blocking this worker: a spawnSync of a long
 * command (a `diagnose --fix --yes` takes most of a minute on the lab) keeps vitest's worker from
 * answering its runner, whose RPC gives up after 60 s ("Timeout calling onTaskUpdate") and fails
 * the run although every test passed.
 */
export function runCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}
