// ESLint (flat config): typescript-eslint's recommended rules, and the import boundaries between
// folders — the process boundary (host / client / worker) and the host-free core. See CONTRIBUTING.md, "Lint".
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'fs',
  'path',
  'os',
  'child_process',
  'crypto',
  'url',
  'util',
  'worker_threads',
  'module',
  'process',
  'stream',
  'events',
  'http',
  'https',
  'net',
  'zlib',
];
const node = [...NODE_BUILTINS, ...NODE_BUILTINS.map((m) => `${m}/*`)].map((name) => ({
  name,
  message: 'host-free code: no Node built-ins',
}));

/** A no-restricted-imports rule from path patterns (each with its reason). */
const forbid = (...groups) => ['error', { patterns: groups.map(([group, message]) => ({ group, message })) }];
const forbidWith = (paths, ...groups) => [
  'error',
  { paths, patterns: groups.map(([group, message]) => ({ group, message })) },
];

const DOM_GLOBALS = ['window', 'document', 'navigator', 'HTMLElement', 'localStorage', 'fetch'].map((name) => ({
  name,
  message: 'host-free code: no DOM',
}));

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.venv-tf/**',
      '.venv-torch/**',
      '.tfjs-node/**',
      '.vscode-test/**',
      'native/build/**',
      'gpu-bundle/**',
      'fconv-report/**',
      'test/scan/fixtures/**',
      'dist-test/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-empty': ['error', { allowEmptyCatch: false }],
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
  {
    // The host-free core and scanner: no vscode, no Node built-ins, no tfjs, no DOM, nothing of the other layers.
    files: ['src/core/**/*.ts', 'src/scan/**/*.ts'],
    rules: {
      'no-restricted-imports': forbidWith(
        node,
        [['vscode'], 'host-free code: no vscode'],
        [['node:*'], 'host-free code: no Node built-ins'],
        [['@tensorflow/*'], 'host-free code: no tfjs'],
        [
          [
            '**/engines/**',
            '**/engines',
            '**/host/**',
            '**/client/**',
            '**/cli/**',
            '**/platform/**',
            '**/report/**',
            '**/webview/**',
          ],
          'src/core and src/scan depend on nothing outside them but src/protocol types',
        ],
      ),
      'no-restricted-globals': ['error', ...DOM_GLOBALS],
    },
  },
  {
    // The report app: only the core and the protocol (it runs in a browser and in a webview).
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': forbidWith(
        [{ name: 'vscode', message: 'the webview cannot import vscode' }, ...node],
        [['node:*'], 'the webview runs in a browser'],
        [['@tensorflow/*'], 'the webview does not run engines'],
        [
          [
            '**/src/engines/**',
            '**/src/host/**',
            '**/src/client/**',
            '**/src/cli/**',
            '**/src/platform/**',
            '**/src/report/**',
            '**/src/scan/**',
          ],
          'the webview imports only src/core and src/protocol',
        ],
      ),
    },
  },
  {
    // The worker side: never the editor, never the host side of the process boundary.
    files: ['src/engines/**/*.ts'],
    rules: {
      'no-restricted-imports': forbid(
        [['vscode'], 'the engines run in the worker process, not the extension host'],
        [
          ['**/host/**', '**/client/**', '**/cli/**'],
          'the worker does not import the host side of the process boundary',
        ],
      ),
    },
  },
  {
    // The host side of the worker: reaches the engines only through the protocol.
    files: ['src/client/**/*.ts'],
    rules: {
      'no-restricted-imports': forbid(
        [['vscode'], 'src/client is shared by the CLI and the extension: no vscode'],
        [['@tensorflow/*'], 'engines run in the worker process'],
        [
          ['**/engines/**', '**/engines', '**/host/**', '**/cli/**'],
          'src/client talks to the worker through src/protocol only',
        ],
      ),
    },
  },
  {
    // The extension host and the CLI: no engine internals (they run in the worker).
    files: ['src/host/**/*.ts', 'src/extension.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': forbid(
        [['@tensorflow/*'], 'engines run in the worker process'],
        [['**/engines/**', '**/engines'], 'engine internals run in the worker: use src/client and src/protocol'],
      ),
    },
  },
  {
    // The protocol: schemas only.
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': forbid(
        [['vscode', '@tensorflow/*', 'node:*'], 'the protocol is schemas only'],
        [
          ['**/engines/**', '**/host/**', '**/client/**', '**/cli/**', '**/scan/**'],
          'the protocol depends on src/core only',
        ],
      ),
    },
  },
  {
    // Tests, scripts and the extension-host suites run on Node and may reach anything.
    files: ['test/**/*.{ts,mjs}', 'scripts/**/*.{ts,mjs}', '*.mjs'],
    languageOptions: {
      globals: {
        fetch: 'readonly',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
        setImmediate: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // The test host's stand-in extensions are CommonJS, as VS Code loads extensions.
    files: ['test/host/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        exports: 'writable',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
