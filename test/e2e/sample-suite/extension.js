// The extension under development for the sample suite: one command, so the suite can check
// that the payload route loads extensionDevelopmentPath.
/* global require, module */
/* eslint-disable @typescript-eslint/no-require-imports */
'use strict';
const vscode = require('vscode');

function activate(context) {
  context.subscriptions.push(vscode.commands.registerCommand('zfsFleetSample.hello', (name) => `hello ${name ?? 'world'}`));
}

function deactivate() {}

module.exports = { activate, deactivate };
