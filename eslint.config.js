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

// The exit-status contract (DESIGN.md): the error's code decides the status,
// through exitStatusOf() in core/errors.ts. Choosing it by class or by where
// the error was caught is how `CrossrootError('USAGE', ...)` once exited 1.
const exitStatusByCode = 'Decide the exit status from the error code: return exitStatusOf(error) (src/core/errors.ts).';
const exitStatusRules = [
  { selector: "ConditionalExpression[test.operator='instanceof']:matches([consequent.type='Literal'], [alternate.type='Literal'])", message: exitStatusByCode },
  { selector: "BinaryExpression[operator='instanceof'][right.name='UsageError']", message: exitStatusByCode },
  { selector: "CatchClause ReturnStatement[argument.type='Literal']:matches([argument.value=1], [argument.value=2])", message: exitStatusByCode },
  { selector: "CatchClause AssignmentExpression[left.property.name='exitCode'][right.type='Literal']", message: exitStatusByCode },
];

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
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: { 'no-restricted-syntax': ['error', ...exitStatusRules] },
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
    // Functions short enough to read at once, files of one concept (tests and data tables aside).
    files: ['src/**/*.ts', 'src/**/*.cts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      'max-lines': ['error', { max: 450, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'src/**/*.test.ts'],
    rules: { 'no-restricted-imports': 'off', 'no-restricted-globals': 'off', '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    // The installed command is CommonJS (no ESM loader at start-up): require is its import.
    files: ['src/cli/crossroot.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
