/** `fconv probe`: this machine's rates the cost model is calibrated with (measured once, cached). */
import { deviceFor } from '../client/device-cache';
import { type CliIo, type EngineFlags, parseEngineChoice, version, withClient } from './shared';

export async function probeCommand(
  flags: EngineFlags & { refresh?: boolean; json?: boolean },
  io: CliIo,
): Promise<number> {
  const engine = parseEngineChoice(flags);
  return withClient(io, async (client) => {
    const { device, note } = await deviceFor(client, engine, version, {
      refresh: flags.refresh,
      refreshHint: '--refresh to measure again',
    });
    const p = device.probe!;
    if (flags.json) {
      io.out(`${JSON.stringify(p, null, 2)}\n`);
      return 0;
    }
    io.out(
      `${note}\n${p.device} (${p.backend}), measured ${p.measuredAt}, first quartile of ${p.reps} after 1 warm-up, wall-clock between syncs\n`,
    );
    io.out(`  2-D GEMM          ${p.gemmGflops.toFixed(1)} GFLOP/s\n`);
    for (const b of p.bmm) io.out(`  batched GEMM K=${String(b.inner).padEnd(3)} ${b.gflops.toFixed(2)} GFLOP/s\n`);
    for (const c of p.conv)
      io.out(
        `  conv2d in=${String(c.inner).padEnd(2)}${c.kernel ? ` k=${String(c.kernel).padEnd(2)}` : '     '} ${c.gflops.toFixed(1)} GFLOP/s\n`,
      );
    io.out(`  rfft2d / irfft2d  ${p.fftGflops.toFixed(2)} / ${p.ifftGflops.toFixed(2)} GFLOP/s (DFT-as-GEMM count)\n`);
    io.out(`  elementwise       ${p.elementwiseGBs.toFixed(1)} GB/s\n`);
    for (const x of p.pad) io.out(`${`  pad (rows of ${x.inner})`.padEnd(20)}${x.gflops.toFixed(2)} GB/s\n`);
    io.out(`  transpose         ${p.copyGBs.toFixed(1)} GB/s\n  per-op cost       ${p.overheadUs.toFixed(1)} µs\n`);
    return 0;
  });
}
