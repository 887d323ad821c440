import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Layers import one way: ui and cli -> app -> core; ui and cli -> transport -> core; core imports none of them (nor vscode). */
const layer = (forbidden, why) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: [
        {
          name: 'vscode',
          message: 'src/core, src/app, src/transport, src/store and src/cli must not import vscode: they are shared with the CLI and tested without VS Code.',
        },
      ],
      patterns: forbidden.map((dir) => ({ group: [`**/${dir}/*`, `**/${dir}/**`], message: why })),
    },
  ],
  'no-restricted-syntax': ['error', { selector: "CallExpression[callee.name='require'][arguments.0.value='vscode']", message: 'must not require vscode.' }],
});

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
  {
    files: ['src/core/**/*.ts'],
    rules: layer(['app', 'transport', 'ui', 'cli'], 'src/core is pure: it imports no other layer (the transport implements its Runner interface).'),
  },
  {
    files: ['src/app/**/*.ts'],
    rules: layer(
      ['transport', 'ui', 'cli'],
      'src/app (the flows every consumer shares) imports only src/core: the consumers hand it their fleet and their way of asking.',
    ),
  },
  { files: ['src/transport/**/*.ts'], rules: layer(['app', 'ui', 'cli'], 'src/transport imports only src/core.') },
  {
    files: ['src/store/**/*.ts'],
    rules: layer(['app', 'transport', 'ui', 'cli'], 'src/store (the fleet store) imports only src/core: its consumers decide what to record.'),
  },
  { files: ['src/cli/**/*.ts'], rules: layer(['ui'], 'src/cli imports src/core and src/transport, not the VS Code UI.') },
  // One settings service: the zfsFleet.* settings are read and written in src/ui/settings.ts only.
  {
    // (src/core, src/transport and src/cli have their own no-restricted-syntax above, and no vscode at all.)
    files: ['src/ui/**/*.ts', 'src/extension.ts'],
    ignores: ['src/ui/settings.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[property.name='getConfiguration']", message: 'read and write settings through src/ui/settings.ts (one typed accessor).' },
      ],
    },
  },
  // Code that runs in the browser: the timeline harness and the page functions of its test and benchmark.
  {
    files: ['test/e2e/timeline/**/*.{js,mjs}', 'bench/timeline*.mjs'],
    languageOptions: {
      globals: Object.fromEntries(
        ['sessionStorage', 'MessageEvent', 'WheelEvent', 'MouseEvent', 'getComputedStyle', 'requestAnimationFrame', 'structuredClone', 'navigator'].map((g) => [
          g,
          'readonly',
        ]),
      ),
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        AbortController: 'readonly',
        performance: 'readonly',
        document: 'readonly',
        window: 'readonly',
      },
    },
  },
);
