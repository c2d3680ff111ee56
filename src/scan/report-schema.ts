/**
 * The JSON `fconv scan --json` prints, for CI and pre-commit hooks: versioned zod schema, and its JSON
 * Schema (schema/scan-v1.schema.json, kept in sync by a test). Host-free.
 */
import { z } from 'zod';
import { RULE_IDS } from './rules';

export const SCAN_SCHEMA_VERSION = 1;

const pos = z.number().int().positive();
const specField = z.union([z.number().int().positive(), z.string(), z.tuple([pos, pos])]);

export const scanFindingSchema = z.object({
  file: z.string(),
  /** 1-based, as editors show them. */
  line: pos,
  column: pos,
  endLine: pos,
  endColumn: pos,
  rule: z.enum(RULE_IDS),
  severity: z.enum(['warning', 'information']),
  message: z.string(),
  evidence: z.array(z.string()),
  suggestion: z.string(),
  fixes: z.array(
    z.object({
      title: z.string(),
      edits: z.array(z.object({ line: pos, column: pos, endLine: pos, endColumn: pos, newText: z.string() })),
    }),
  ),
  /** The layer the finding belongs to (files[].layers[].id), or null. */
  layer: z.string().nullable(),
  /** The section of docs/rules.md that explains the rule. */
  docs: z.string(),
});

export const scanReportSchema = z.object({
  schemaVersion: z.literal(SCAN_SCHEMA_VERSION),
  tool: z.object({ name: z.string(), version: z.string() }),
  files: z.array(
    z.object({
      file: z.string(),
      language: z.enum(['python', 'typescript', 'tsx', 'javascript']),
      skipped: z.string().nullable(),
      syntaxErrors: z.boolean(),
      errors: z.array(z.string()),
      layers: z.array(
        z.object({
          id: z.string(),
          kind: z.enum(['fourier', 'fno', 'conv2d']),
          name: z.string(),
          line: pos,
          /** What the code states, as `fconv profile` flags take it (LayerSpec fields). */
          spec: z.record(z.string(), specField),
          specSources: z.record(z.string(), z.string()),
          missing: z.array(z.string()),
          dims: z.number().int().positive().optional(),
          notes: z.array(z.string()).optional(),
        }),
      ),
    }),
  ),
  findings: z.array(scanFindingSchema),
  /** Inputs that could not be read (a file or folder without permission), with the reason; the rest was scanned. */
  unreadable: z.array(z.object({ path: z.string(), reason: z.string() })).optional(),
  summary: z.object({
    files: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative(),
    /** How many inputs could not be read (exit code 2). */
    unreadable: z.number().int().nonnegative().optional(),
    warnings: z.number().int().nonnegative(),
    information: z.number().int().nonnegative(),
  }),
});
export type ScanReport = z.infer<typeof scanReportSchema>;

export function scanJsonSchema(): Record<string, unknown> {
  return {
    $id: `scan-v${SCAN_SCHEMA_VERSION}.schema.json`,
    title: `fconv scan --json output, schema version ${SCAN_SCHEMA_VERSION}`,
    ...(z.toJSONSchema(scanReportSchema) as Record<string, unknown>),
  };
}
