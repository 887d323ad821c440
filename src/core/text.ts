/**
 * Text that came from a host (names, property values, error messages) is data: before a terminal,
 * a document, the CLI's output or the log sees it, no control byte passes raw. C0 controls (but tab
 * and newline in multi-line text), DEL and C1 controls are written as `\xNN`, and the Unicode
 * direction overrides that can make a line read differently from what it is as `\u{NNNN}`.
 */

// eslint-disable-next-line no-control-regex
const CONTROL_MULTILINE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_LINE = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

function escape(c: string): string {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
}

/** Multi-line text (a document, a block of output): newlines and tabs stay, every other control is escaped. */
export function safeText(text: string): string {
  return text.replace(CONTROL_MULTILINE, escape);
}

/** One line (a name, a value, a label): every control, newline and tab included, is escaped. */
export function safeLine(text: string): string {
  return text.replace(CONTROL_LINE, escape);
}

/** Whether text has a control that `safeLine` would escape (the caller refuses to type it, say). */
export function hasControl(text: string): boolean {
  CONTROL_LINE.lastIndex = 0;
  return CONTROL_LINE.test(text);
}
