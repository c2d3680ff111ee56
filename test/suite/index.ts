/**
 * The integration suite's entry, loaded by VS Code's extension host (--extensionTestsPath). Bundled
 * by test/integration/vscode.test.ts into dist-test/suite/index.js; the suites are required only
 * after mocha has defined its globals.
 */
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'bdd',
    timeout: 180_000,
    color: false,
    reporter: 'spec',
    grep: process.env.FCONV_SUITE_GREP,
  });
  mocha.suite.emit('pre-require', globalThis, 'extension.suite', mocha);
  require('./extension.suite');
  require('./diagnostics.suite');
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
  });
}
