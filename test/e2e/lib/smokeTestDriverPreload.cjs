// Preloaded (`node -r`) into code-server 4.100.3, whose command line has no way to pass VS Code's
// own `--enable-smoke-test-driver` option (newer code-server has `--vscode-option`). It adds the
// option to code-server's option table as soon as its cli module loads; code-server then passes
// it through to VS Code's server (toCodeArgs copies every parsed option), which tells the
// workbench to run an `extensionTestsPath` payload. Used only by the e2e harness
// (codeServer.mjs startCodeServer({ smokeTestDriver: true })).
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports */
'use strict';
const Module = require('module');

const originalLoad = Module._load;
Module._load = function load(...args) {
  const exported = originalLoad.apply(this, args);
  if (
    exported &&
    typeof exported === 'object' &&
    typeof exported.parse === 'function' &&
    typeof exported.toCodeArgs === 'function' &&
    exported.options &&
    typeof exported.options === 'object'
  ) {
    if (!exported.options['enable-smoke-test-driver']) {
      exported.options['enable-smoke-test-driver'] = {
        type: 'boolean',
        description: "Run VS Code's smoke-test driver (extension test payloads). Added by the ZFS Fleet e2e harness.",
      };
    }
    Module._load = originalLoad;
  }
  return exported;
};
