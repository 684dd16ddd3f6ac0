import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cutover/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  // Boundaries of the design: the controller drives any target through src/providers/types.ts and the
  // registry, never a target's own folder; strategies and health checks are used by the controller and
  // know nothing of it; targets are driven by the controller and know nothing of the CLI.
  {
    files: ['src/controller/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/providers/*/**'],
              message: 'the controller reaches targets only through src/providers/types.ts and the registry',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['strategies/**/*.ts', 'healthchecks/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/controller/**'],
              message: 'strategies and health checks do not import the controller',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/providers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/cli/**'], message: 'targets do not import the CLI' }] },
      ],
    },
  },
);
