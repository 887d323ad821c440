/**
 * A UserInput whose answers come from the test: each method calls the test's handler (default:
 * cancel) and records the call, so a test can check what the user was shown, e.g. the modal's
 * detail listing what a plan destroys.
 */
import type * as vscode from 'vscode';
import type { UserInput } from '../../../../src/ui/userInput.js';

export interface Call {
  method: keyof UserInput;
  message: string;
  detail?: string;
  buttons?: string[];
  items?: readonly vscode.QuickPickItem[];
  options?: unknown;
  expected?: string;
  answer?: unknown;
}

type A<T> = T | Promise<T>;

export interface Handlers {
  /** May be async: e.g. change a host while the modal is "open". */
  warnModal?: (message: string, detail: string, buttons: string[]) => A<string | undefined>;
  info?: (message: string, buttons: string[]) => string | undefined;
  warn?: (message: string, buttons: string[]) => string | undefined;
  error?: (message: string, buttons: string[]) => string | undefined;
  inputBox?: (options: vscode.InputBoxOptions) => string | undefined;
  pickMany?: (items: string[]) => string[] | undefined;
  quickPick?: (items: readonly vscode.QuickPickItem[], options: vscode.QuickPickOptions) => vscode.QuickPickItem | undefined;
  confirmTyped?: (prompt: string, expected: string) => boolean;
  openFile?: (options: vscode.OpenDialogOptions) => vscode.Uri | undefined;
}

export class ScriptedInput implements UserInput {
  calls: Call[] = [];
  handlers: Handlers = {};

  /** New answers; forgets the calls recorded so far. */
  script(handlers: Handlers): this {
    this.handlers = handlers;
    this.calls = [];
    return this;
  }

  of(method: keyof UserInput): Call[] {
    return this.calls.filter((c) => c.method === method);
  }

  async warnModal(message: string, detail: string, ...buttons: string[]): Promise<string | undefined> {
    const answer = await this.handlers.warnModal?.(message, detail, buttons);
    this.calls.push({ method: 'warnModal', message, detail, buttons, answer });
    return answer;
  }

  async info(message: string, ...buttons: string[]): Promise<string | undefined> {
    const answer = this.handlers.info?.(message, buttons);
    this.calls.push({ method: 'info', message, buttons, answer });
    return answer;
  }

  async warn(message: string, ...buttons: string[]): Promise<string | undefined> {
    const answer = this.handlers.warn?.(message, buttons);
    this.calls.push({ method: 'warn', message, buttons, answer });
    return answer;
  }

  async error(message: string, ...buttons: string[]): Promise<string | undefined> {
    const answer = this.handlers.error?.(message, buttons);
    this.calls.push({ method: 'error', message, buttons, answer });
    return answer;
  }

  async inputBox(options: vscode.InputBoxOptions): Promise<string | undefined> {
    const answer = this.handlers.inputBox?.(options);
    // The real input box does not accept a value its validator rejects.
    if (answer !== undefined && options.validateInput) {
      const problem = await options.validateInput(answer);
      if (problem)
        throw new Error(`scripted answer ${JSON.stringify(answer)} rejected by the input box: ${typeof problem === 'string' ? problem : problem.message}`);
    }
    this.calls.push({ method: 'inputBox', message: options.title ?? options.prompt ?? '', options, answer });
    return answer;
  }

  async pickMany(items: string[], options: vscode.QuickPickOptions): Promise<string[] | undefined> {
    const answer = this.handlers.pickMany?.(items);
    this.calls.push({ method: 'pickMany', message: options.title ?? '', options, answer });
    return answer;
  }

  async quickPick<T extends vscode.QuickPickItem>(items: readonly T[], options: vscode.QuickPickOptions): Promise<T | undefined> {
    const answer = this.handlers.quickPick?.(items, options) as T | undefined;
    this.calls.push({ method: 'quickPick', message: options.title ?? '', items, options, answer });
    return answer;
  }

  async confirmTyped(prompt: string, expected: string): Promise<boolean> {
    const answer = this.handlers.confirmTyped?.(prompt, expected) ?? false;
    this.calls.push({ method: 'confirmTyped', message: prompt, expected, answer });
    return answer;
  }

  async openFile(options: vscode.OpenDialogOptions): Promise<vscode.Uri | undefined> {
    const answer = this.handlers.openFile?.(options);
    this.calls.push({ method: 'openFile', message: options.title ?? '', options, answer });
    return answer;
  }
}
