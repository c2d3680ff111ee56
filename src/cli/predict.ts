/** `fconv predict`: spatial vs spectral time for a spec on a device, from the cost model; runs nothing. */
import { fmtMs, fmtRatio } from '../core/format';
import { type DeviceProfile, GPU_TABLE, explicitProfile, gpuProfile } from '../core/model';
import { predict } from '../core/predict';
import { UsageError, specFromText } from '../core/spec-input';
import { deviceFor } from '../client/device-cache';
import {
  type CliIo,
  type EngineFlags,
  type SpecFlags,
  parseEngineChoice,
  version,
  withClient,
  REFRESH_HINT,
} from './shared';

export interface PredictFlags extends SpecFlags, EngineFlags {
  json?: boolean;
  refreshProbe?: boolean;
  device?: string;
  peakTflops?: string;
  bandwidthGbs?: string;
  backend?: string;
}

/** A positive decimal number within [min, max], or a usage error naming the flag and the range. */
function parseRate(text: string, flag: string, min: number, max: number, unit: string): number {
  const t = text.trim();
  const v = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : NaN;
  if (!Number.isFinite(v) || v < min || v > max)
    throw new UsageError(`${flag} must be a number from ${min} to ${max} ${unit}, got "${text}"`);
  return v;
}

function deviceFromFlags(flags: PredictFlags): DeviceProfile | undefined {
  const custom = flags.peakTflops !== undefined || flags.bandwidthGbs !== undefined;
  if (custom && flags.device !== undefined)
    throw new UsageError(
      `--device "${flags.device}" uses its datasheet peaks; --peak-tflops and --bandwidth-gbs describe another device — give one or the other`,
    );
  if (custom) {
    if (flags.peakTflops === undefined || flags.bandwidthGbs === undefined)
      throw new UsageError(
        '--peak-tflops and --bandwidth-gbs go together, both positive numbers (e.g. --peak-tflops 19.5 --bandwidth-gbs 2039)',
      );
    const p = parseRate(flags.peakTflops, '--peak-tflops', 0.001, 100000, 'TFLOP/s');
    const b = parseRate(flags.bandwidthGbs, '--bandwidth-gbs', 0.1, 1000000, 'GB/s');
    return explicitProfile(p, b, 'custom device');
  }
  if (flags.device !== undefined) {
    const g = gpuProfile(flags.device);
    if (!g)
      throw new UsageError(
        `unknown device "${flags.device}" (known: ${GPU_TABLE.map((x) => x.name).join(', ')}, or give --peak-tflops and --bandwidth-gbs)`,
      );
    return g;
  }
  return undefined;
}

export async function predictCommand(flags: PredictFlags, io: CliIo): Promise<number> {
  const spec = specFromText(flags);
  let device = deviceFromFlags(flags);
  if (flags.backend !== undefined && !['wasm', 'cpu', 'tensorflow'].includes(flags.backend))
    throw new UsageError(`--backend must be wasm, cpu or tensorflow, got "${flags.backend}"`);
  if (!device) {
    const engine = parseEngineChoice(flags);
    const code = await withClient(io, async (client) => {
      const d = await deviceFor(client, engine, version, { refresh: flags.refreshProbe, refreshHint: REFRESH_HINT });
      device = d.device;
      io.err(`fconv: ${d.note}\n`);
      return 0;
    });
    if (code || !device) return code || 1;
  }
  const backend = flags.backend ?? device.probe?.backend ?? 'tensorflow';
  const p = predict(spec, device, backend);
  if (flags.json) {
    const {
      spatialMs,
      spectralMs,
      winner,
      factor,
      kernelTransformMs,
      breakEven,
      reasoning,
      spatialSteps,
      spectralSteps,
    } = p;
    const doc = {
      spec,
      device: p.device,
      deviceSource: p.deviceSource,
      backend,
      spatialMs,
      spectralMs,
      winner,
      factor,
      kernelTransformMs,
      breakEven,
      reasoning,
      spatialSteps,
      spectralSteps,
    };
    io.out(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  }
  io.out(
    `fconv predict — batch ${spec.batch}, ${spec.height}×${spec.width}, ${spec.inChannels}→${spec.outChannels}, kernel ${spec.kernelH}×${spec.kernelW} (${spec.padding}), ${spec.layout}; device ${p.device}\n\n`,
  );
  io.out(
    `  spatial (same function):  ${fmtMs(p.spatialMs)}\n  spectral (optimized):     ${fmtMs(p.spectralMs)} per call (+ ${fmtMs(p.kernelTransformMs)} once for the kernel spectrum)\n\n`,
  );
  io.out(`winner: ${p.winner}, ${fmtRatio(p.factor)} faster\n`);
  for (const r of p.reasoning) io.out(`  · ${r}\n`);
  io.out(
    'Nothing was run: these are model estimates. `fconv profile` measures them; `fconv sweep` measures the crossover.\n',
  );
  return 0;
}
