/**
 * The canvas colours, read from CSS custom properties (timeline.css maps each --tl-* to VS Code's
 * --vscode-* theme tokens), and read again when VS Code switches theme (it changes body's class
 * and the variables on <html>).
 */
import { STYLE_COUNT } from './prepare.js';

export interface Palette {
  /** Fill per style bucket (prepare.ts Style). */
  style: string[];
  fg: string;
  muted: string;
  bg: string;
  link: string;
  baseLink: string;
  gap: string;
  clone: string;
  focus: string;
  /** Ring drawn around every mark in high contrast ('' otherwise). */
  contrast: string;
  atRiskRing: string;
  highContrast: boolean;
  font: string;
}

const STYLE_VARS = ['--tl-other', '--tl-common', '--tl-unsent', '--tl-target-only', '--tl-clash', '--tl-prunes-next', '--tl-base', '--tl-at-risk'];

export function readPalette(el: Element): Palette {
  const cs = getComputedStyle(el);
  const v = (name: string) => cs.getPropertyValue(name).trim();
  const style = STYLE_VARS.map(v);
  if (style.length !== STYLE_COUNT) throw new Error('palette: one colour per style');
  const body = document.body.classList;
  return {
    style,
    fg: v('--tl-fg'),
    muted: v('--tl-muted'),
    bg: v('--tl-bg'),
    link: v('--tl-link'),
    baseLink: v('--tl-base-link'),
    gap: v('--tl-gap'),
    clone: v('--tl-clone'),
    focus: v('--tl-focus'),
    contrast: v('--tl-contrast'),
    atRiskRing: v('--tl-at-risk-ring'),
    highContrast: body.contains('vscode-high-contrast') || body.contains('vscode-high-contrast-light'),
    font: `${cs.getPropertyValue('--vscode-font-size').trim() || '12px'} ${cs.getPropertyValue('--vscode-font-family').trim() || 'sans-serif'}`,
  };
}

/** Calls `changed` when the theme changes: body's class (vscode-light/dark/high-contrast) or html's style (the variables). */
export function watchTheme(changed: () => void): MutationObserver {
  const mo = new MutationObserver(() => changed());
  mo.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  mo.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  return mo;
}
