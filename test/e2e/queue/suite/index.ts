/**
 * The @vscode/test-electron entry of the Queue view's suite (test/e2e/queue/run.mjs): run() resolves
 * when every test passed; the last line it logs is `RESULT passed=N failed=N` for the runner.
 */
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 120_000, reporter: 'spec' });
  mocha.addFile(path.join(__dirname, 'queue.test.js'));
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
