/** The timeline page: CSP with a fresh nonce, the script only by that nonce, no inline script, resources only from the webview's own origin. */
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, makeNonce, restoredSubject, timelineHtml } from '../../../src/ui/timeline/html.js';

const assets = {
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  script: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/timeline.js',
  style: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/timeline.css',
  codicons: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/codicon.css',
};

describe('timelineHtml', () => {
  it('CSP default-src none, the script by nonce only, the contract element, the three resources', () => {
    const nonce = makeNonce();
    const html = timelineHtml(assets, nonce);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)![1]!;
    expect(csp).toBe(
      `default-src 'none'; style-src ${assets.cspSource}; font-src ${assets.cspSource}; img-src ${assets.cspSource} data:; script-src 'nonce-${nonce}'`,
    );
    expect(csp).toBe(contentSecurityPolicy(assets.cspSource, nonce));
    expect(html).toContain('<div id="app" data-protocol="1"></div>');
    expect(html).toContain(`<link rel="stylesheet" href="${assets.style}">`);
    expect(html).toContain(`<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${assets.codicons}">`);
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]![1]).toBe(` nonce="${nonce}" src="${assets.script}"`);
    expect(scripts[0]![2]).toBe('');
    expect(html).not.toMatch(/ on[a-z]+=/);
  });

  it('a fresh nonce per render: 128 random bits in hex', () => {
    const a = makeNonce();
    const b = makeNonce();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
  });

  it('bundle not built: the page says so, with no script at all', () => {
    const html = timelineHtml({ cspSource: assets.cspSource }, makeNonce(), 'dist/webview/timeline.js');
    expect(html).not.toContain('<script');
    expect(html).toContain('its webview bundle (dist/webview/timeline.js) is not built');
  });
});

describe('restoredSubject (the serializer of a panel restored after a reload)', () => {
  const model = { title: 't', takenAt: 1, lanes: [], links: [], summary: [] };
  it("the webview's saved subject, else the saved model's, else the model's pair; anything else: none", () => {
    const pair = { kind: 'pair', pairId: 'off1:a/b->ovh3:c/d' } as const;
    const ds = { kind: 'dataset', host: 'ovh3', dataset: 'rpool/my data' } as const;
    expect(restoredSubject({ version: 1, subject: ds, model: { ...model, subject: pair } })).toEqual(ds);
    expect(restoredSubject({ version: 1, model: { ...model, subject: pair } })).toEqual(pair);
    expect(restoredSubject({ version: 1, model: { ...model, pairId: pair.pairId } })).toEqual(pair);
    expect(restoredSubject({ version: 1, transform: { k: 1, x: 0, y: 0 } })).toBeUndefined();
    expect(restoredSubject({ version: 2, subject: ds })).toBeUndefined();
    expect(restoredSubject({ version: 1, subject: { kind: 'dataset', host: 'ovh3' } })).toBeUndefined();
    expect(restoredSubject(undefined)).toBeUndefined();
    expect(restoredSubject('garbage')).toBeUndefined();
  });
});
