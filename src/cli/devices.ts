/** `fconv devices`: the GPU and CUDA libraries the worker finds (the native addon loads there, not in the CLI). */
import { fmtCudnn } from '../core/units';
import * as path from 'node:path';
import { type CliIo, withClient } from './shared';

export async function devicesCommand(
  flags: { json?: boolean; cudaLibDirs?: string; python?: string },
  io: CliIo,
): Promise<number> {
  return withClient(io, async (client) => {
    const d = await client.devices(
      flags.cudaLibDirs ? flags.cudaLibDirs.split(':').filter(Boolean) : [],
      flags.python ? [{ path: path.resolve(flags.python), from: '--python' }] : [],
    );
    if (flags.json) {
      const { lines: _lines, ...cuda } = d.cuda;
      io.out(
        `${JSON.stringify({ cuda, nvidiaSmi: d.nvidiaSmi, python: d.python ?? [], tensorflow: d.tensorflow ?? [] }, null, 2)}\n`,
      );
      return 0;
    }
    io.out(`GPU (nvidia-smi): ${d.nvidiaSmi ?? 'none found'}\n`);
    io.out(
      `CUDA engine: ${d.cuda.reason ? `unavailable — ${d.cuda.reason}` : 'available (fconv profile --engine cuda; auto uses it first)'}\n`,
    );
    for (const l of d.cuda.lines) io.out(`  ${l}\n`);
    io.out(`searched: ${d.cuda.searchDirs.map((x) => `${x.dir} (${x.from})`).join(', ')}\n`);
    io.out('PyTorch engine (Pythons tried, in order):\n');
    for (const p of d.python ?? [])
      io.out(
        `  ${p.path} (${p.from}): ${p.python ? `Python ${p.python}` : '?'}${p.torch ? `, torch ${p.torch}${p.cuda ? `, CUDA ${p.cudaVersion} (${p.gpus.join(', ')})${p.cudnn ? `, cuDNN ${fmtCudnn(p.cudnn)}` : ''}` : ', CPU only'}` : ''} — ${p.problem ?? 'usable'}\n`,
      );
    if (!d.python?.length) io.out('  no python3 or python on the PATH (give one with --python)\n');
    io.out('TensorFlow engine (Pythons tried, in order):\n');
    for (const p of d.tensorflow ?? [])
      io.out(
        `  ${p.path} (${p.from}): ${p.python ? `Python ${p.python}` : '?'}${p.tensorflow ? `, TensorFlow ${p.tensorflow}${p.gpus.length ? ` (${p.gpus.join(', ')})` : ', CPU only'}` : ''} — ${p.problem ?? 'usable'}\n`,
      );
    io.out(
      'tfjs engines: see the engine notes of `fconv profile` (wasm and cpu always; tfjs-node-gpu when installed with CUDA 11.2 / cuDNN 8.1).\n',
    );
    return 0;
  });
}
