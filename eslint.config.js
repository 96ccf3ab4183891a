// ESLint (flat config): the language habits of typescript-eslint, plus the house rules of
// ARCHITECTURE.md checked by machine — the rooms table (who may import whom), no import cycles,
// `@azure/*` only in azure/, `@actions/*` only in github/, no source file over 500 lines (generated
// code, `**/*.validate.ts` from scripts/gen-validators.mjs, is not linted at all).
import { relative, sep } from 'node:path';
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * The rooms table (ARCHITECTURE.md, "Rooms (src/)"): each folder of src/ and the rooms it may
 * import. A room always may import its own files. `src/version.ts` (the tool's name and version,
 * imports nothing) counts as part of model/. Entries (main.ts, cli.ts, index.ts) may import everything.
 */
const CORE = ['model', 'policy-xml', 'desired', 'lint', 'plan', 'render'];
export const ROOMS = {
  model: [],
  'policy-xml': ['model'],
  desired: ['model', 'policy-xml'],
  lint: ['model', 'policy-xml'],
  plan: ['model', 'policy-xml'],
  render: ['model', 'policy-xml'],
  azure: ['model', 'policy-xml'],
  ci: [...CORE, 'azure'],
  github: ['model', 'render', 'ci'],
  cli: [...CORE, 'azure', 'ci', 'emulator'],
  emulator: ['model'],
};
const ENTRIES = ['main.ts', 'cli.ts', 'index.ts'];
const MODEL_FILES = ['version.ts'];

/** One no-restricted-paths zone per room: from src/, everything but the room itself and what it may import. */
const roomZones = Object.entries(ROOMS).map(([room, allowed]) => ({
  target: `./src/${room}`,
  from: './src',
  except: [room, ...allowed, ...(allowed.includes('model') || room === 'model' ? MODEL_FILES : [])].map((p) => `./${p}`),
  message: `Rooms table (ARCHITECTURE.md): ${room}/ may import ${allowed.length ? allowed.map((r) => `${r}/`).join(', ') : 'nothing'}.`,
}));
const entryZone = {
  // The action's entry src/index.ts only runs main.ts's run(); nothing else imports an entry.
  target: ['./src/*/**', './src/!(index).ts'],
  from: ENTRIES.map((f) => `./src/${f}`),
  message: 'Entries (main.ts, cli.ts, index.ts) are imported by nothing (ARCHITECTURE.md).',
};

/** Every file of src/ lives in a room of the table (or is an entry, or version.ts): a new folder is a change to the table. */
const rooms = {
  rules: {
    'in-a-room': {
      meta: {
        type: 'problem',
        docs: { description: 'Each file of src/ belongs to a room of the rooms table.' },
        schema: [],
        messages: { outside: '{{where}} is not a room of the rooms table (ARCHITECTURE.md: {{rooms}}); move the file into one.' },
      },
      create(context) {
        const parts = relative(context.cwd, context.filename).split(sep);
        if (parts[0] !== 'src') return {};
        const known = parts.length === 2 ? [...ENTRIES, ...MODEL_FILES].includes(parts[1]) : Object.hasOwn(ROOMS, parts[1]);
        if (known) return {};
        const where = parts.length === 2 ? `src/${parts[1]}` : `src/${parts[1]}/`;
        return { Program: (node) => context.report({ node, messageId: 'outside', data: { where, rooms: Object.keys(ROOMS).join(', ') } }) };
      },
    },
  },
};

const azureOnly = { group: ['@azure/*'], message: '@azure/* is imported only in src/azure/ (ARCHITECTURE.md).' };
const actionsOnly = { group: ['@actions/*'], message: '@actions/* is imported only in src/github/ (ARCHITECTURE.md).' };

export default defineConfig(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'coverage/**', '**/*.cjs', 'policies/**', '__tests__/fixtures/**', '**/*.validate.ts'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
    linterOptions: { reportUnusedDisableDirectives: 'warn' },
    rules: {
      // tsc (strict, noUnused*) already checks these; the house style keeps `any` at parse boundaries.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // New in ESLint 10's recommended set; errors here are rethrown with file:line on purpose.
      'preserve-caught-error': 'off',
      'prefer-const': ['error', { destructuring: 'all' }],
    },
  },
  // Tests match ANSI escapes and column-aligned output as printed; their assertions stay as written.
  { files: ['__tests__/**/*.ts'], rules: { 'no-control-regex': 'off', 'no-regex-spaces': 'off' } },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX, rooms },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: [...roomZones, entryZone] }],
      'rooms/in-a-room': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'no-restricted-imports': ['error', { patterns: [azureOnly, actionsOnly] }],
      'max-lines': ['error', { max: 500, skipBlankLines: false, skipComments: false }],
    },
  },
  { files: ['src/azure/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [actionsOnly] }] } },
  { files: ['src/github/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [azureOnly] }] } },
);
