// The @vscode/test-electron entry format: export run(), resolve when every test passed, reject
// otherwise. The same file works with @vscode/test-electron on a desktop VS Code and with
// test/e2e/lib/codeServer.mjs runExtensionTests() in code-server.
/* global require, module, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports */
'use strict';
const path = require('path');
const Mocha = require('mocha');

function run() {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 20_000, reporter: 'spec' });
  mocha.addFile(path.join(__dirname, 'sample.test.js'));
  return new Promise((resolve, reject) => {
    try {
      mocha.run((failures) => {
        if (failures > 0) reject(new Error(`${failures} test(s) failed`));
        else resolve();
      });
    } catch (e) {
      reject(e);
    }
  });
}

module.exports = { run };
