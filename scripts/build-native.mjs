// Builds the CUDA engine's addon (native/) with node-gyp and copies it to dist/native/. Optional: it
// needs a C++ toolchain and Node's headers (found locally when they match this Node, else node-gyp
// fetches them); when it cannot build, it says why and the engine reports itself unavailable — it
// never fails the install. Nothing here links against CUDA (the addon dlopens it at run time).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const out = join('dist', 'native');

function localNodeDir() {
  for (const dir of [process.env.FCONV_NODEDIR, '/usr', '/usr/local'].filter(Boolean)) {
    const h = join(dir, 'include', 'node', 'node_version.h');
    if (!existsSync(h)) continue;
    const t = readFileSync(h, 'utf8');
    const v = ['MAJOR', 'MINOR', 'PATCH'].map((k) => new RegExp(`#define NODE_${k}_VERSION (\\d+)`).exec(t)?.[1]).join('.');
    if (`v${v}` === process.version) return dir;
  }
  return undefined;
}

export function buildNative({ quiet = false } = {}) {
  let gyp;
  try {
    gyp = require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return { ok: false, why: 'node-gyp is not installed (a dev dependency)' };
  }
  const nodedir = localNodeDir();
  const args = [gyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const r = spawnSync(process.execPath, args, { cwd: 'native', encoding: 'utf8', stdio: quiet ? 'pipe' : ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) {
    const tail = `${r.stderr ?? ''}`.trim().split('\n').filter((l) => /error|Error/.test(l)).slice(-3).join(' | ');
    return { ok: false, why: `node-gyp failed (${r.status})${tail ? `: ${tail}` : ''}` };
  }
  mkdirSync(out, { recursive: true });
  copyFileSync(join('native', 'build', 'Release', 'fconv_cuda.node'), join(out, 'fconv_cuda.node'));
  return { ok: true, why: '' };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = buildNative();
  if (!r.ok) console.warn(`build-native: the CUDA addon was not built (${r.why}); the cuda engine will report itself unavailable.`);
}
