// ESLint over every source the repository has: the library (typed rules, from tsconfig.json), the tests,
// scripts, examples, demo and bench (JavaScript and TypeScript), and the AssemblyScript kernels (syntax
// rules only: AssemblyScript's types are not TypeScript's). Formatting is Prettier's (npm run format).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// AssemblyScript decorates top-level functions (@inline function f), which TypeScript's grammar, and so
// the parser, rejects. Blanking those decorators to spaces of the same length keeps every line and
// column where it was, so the findings point at the real source.
const assemblyScript = {
  preprocess: (text) => [text.replace(/^@inline(?= (?:export |function ))/gm, '       ')],
  postprocess: (messages) => messages.flat(),
  supportsAutofix: false,
};

export default tseslint.config(
  { ignores: ['dist/', 'build/', '.device/', 'docs/api/', 'node_modules/', '.runtimes/', 'src/generated/', 'test/artifacts/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser }, ecmaVersion: 2024, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Unused names are mistakes, except the conventional _-prefixed placeholders.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': ['error', { destructuring: 'all' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A promise the library drops is a result or an error nobody sees.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Backends implement a Promise-returning interface; async turns a throw into a rejection even in
      // the ones (js) that never wait, which is the contract the callers rely on.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['assembly/**/*.ts'],
    processor: assemblyScript,
    rules: {
      // AssemblyScript: i32/f32/usize and the built-ins (load, store, v128, ...) are globals of its own.
      'no-undef': 'off',
      // == compares values in AssemblyScript; === is reference identity, which the kernels never mean.
      eqeqeq: 'off',
      '@typescript-eslint/no-unused-vars': 'off',
      'prefer-const': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
