/**
 * The @vscode/test-electron entry: run() resolves when every test passed. The same bundle runs in
 * code-server (test/e2e/replication/run.mjs) and on a desktop VS Code with @vscode/test-electron.
 * The last line it logs is `RESULT passed=N failed=N` for the runner's summary.
 */
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 180_000, reporter: 'spec' });
  const grep = process.env.ZFS_FLEET_E2E_GREP;
  if (grep) mocha.grep(grep);
  mocha.addFile(path.join(__dirname, 'replication.test.js'));
  mocha.addFile(path.join(__dirname, 'timeline.test.js'));
  mocha.addFile(path.join(__dirname, 'health.test.js'));
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        console.log(`RESULT passed=${runner.stats?.passes ?? 0} failed=${failures}`);
        if (failures > 0) reject(new Error(`${failures} test(s) failed`));
        else resolve();
      });
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
}
