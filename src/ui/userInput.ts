/**
 * The UI behind a small interface, so commands can be tested with scripted answers.
 * The default implementation is VS Code's; tests supply their own.
 */
import * as vscode from 'vscode';

export interface UserInput {
  /** A modal warning; resolves to the chosen button's title, or undefined on cancel. */
  warnModal(message: string, detail: string, ...buttons: string[]): Promise<string | undefined>;
  info(message: string, ...buttons: string[]): Promise<string | undefined>;
  inputBox(options: vscode.InputBoxOptions): Promise<string | undefined>;
  pickMany(items: string[], options: vscode.QuickPickOptions): Promise<string[] | undefined>;
  /** One item from a list; undefined on cancel. */
  quickPick<T extends vscode.QuickPickItem>(items: readonly T[], options: vscode.QuickPickOptions): Promise<T | undefined>;
  /** An input box that accepts only `expected`, typed exactly; true when it was. */
  confirmTyped(prompt: string, expected: string): Promise<boolean>;
  /** A non-modal warning / error; resolves to the chosen button's title. */
  warn(message: string, ...buttons: string[]): Promise<string | undefined>;
  error(message: string, ...buttons: string[]): Promise<string | undefined>;
  /** One file from an open dialog; undefined on cancel. */
  openFile(options: vscode.OpenDialogOptions): Promise<vscode.Uri | undefined>;
}

export const vscodeUserInput: UserInput = {
  async warnModal(message, detail, ...buttons) {
    return vscode.window.showWarningMessage(message, { modal: true, detail }, ...buttons);
  },
  async info(message, ...buttons) {
    return vscode.window.showInformationMessage(message, ...buttons);
  },
  async inputBox(options) {
    return vscode.window.showInputBox(options);
  },
  async pickMany(items, options) {
    return vscode.window.showQuickPick(items, { ...options, canPickMany: true });
  },
  async quickPick(items, options) {
    return vscode.window.showQuickPick([...items], { ...options, canPickMany: false });
  },
  async confirmTyped(prompt, expected) {
    const typed = await vscode.window.showInputBox({
      title: 'Type the name to confirm',
      prompt,
      placeHolder: expected,
      ignoreFocusOut: true,
      validateInput: (v) => (v === expected ? undefined : `Type ${expected} exactly`),
    });
    return typed === expected;
  },
  async warn(message, ...buttons) {
    return vscode.window.showWarningMessage(message, ...buttons);
  },
  async error(message, ...buttons) {
    return vscode.window.showErrorMessage(message, ...buttons);
  },
  async openFile(options) {
    return (await vscode.window.showOpenDialog({ ...options, canSelectMany: false }))?.[0];
  },
};

/** A user's cancel: commands treat it as silent. */
export class UserCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'UserCancelled';
  }
}

/** One item, or the command ends silently (UserCancelled) when the user cancels. */
export async function pick<T extends vscode.QuickPickItem>(input: UserInput, items: readonly T[], options: vscode.QuickPickOptions): Promise<T> {
  const chosen = await input.quickPick(items, options);
  if (chosen === undefined) throw new UserCancelled();
  return chosen;
}

/** A typed value, or the command ends silently (UserCancelled) when the user cancels. */
export async function text(input: UserInput, options: vscode.InputBoxOptions): Promise<string> {
  const value = await input.inputBox(options);
  if (value === undefined) throw new UserCancelled();
  return value;
}
