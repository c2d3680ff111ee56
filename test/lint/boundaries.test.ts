import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ESLint } from 'eslint';

const ROOT = path.join(__dirname, '..', '..');
const eslint = new ESLint({ cwd: ROOT });

/** The rule ids ESLint reports for `code` as if it were the file `file` of the repo (nothing is written). */
async function problems(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return r!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

const FORBIDDEN: Array<[string, string, RegExp]> = [
  [
    'src/core/x.ts',
    "import * as vscode from 'vscode';\nexport const a = vscode;\n",
    /no-restricted-imports.*no vscode/,
  ],
  ['src/core/x.ts', "import * as fs from 'node:fs';\nexport const a = fs;\n", /no-restricted-imports.*Node built-ins/],
  ['src/core/x.ts', "import * as fs from 'fs';\nexport const a = fs;\n", /no-restricted-imports.*Node built-ins/],
  [
    'src/core/x.ts',
    "import * as tf from '@tensorflow/tfjs-core';\nexport const a = tf;\n",
    /no-restricted-imports.*no tfjs/,
  ],
  ['src/core/x.ts', 'export const a = () => document.title;\n', /no-restricted-globals.*no DOM/],
  [
    'src/scan/x.ts',
    "import { profile } from '../engines/profiler';\nexport const a = profile;\n",
    /no-restricted-imports/,
  ],
  [
    'webview/x.ts',
    "import { WorkerClient } from '../src/client/client';\nexport const a = WorkerClient;\n",
    /no-restricted-imports.*only src\/core and src\/protocol/,
  ],
  [
    'src/engines/x.ts',
    "import * as vscode from 'vscode';\nexport const a = vscode;\n",
    /no-restricted-imports.*worker process/,
  ],
  [
    'src/client/x.ts',
    "import { profile } from '../engines/profiler';\nexport const a = profile;\n",
    /no-restricted-imports.*through src\/protocol/,
  ],
  [
    'src/host/x.ts',
    "import { TfjsEngine } from '../engines/tfjs/engine';\nexport const a = TfjsEngine;\n",
    /no-restricted-imports.*engine internals/,
  ],
  [
    'src/cli/x.ts',
    "import { loadAddon } from '../engines/cuda/discovery';\nexport const a = loadAddon;\n",
    /no-restricted-imports.*engine internals/,
  ],
  [
    'src/protocol/x.ts',
    "import { profile } from '../engines/profiler';\nexport const a = profile;\n",
    /no-restricted-imports/,
  ],
];

test('a forbidden import across a folder boundary fails the lint, with the reason', async () => {
  for (const [file, code, want] of FORBIDDEN) {
    const got = await problems(file, code);
    assert.ok(
      got.some((p) => want.test(p)),
      `${file}: ${code.split('\n')[0]} should fail the lint (${want}); got ${JSON.stringify(got)}`,
    );
  }
});

test('the imports each layer is meant to use pass the lint', async () => {
  const allowed: Array<[string, string]> = [
    ['src/core/x.ts', "import { geometry } from './spec';\nexport const a = geometry;\n"],
    ['src/scan/x.ts', "import { predict } from '../core/predict';\nexport const a = predict;\n"],
    ['webview/x.ts', "import { fmtMs } from '../src/core/format';\nexport const a = fmtMs;\n"],
    ['src/host/x.ts', "import { WorkerClient } from '../client/client';\nexport const a = WorkerClient;\n"],
    [
      'src/client/x.ts',
      "import { toWorkerSchema } from '../protocol/worker-protocol';\nexport const a = toWorkerSchema;\n",
    ],
  ];
  for (const [file, code] of allowed)
    assert.deepEqual(await problems(file, code), [], `${file}: ${code.split('\n')[0]}`);
});
