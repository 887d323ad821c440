/**
 * The context menu of a mark: role=menu with role=menuitem entries, arrow keys / Home / End move,
 * Enter or Space runs, Escape or Tab closes and gives the focus back. Labels are fixed strings.
 */
import type { TimelineAction } from '../../src/shared/protocol.js';
import { enabled, type MenuAction } from './actions.js';

export class ContextMenu {
  readonly el: HTMLUListElement;
  private items: HTMLLIElement[] = [];
  private returnFocus: HTMLElement | undefined;
  private onPick: ((a: TimelineAction) => void) | undefined;

  constructor(parent: HTMLElement) {
    this.el = document.createElement('ul');
    this.el.className = 'menu';
    this.el.setAttribute('role', 'menu');
    this.el.hidden = true;
    this.el.addEventListener('keydown', (e) => this.key(e));
    this.el.addEventListener('focusout', (e) => {
      if (!this.el.contains(e.relatedTarget as Node | null)) this.close(false);
    });
    parent.append(this.el);
  }

  get open(): boolean {
    return !this.el.hidden;
  }

  show(actions: MenuAction[], label: string, x: number, y: number, busy: boolean, returnFocus: HTMLElement, pick: (a: TimelineAction) => void): void {
    this.el.replaceChildren();
    this.el.setAttribute('aria-label', label);
    this.items = actions.map((a) => {
      const li = document.createElement('li');
      li.setAttribute('role', 'menuitem');
      li.tabIndex = -1;
      li.dataset.action = a.action;
      const icon = document.createElement('span');
      icon.className = `codicon codicon-${a.icon}`;
      icon.setAttribute('aria-hidden', 'true');
      const text = document.createElement('span');
      text.textContent = a.label;
      li.append(icon, text);
      if (!enabled(a, busy)) {
        li.setAttribute('aria-disabled', 'true');
        li.title = 'Another action is running';
      }
      li.addEventListener('click', () => this.activate(li));
      li.addEventListener('mousemove', () => li.focus());
      return li;
    });
    // Reveal / Copy, then the actions that change ZFS.
    actions.forEach((a, i) => {
      if (i > 0 && a.mutating && !actions[i - 1]!.mutating) {
        const sep = document.createElement('li');
        sep.setAttribute('role', 'separator');
        this.el.append(sep);
      }
      this.el.append(this.items[i]!);
    });
    this.onPick = pick;
    this.returnFocus = returnFocus;
    this.el.hidden = false;
    // Keep it inside the viewport.
    const r = this.el.getBoundingClientRect();
    this.el.style.left = `${Math.max(0, Math.min(x, window.innerWidth - r.width - 4))}px`;
    this.el.style.top = `${Math.max(0, Math.min(y, window.innerHeight - r.height - 4))}px`;
    this.items[0]?.focus();
  }

  close(focusBack = true): void {
    if (this.el.hidden) return;
    this.el.hidden = true;
    this.el.replaceChildren();
    this.items = [];
    if (focusBack) this.returnFocus?.focus();
  }

  private activate(li: HTMLLIElement): void {
    if (li.getAttribute('aria-disabled') === 'true') return;
    const action = li.dataset.action as TimelineAction;
    const pick = this.onPick;
    this.close();
    pick?.(action);
  }

  private key(e: KeyboardEvent): void {
    const i = this.items.indexOf(document.activeElement as HTMLLIElement);
    const focus = (j: number) => this.items[(j + this.items.length) % this.items.length]?.focus();
    switch (e.key) {
      case 'ArrowDown':
        focus(i + 1);
        break;
      case 'ArrowUp':
        focus(i < 0 ? -1 : i - 1);
        break;
      case 'Home':
        focus(0);
        break;
      case 'End':
        focus(-1);
        break;
      case 'Enter':
      case ' ':
        if (i >= 0) this.activate(this.items[i]!);
        break;
      case 'Escape':
        this.close();
        break;
      case 'Tab':
        this.close();
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
  }
}
