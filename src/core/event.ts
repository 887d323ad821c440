/**
 * A tiny typed event for the core (which cannot use vscode's EventEmitter): `onDidX(listener)`
 * returns a `{ dispose() }` that unsubscribes, as VS Code's `Event<T>` does, so the UI can keep the
 * subscription in its own disposables.
 */

export interface Disposable {
  dispose(): void;
}

export type Event<T> = (listener: (e: T) => void) => Disposable;

export class Emitter<T> {
  private listeners: ((e: T) => void)[] = [];

  /**
   * @param onListenerError where a listener's exception goes: one failing listener neither stops the
   *   others nor reaches the code that fired (a model's state change is not undone by its view).
   */
  constructor(private readonly onListenerError: (error: unknown) => void) {}

  readonly event: Event<T> = (listener) => {
    this.listeners.push(listener);
    let live = true;
    return {
      dispose: () => {
        if (!live) return;
        live = false;
        const i = this.listeners.indexOf(listener);
        if (i >= 0) this.listeners.splice(i, 1);
      },
    };
  };

  fire(e: T): void {
    // A copy: a listener may subscribe or unsubscribe while the event is delivered; one removed meanwhile is not called.
    for (const l of [...this.listeners]) {
      if (!this.listeners.includes(l)) continue;
      try {
        l(e);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  dispose(): void {
    this.listeners = [];
  }
}
