import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
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
  // Layout is Prettier's job, so every rule that would argue with it is off...
  prettier,
  // ...except the line length Prettier cannot reach (long strings and comments).
  { rules: { 'max-len': ['error', { code: 120, ignoreUrls: true }] } },
);
