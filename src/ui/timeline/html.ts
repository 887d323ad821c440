/**
 * The timeline panel's HTML: the minimal page the webview app (webview-ui/timeline, built to
 * dist/webview/) fills in. A fresh nonce per render; CSP `default-src 'none'` with scripts only by
 * nonce, styles, fonts and images only from the webview's own resources. No inline script, no
 * value from a host in the page (the app puts names into the DOM as text).
 */
import { randomBytes } from 'node:crypto';
import { parseViewState, type TimelineSubject } from '../../shared/protocol.js';

export interface TimelineAssets {
  /** `webview.cspSource`. */
  cspSource: string;
  /** asWebviewUri(...) of dist/webview/timeline.js, timeline.css, codicon.css; undefined: not built. */
  script?: string;
  style?: string;
  codicons?: string;
}

export function makeNonce(): string {
  return randomBytes(16).toString('hex');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return `default-src 'none'; style-src ${cspSource}; font-src ${cspSource}; img-src ${cspSource} data:; script-src 'nonce-${nonce}'`;
}

/** The page; `missing` names a bundle file that is not built: the page then says so, with no script. */
export function timelineHtml(a: TimelineAssets, nonce: string, missing?: string): string {
  const head = [
    '<meta charset="UTF-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy(a.cspSource, nonce))}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
    a.style ? `<link rel="stylesheet" href="${esc(a.style)}">` : '',
    a.codicons ? `<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${esc(a.codicons)}">` : '',
  ].filter(Boolean);
  const body = missing
    ? `<div id="app" data-protocol="1"><p>The timeline cannot be shown: its webview bundle (${esc(missing)}) is not built. Run <code>npm run build</code> (or install a packaged .vsix) and open the timeline again.</p></div>`
    : `<div id="app" data-protocol="1"></div><script nonce="${nonce}" src="${esc(a.script!)}"></script>`;
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n${head.join('\n')}\n</head>\n<body>${body}</body>\n</html>\n`;
}

/**
 * What a panel restored after a reload shows: the subject the webview saved with setState (its own
 * field, else the saved model's), validated; undefined when the state is not ours or says nothing.
 */
export function restoredSubject(state: unknown): TimelineSubject | undefined {
  const s = parseViewState(state);
  if (!s) return undefined;
  if (s.subject) return s.subject;
  if (s.model?.subject) return s.model.subject;
  return s.model?.pairId ? { kind: 'pair', pairId: s.model.pairId } : undefined;
}
