/** The extension's manifest: settings appear where a user looks for them, commands have titles. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../helpers';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const props = pkg.contributes.configuration.properties as Record<
  string,
  { scope?: string; markdownDescription?: string }
>;

test('settings scope: choices are per window (User and Workspace tabs); only machine paths are machine-overridable, and say where to set them remotely', () => {
  assert.equal(props['fourierConv.engine']!.scope, 'window');
  for (const [k, v] of Object.entries(props)) {
    if (v.scope === 'machine' || v.scope === 'machine-overridable') {
      assert.ok(['fourierConv.pythonPath', 'fourierConv.cudaLibraryPaths'].includes(k), `${k} is ${v.scope}`);
      assert.match(v.markdownDescription ?? '', /under the \*\*Remote\*\* tab/, k);
    }
  }
});

test('every contributed command has a title and a category', () => {
  for (const c of pkg.contributes.commands as Array<{ command: string; title: string; category: string }>) {
    assert.ok(c.title && c.category === 'Fourier Conv', c.command);
  }
});
