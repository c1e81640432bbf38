// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

/** An import pattern refusing the folders `above` (src/<name>, at any relative depth) to code of `who`. */
function layer(who, above) {
  return {
    group: above.flatMap((dir) => [`**/${dir}`, `**/${dir}/*`]),
    message: `${who} must not import from a layer above them (see the layer comment in eslint.config.js)`,
  };
}
const HTTP_FRAMEWORK = {
  group: ['fastify', 'fastify-*', '@fastify/*'],
  message: 'services know nothing of HTTP: routes in src/api translate',
};
const CONFIG = (who) => ({ group: ['**/config', '**/config-*'], message: `${who} does not read the server's configuration` });

module.exports = tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.biblio/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no config/env.
    // The catalogue and retry presets are read by workflows too.
    files: ['src/workflows/**/*.ts', 'src/pipeline/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https'],
              message: 'workflow code must not use Node built-ins',
            },
            {
              group: ['../config', '../adapters/*', '../db/*', '../media/*'],
              message: 'workflow code must stay deterministic: no config, adapters or I/O',
            },
          ],
        },
      ],
    },
  },
  // Layers: which folder may import which. Entry points (api, workers, cli, demo) sit on top;
  // services (app) below the API; activities below their workers; adapters, db and media at the
  // bottom. An import that points up a layer is an error:
  //   api        → app, db, adapters, …   (routes translate HTTP ↔ service calls)
  //   app        ↛ api, fastify, workers, activities, cli, demo
  //   cli        ↛ api, app, db, config  (it speaks HTTP; response types from contracts/)
  //   demo       ↛ api, app, workers, activities (it may start the embedded database: db)
  //   activities ↛ api, app, workers, cli, demo
  //   adapters, db, media ↛ api, app, workers, activities, cli, demo
  //   workflows, pipeline: deterministic (the block above)
  // test/unit/layer-rules.test.ts proves the rule fires.
  {
    files: ['src/app/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [layer('services', ['api', 'workers', 'activities', 'cli', 'demo']), HTTP_FRAMEWORK] },
      ],
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [layer('the CLI', ['api', 'app', 'db', 'workers', 'activities']), CONFIG('the CLI')] },
      ],
    },
  },
  {
    // `npm run keys`: key admin on the database itself, for when no API (or no key) exists yet.
    files: ['src/cli/keys.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [layer('the key admin tool', ['api', 'app', 'workers', 'activities'])] }] },
  },
  {
    files: ['src/demo/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [layer('the demo', ['api', 'app', 'workers', 'activities'])] }] },
  },
  {
    files: ['src/activities/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [layer('activities', ['api', 'app', 'workers', 'cli', 'demo'])] }] },
  },
  {
    files: ['src/adapters/**/*.ts', 'src/db/**/*.ts', 'src/media/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [layer('adapters, db and media', ['api', 'app', 'workers', 'activities', 'cli', 'demo'])] },
      ],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The dashboard: plain browser scripts served as they are (issue 20).
    files: ['public/**/*.js'],
    languageOptions: { sourceType: 'script', globals: require('globals').browser },
  },
);
