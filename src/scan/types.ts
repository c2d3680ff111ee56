/**
 * What the scanner returns: findings with ranges, the fixes that go with them and the layers it found,
 * each with the part of a layer spec the code says. Host-free (no vscode, fs or tfjs).
 */
import type { LayerSpec } from '../core/spec';

export type Severity = 'warning' | 'information';
export type SourceLanguage = 'python' | 'typescript' | 'tsx' | 'javascript';

/** 0-based line and UTF-16 column, as VS Code counts them. */
export interface Position {
  line: number;
  column: number;
}

export interface SourceRange {
  start: Position;
  end: Position;
  /** UTF-16 offsets into the scanned text. */
  startOffset: number;
  endOffset: number;
}

export interface TextEdit {
  range: SourceRange;
  newText: string;
}

/** A source edit that keeps the code's meaning (tests check the text parses afterwards). */
export interface Fix {
  title: string;
  edits: TextEdit[];
}

export interface Finding {
  /** The rule's id (RuleId, src/scan/rules). */
  rule: string;
  severity: Severity;
  range: SourceRange;
  message: string;
  /** What in the code (and, where shapes are known, in the cost model) supports the message. */
  evidence: string[];
  /** What to change, in words (also when there is no automatic fix). */
  suggestion: string;
  fixes: Fix[];
  /** The layer this finding belongs to (LayerSite.id), when it belongs to one. */
  layer?: string;
}

export type PartialSpec = Partial<Omit<LayerSpec, 'dtype'>>;

/** A Fourier-domain layer or a Conv2D found in the code: where "Profile this layer" goes. */
export interface LayerSite {
  id: string;
  kind: 'fourier' | 'fno' | 'conv2d';
  /** Class name, or the call as written (`Conv2D(32, 3)`). */
  name: string;
  range: SourceRange;
  /** What the code says about the layer; the profile command asks for the rest. */
  spec: PartialSpec;
  /** How each field was read (`height: Input(shape=(28, 28, 1)) line 40`). */
  specSources: Partial<Record<keyof PartialSpec, string>>;
  /** FNO layers: how many axes the transform spans (1-D, 2-D, 3-D); only 2-D ones are profiled. */
  dims?: number;
  /** What else the scanner knows of the layer (factorized weights, the pre-1.8 API, why it is not profiled). */
  notes?: string[];
}

export interface ScanResult {
  file: string;
  language: SourceLanguage;
  findings: Finding[];
  layers: LayerSite[];
  /** Set when the file was not scanned (too large, unknown language); findings are then empty. */
  skipped?: string;
  /** The parse tree has syntax errors (the scan still runs; findings near them may be missing). */
  syntaxErrors: boolean;
  /** Internal failures caught by the scanner (it never throws); one line each. */
  errors: string[];
  ms: { parse: number; rules: number };
}
