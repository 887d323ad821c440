import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscode = {
  'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'src/core, src/transport and src/cli must not import vscode: they are shared with the CLI and tested without VS Code.' }] }],
  'no-restricted-syntax': ['error', { selector: "CallExpression[callee.name='require'][arguments.0.value='vscode']", message: 'src/core must not require vscode.' }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'media/**', 'webview-ui/dist/**', '.lab/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  { files: ['src/core/**/*.ts', 'src/transport/**/*.ts', 'src/cli/**/*.ts'], rules: noVscode },
  // Code that runs in the browser: the timeline harness and the page functions of its test and benchmark.
  {
    files: ['test/e2e/timeline/**/*.{js,mjs}', 'bench/timeline*.mjs'],
    languageOptions: {
      globals: Object.fromEntries(
        ['sessionStorage', 'MessageEvent', 'WheelEvent', 'MouseEvent', 'getComputedStyle', 'requestAnimationFrame', 'structuredClone', 'navigator'].map((g) => [g, 'readonly']),
      ),
    },
  },
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly', fetch: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortController: 'readonly', performance: 'readonly', document: 'readonly', window: 'readonly' } } },
);
