// Compiles schema/identity.schema.json into a standalone validator (ajv's "standalone code"),
// src/desired/identity-schema.validate.ts, so the action neither bundles ajv's compiler nor
// compiles the schema on every run (about 70 ms). `node scripts/gen-validators.mjs --check` fails
// when the committed file is not what the schema gives (`__tests__/desired/identity-manifest.test.ts`).
import { readFileSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const SCHEMA = 'schema/identity.schema.json';
const OUT = 'src/desired/identity-schema.validate.ts';

export function generate(root = '.') {
  const schema = JSON.parse(readFileSync(`${root}/${SCHEMA}`, 'utf8'));
  // The options the loader's messages rely on: every error, each with its data and schema.
  const ajv = new Ajv({ allErrors: true, verbose: true, code: { source: true, esm: true, lines: true } });
  ajv.addVocabulary(['markdownDescription']);
  // ajv's ESM standalone output still require()s its runtime helpers: import them instead.
  const code = standaloneCode
    .default(ajv, ajv.compile(schema))
    .replace(/const (\w+) = require\("([^"]+)"\)\.default;/g, (_, name, path) => `import ${name}$m from "${path}.js";\nconst ${name} = ${name}$m.default ?? ${name}$m;`);
  if (/\brequire\(/.test(code)) throw new Error('the generated validator still calls require()');
  return `// @ts-nocheck\n// Generated from ${SCHEMA} by scripts/gen-validators.mjs (npm run package); do not edit.\n` + code.replace(/^"use strict";/, '') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = generate();
  if (process.argv.includes('--check')) {
    if (readFileSync(OUT, 'utf8') !== text) {
      console.error(`${OUT} is not what ${SCHEMA} gives: run node scripts/gen-validators.mjs and commit the result.`);
      process.exit(1);
    }
  } else writeFileSync(OUT, text);
}
