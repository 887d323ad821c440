/** Arguments for the operator's own OpenSSH client, so a terminal reaches the same host the tree does, with the same host-key file. */
import * as fs from 'node:fs';

export function openSshArgs(host: string, sshConfigPath: string, knownHostsPath: string): string[] {
  const args: string[] = [];
  if (fs.existsSync(sshConfigPath)) args.push('-F', sshConfigPath);
  args.push('-o', `UserKnownHostsFile=${knownHostsPath}`);
  const m = /^(.*):(\d+)$/.exec(host);
  // `--` ends ssh's options: a host spec can never be read as one.
  if (m && !m[1]!.includes(':')) args.push('-p', m[2]!, '--', m[1]!);
  else args.push('--', host);
  return args;
}
