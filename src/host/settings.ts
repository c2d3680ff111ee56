/** The extension's settings (contributes.configuration in package.json), read and checked in one place. */
import { DEFAULT_PASS, DEFAULT_REPS, DEFAULT_WARMUP, RUN_PASSES, type RunPass } from '../core/run';
import * as vscode from 'vscode';
import { parseBytes } from '../core/memory';
import { presetById } from '../core/presets';
import { VARIANT_NAMES, type VariantName } from '../core/run';
import { ENGINE_REQUESTS, type RunOptions } from '../protocol/worker-protocol';

export const SECTION = 'fourierConv';

export interface Settings {
  options: RunOptions;
  /** Folders searched first for the CUDA libraries (fourierConv.cudaLibraryPaths). */
  cudaLibraryPaths: string[];
  defaultPreset: string;
  /** Problems with the user's values; each was replaced by its default. */
  problems: string[];
}

function int(v: unknown, min: number, max: number): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined;
}

export function readSettings(
  cfg: vscode.WorkspaceConfiguration = vscode.workspace.getConfiguration(SECTION),
): Settings {
  const problems: string[] = [];
  const pick = <T>(key: string, parsed: T | undefined, fallback: T): T => {
    if (parsed !== undefined) return parsed;
    problems.push(
      `setting ${SECTION}.${key} = ${JSON.stringify(cfg.get(key))} is not valid; using ${JSON.stringify(fallback)}`,
    );
    return fallback;
  };
  const engineRaw = cfg.get<string>('engine', 'auto');
  const engine = pick(
    'engine',
    (ENGINE_REQUESTS as readonly string[]).includes(engineRaw) ? (engineRaw as RunOptions['engine']) : undefined,
    'auto',
  );
  const warmup = pick('warmup', int(cfg.get('warmup', DEFAULT_WARMUP), 0, 1000), DEFAULT_WARMUP);
  const reps = pick('repetitions', int(cfg.get('repetitions', DEFAULT_REPS), 1, 10000), DEFAULT_REPS);
  const memRaw = cfg.get<string>('maxMemory', '4GB');
  const memParsed = typeof memRaw === 'string' ? parseBytes(memRaw) : NaN;
  const maxMemoryBytes = pick('maxMemory', Number.isFinite(memParsed) && memParsed > 0 ? memParsed : undefined, 4e9);
  const variantsRaw = cfg.get<unknown>('variants', [...VARIANT_NAMES]);
  const variantsOk =
    Array.isArray(variantsRaw) &&
    variantsRaw.length > 0 &&
    variantsRaw.every((v) => (VARIANT_NAMES as readonly unknown[]).includes(v));
  const variants = pick('variants', variantsOk ? ([...new Set(variantsRaw)] as VariantName[]) : undefined, [
    ...VARIANT_NAMES,
  ]);
  const presetRaw = cfg.get<string>('defaultPreset', 'mnist-question');
  const defaultPreset = pick(
    'defaultPreset',
    presetRaw === 'last' ? presetRaw : presetById(presetRaw)?.id,
    'mnist-question',
  );
  const pathsRaw = cfg.get<unknown>('cudaLibraryPaths', []);
  const cudaLibraryPaths = pick(
    'cudaLibraryPaths',
    Array.isArray(pathsRaw) && pathsRaw.every((p) => typeof p === 'string' && !p.includes(':'))
      ? (pathsRaw as string[])
      : undefined,
    [],
  );
  const pythonRaw = cfg.get<unknown>('pythonPath', '');
  const pythonPath = pick('pythonPath', typeof pythonRaw === 'string' ? pythonRaw.trim() : undefined, '');
  const deviceRaw = cfg.get<unknown>('torchDevice', 'auto');
  const torchDevice = pick(
    'torchDevice',
    typeof deviceRaw === 'string' && /^(auto|cpu|cuda(:\d+)?)$/.test(deviceRaw) ? deviceRaw : undefined,
    'auto',
  );
  const passRaw = cfg.get<unknown>('pass', DEFAULT_PASS);
  const pass = pick(
    'pass',
    typeof passRaw === 'string' && (RUN_PASSES as readonly string[]).includes(passRaw)
      ? (passRaw as RunPass)
      : undefined,
    DEFAULT_PASS,
  );
  const compileRaw = cfg.get<unknown>('torchCompile', false);
  const compile = pick('torchCompile', typeof compileRaw === 'boolean' ? compileRaw : undefined, false);
  const threadsRaw = cfg.get<unknown>('threads', null);
  const threads = pick('threads', threadsRaw === null ? null : (int(threadsRaw, 1, 1024) ?? undefined), null);
  return {
    options: {
      engine,
      warmup,
      reps,
      seed: 1,
      maxMemoryBytes,
      variants,
      pass,
      ...(pythonPath ? { python: [{ path: pythonPath, from: 'setting fourierConv.pythonPath' }] } : {}),
      ...(torchDevice !== 'auto' ? { torchDevice } : {}),
      ...(threads !== null ? { threads } : {}),
      ...(compile ? { compile: true } : {}),
    },
    cudaLibraryPaths,
    defaultPreset,
    problems,
  };
}
