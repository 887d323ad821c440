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
};

/** A user's cancel: commands treat it as silent. */
export class UserCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'UserCancelled';
  }
}
