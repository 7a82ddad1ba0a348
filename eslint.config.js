// Lint rules, including the layer boundaries of DESIGN.md section 1:
// core (pure) <- kernel, runner <- cli. Only src/runner/process/process.ts spawns.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = {
  group: ['node:*'],
  message: 'src/core is pure: bytes and strings in, data out. Do the I/O in kernel/ or runner/.',
};
const childProcess = {
  name: 'node:child_process',
  message: 'Only src/runner/process/process.ts spawns processes: call it instead.',
};
const layer = (names, why) => ({ group: names, message: why });

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { parserOptions: { projectService: true } },
    rules: {
      'no-restricted-imports': ['error', { paths: [childProcess] }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      'no-bitwise': 'off',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [childProcess],
        patterns: [
          nodeBuiltins,
          layer(['**/kernel/**', '**/runner/**', '**/cli/**'], 'src/core may import only src/core.'),
        ],
      }],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require'],
    },
  },
  {
    files: ['src/kernel/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [childProcess],
        patterns: [layer(['**/runner/**', '**/cli/**'], 'src/kernel may import only src/core and src/kernel.')],
      }],
    },
  },
  {
    files: ['src/runner/**/*.ts'],
    ignores: ['src/runner/process/process.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [childProcess],
        patterns: [layer(['**/cli/**'], 'src/runner must not import src/cli.')],
      }],
    },
  },
  {
    files: ['src/runner/process/process.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'src/**/*.test.ts'],
    rules: { 'no-restricted-imports': 'off', 'no-restricted-globals': 'off', '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
