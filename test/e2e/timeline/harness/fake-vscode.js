// A FAKE of VS Code's webview API (acquireVsCodeApi), which exists only inside a VS Code webview:
// it stands in for it so the real bundle can run in a plain page. It records what the app posts
// (window.__harness.sent, and window.harnessSent when the test exposed it), keeps the state as
// VS Code does, serialised (JSON in sessionStorage, so it survives a reload as VS Code keeps it
// while a panel is hidden; in memory when too large for sessionStorage), lets the test deliver
// messages the way the extension's arrive (a MessageEvent on window), and records every CSP
// violation of the page.
(function () {
  'use strict';
  const KEY = 'zfs-fleet-harness-state';
  const sent = [];
  const violations = [];
  let memoryState;
  let acquired = false;
  document.addEventListener('securitypolicyviolation', (e) => {
    violations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile, line: e.lineNumber });
  });
  window.acquireVsCodeApi = function () {
    if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
    acquired = true;
    return Object.freeze({
      postMessage(message) {
        const copy = JSON.parse(JSON.stringify(message));
        sent.push(copy);
        if (typeof window.harnessSent === 'function') window.harnessSent(copy);
      },
      getState() {
        if (memoryState !== undefined) return JSON.parse(memoryState);
        const s = sessionStorage.getItem(KEY);
        return s === null ? undefined : JSON.parse(s);
      },
      setState(state) {
        const json = JSON.stringify(state);
        try {
          sessionStorage.setItem(KEY, json);
          memoryState = undefined;
        } catch {
          sessionStorage.removeItem(KEY);
          memoryState = json;
        }
        window.__harness.stateWrites++;
        return state;
      },
    });
  };
  window.__harness = {
    sent,
    violations,
    stateWrites: 0,
    deliver(message) {
      window.dispatchEvent(new MessageEvent('message', { data: message }));
    },
    clearState() {
      sessionStorage.removeItem(KEY);
      memoryState = undefined;
    },
    /** Resolves with the next posted message of a type (or the one already posted since index `from`). */
    next(type, from = 0) {
      return new Promise((resolve) => {
        const found = sent.slice(from).find((m) => m.type === type);
        if (found) return resolve(found);
        const t = setInterval(() => {
          const f = sent.slice(from).find((m) => m.type === type);
          if (f) {
            clearInterval(t);
            resolve(f);
          }
        }, 5);
      });
    },
  };
})();
