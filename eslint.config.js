import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', '.stack*/', 'postman/', 'coverage/', '.tap/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  // Everything here runs on Node: the service, the local stack, the tests and the build scripts.
  { languageOptions: { globals: globals.node } },
  {
    rules: {
      // `const { secret: _, ...rest } = o` is how this code leaves a field out; other unused names still fail.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // A teardown registered before its process starts reads the variable first:
      // `let x; t.teardown(() => x?.stop()); x = await start()`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  // The house rules: which folder may import which (README, "Code"). The service knows nothing of how it is run;
  // the local runtime knows nothing of the operators' tools; no module imports itself in a circle.
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './src',
              from: ['./stack', './swarm', './ops', './test', './grafana'],
              message: 'The service (src/) is deployed alone: it never imports the runtime, the tools or the tests.',
            },
            {
              target: './stack',
              from: ['./swarm', './ops', './test'],
              message: "The local runtime (stack/) never imports the Swarm runtime, the operators' tools or the tests.",
            },
            {
              target: './swarm',
              from: ['./ops', './test'],
              message: "The Swarm runtime (swarm/) never imports the operators' tools (ops/) or the tests.",
            },
            { target: './ops', from: './test', message: 'The tools never import the tests.' },
            {
              target: './ops/pictures',
              from: ['./src', './stack', './swarm', './ops/deployment', './ops/backup'],
              message: "The report pages (ops/pictures/) are functions of a report's types: they touch no system.",
            },
          ],
        },
      ],
    },
  },
  // In the service, Redis is spoken to only by the data layer: the stores and src/redis/ (connections, scripts, the
  // shared counters, the failover watch). Plugins and routes hand them a connection or read its status.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/redis/**', 'src/stores/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'ioredis', message: 'Only src/stores/ and src/redis/ talk to Redis.' }] },
      ],
    },
  },
  // Layout is Prettier's job, so every rule that would argue with it is off...
  prettier,
  // ...except the line length Prettier cannot reach (long strings and comments).
  { rules: { 'max-len': ['error', { code: 120, ignoreUrls: true }] } },
);
