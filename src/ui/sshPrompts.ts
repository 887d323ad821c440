/** The SSH questions only a person can answer: an unknown host key, a key passphrase. */
import * as vscode from 'vscode';
import type { UserInput } from './userInput.js';

export interface HostKeyQuestion {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  certAuthority?: string;
}

/** Said when known_hosts trusts a certificate authority for the host: its certificate is not what is checked here. */
export function certAuthorityNote(q: { certAuthority?: string }): string {
  return q.certAuthority
    ? `\n\nYour known_hosts trusts a certificate authority for this host (@cert-authority, ${q.certAuthority}), so OpenSSH would accept the host's certificate. ZFS Fleet does not verify host certificates: it is asking about the host's plain key instead. Accept it only if the fingerprint is the host's.`
    : '';
}

/** Unknown host key: the user sees the SHA256 fingerprint and chooses; nothing is accepted without them. */
export async function askUnknownHostKey(input: UserInput, q: HostKeyQuestion, knownHostsPath: string): Promise<'once' | 'save' | 'cancel'> {
  const where = q.port === 22 ? q.host : `[${q.host}]:${q.port}`;
  const choice = await input.warnModal(
    `The authenticity of host ${where} can't be established.`,
    `${q.keyType} key fingerprint is ${q.fingerprint}.\n\nCompare it with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the host) before you accept.\n"Accept and Save" adds it to ${knownHostsPath}.${certAuthorityNote(q)}`,
    'Accept Once',
    'Accept and Save',
  );
  return choice === 'Accept and Save' ? 'save' : choice === 'Accept Once' ? 'once' : 'cancel';
}

const SAVED_KEYS = 'zfsFleet.savedPassphraseKeys';
const secretKey = (keyPath: string) => `zfsFleet.passphrase:${keyPath}`;

export class PassphraseStore {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly input: UserInput,
    private readonly remember: () => 'ask' | 'never',
  ) {}

  async get(req: { keyPath: string; attempt: number }): Promise<string | undefined> {
    if (req.attempt <= 1) {
      const saved = await this.context.secrets.get(secretKey(req.keyPath));
      if (saved !== undefined) return saved;
    } else {
      await this.context.secrets.delete(secretKey(req.keyPath));
    }
    return this.input.inputBox({
      title: `Passphrase for ${req.keyPath}`,
      prompt: req.attempt > 1 ? 'That passphrase was wrong; try again (Escape skips this key)' : 'Enter the passphrase of this SSH key (Escape skips this key)',
      password: true,
      ignoreFocusOut: true,
    });
  }

  async accepted(keyPath: string, passphrase: string): Promise<void> {
    if (this.remember() === 'never') return;
    if ((await this.context.secrets.get(secretKey(keyPath))) === passphrase) return;
    const answer = await this.input.info(`Keep the passphrase of ${keyPath} in VS Code's secret storage for next time?`, 'Keep', 'Not Now');
    if (answer !== 'Keep') return;
    await this.context.secrets.store(secretKey(keyPath), passphrase);
    const keys: string[] = this.context.globalState.get(SAVED_KEYS, []);
    if (!keys.includes(secretKey(keyPath))) await this.context.globalState.update(SAVED_KEYS, [...keys, secretKey(keyPath)]);
  }
}
