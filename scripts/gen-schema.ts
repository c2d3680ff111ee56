/**
 * Writes schema/run-v<N>.schema.json (report.json) and schema/scan-v<N>.schema.json (fconv scan --json) from the zod
 * schemas, and package.json's fourierConv.engine enum and descriptions from the engine table.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJsonSchema, SCHEMA_VERSION } from '../src/core/run';
import { SCAN_SCHEMA_VERSION, scanJsonSchema } from '../src/scan/report-schema';
import { AUTO_DESCRIPTION, ENGINE_REQUESTS, ENGINE_TABLE } from '../src/core/engine-table';

const file = path.join(__dirname, '..', 'schema', `run-v${SCHEMA_VERSION}.schema.json`);
fs.writeFileSync(file, `${JSON.stringify(runJsonSchema(), null, 2)}\n`);
console.log(file);
const scan = path.join(__dirname, '..', 'schema', `scan-v${SCAN_SCHEMA_VERSION}.schema.json`);
fs.writeFileSync(scan, `${JSON.stringify(scanJsonSchema(), null, 2)}\n`);
console.log(scan);

// package.json's fourierConv.engine setting: its enum and descriptions from the engine table (a test checks them).
const pkgFile = path.join(__dirname, '..', 'package.json');
const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
const engineSetting = pkg.contributes.configuration.properties['fourierConv.engine'];
engineSetting.enum = ENGINE_REQUESTS;
engineSetting.markdownEnumDescriptions = [AUTO_DESCRIPTION, ...ENGINE_TABLE.map((e) => e.description)];
fs.writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
console.log(pkgFile);
