// Runs inside code-server's extension host (or a desktop VS Code): checks what the harness
// promises to the suites that will use it.
/* global suite, test, require */
/* eslint-disable @typescript-eslint/no-require-imports */
'use strict';
const assert = require('assert');
const vscode = require('vscode');

suite('e2e harness sample', () => {
  test('runs inside VS Code 1.100 with a Node extension host', () => {
    assert.match(vscode.version, /^1\.\d+\./);
    assert.strictEqual(typeof process.versions.node, 'string');
    assert.strictEqual(vscode.env.uiKind === vscode.UIKind.Web || vscode.env.uiKind === vscode.UIKind.Desktop, true);
  });

  test('the extension environment from the runner reaches the extension host', () => {
    assert.strictEqual(process.env.SAMPLE_SUITE_MARKER, 'set-by-runner');
  });

  test('the extension under development is loaded and its command answers', async () => {
    const ext = vscode.extensions.getExtension('zfs-fleet-test.zfs-fleet-e2e-sample');
    assert.ok(ext, 'extension zfs-fleet-test.zfs-fleet-e2e-sample not found');
    const answer = await vscode.commands.executeCommand('zfsFleetSample.hello', 'zfs');
    assert.strictEqual(answer, 'hello zfs');
    assert.strictEqual(ext.isActive, true);
  });

  test('the workspace folder given to the runner is open', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.strictEqual(folders.length, 1);
    if (process.env.SAMPLE_SUITE_WORKSPACE) {
      assert.strictEqual(folders[0].uri.path, process.env.SAMPLE_SUITE_WORKSPACE);
    }
  });

  test('an editor can be opened and read', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'zfs-hdd/off/my data@20230608-1130', language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(doc);
    assert.strictEqual(editor.document.getText(), 'zfs-hdd/off/my data@20230608-1130');
  });

  if (process.env.SAMPLE_SUITE_FAIL === '1') {
    test('a deliberate failure (SAMPLE_SUITE_FAIL=1: proves failures are reported)', () => {
      assert.strictEqual(1 + 1, 3, 'deliberate failure');
    });
  }
});
