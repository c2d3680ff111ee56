/** Writes schema/run-v<N>.schema.json (JSON Schema of report.json) from the zod schema. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJsonSchema, SCHEMA_VERSION } from '../src/core/run';

const file = path.join(__dirname, '..', 'schema', `run-v${SCHEMA_VERSION}.schema.json`);
fs.writeFileSync(file, `${JSON.stringify(runJsonSchema(), null, 2)}\n`);
console.log(file);
