/**
 * Writes schema/run-v<N>.schema.json (report.json) and schema/scan-v<N>.schema.json (fconv scan --json) from the zod
 * schemas.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJsonSchema, SCHEMA_VERSION } from '../src/core/run';
import { SCAN_SCHEMA_VERSION, scanJsonSchema } from '../src/scan/report-schema';

const file = path.join(__dirname, '..', 'schema', `run-v${SCHEMA_VERSION}.schema.json`);
fs.writeFileSync(file, `${JSON.stringify(runJsonSchema(), null, 2)}\n`);
console.log(file);
const scan = path.join(__dirname, '..', 'schema', `scan-v${SCAN_SCHEMA_VERSION}.schema.json`);
fs.writeFileSync(scan, `${JSON.stringify(scanJsonSchema(), null, 2)}\n`);
console.log(scan);
