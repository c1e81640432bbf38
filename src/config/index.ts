/**
 * The one place that reads the environment. Every default makes the embedded set-up work with
 * nothing configured; every value is validated once, at start-up, so a typo fails fast with the
 * variable's name instead of surfacing as a strange error mid-run.
 *
 * Each area file (core, api, temporal, workers, media, ai, search-index, storage, security,
 * operations, retention, demo) declares its variables once — validator, default, a one-sentence
 * `.describe()` — and maps them into its part of the config tree; `cross-checks.ts` holds the
 * rules between variables. docs/configuration.md is generated from the same declarations
 * (`npm run docs:config`).
 */
import { aiConfig } from './ai';
import { apiConfig } from './api';
import { coreConfig } from './core';
import { crossCheckProblems } from './cross-checks';
import { demoConfig } from './demo';
import { mediaConfig } from './media';
import { operationsConfig } from './operations';
import { retentionConfig } from './retention';
import { envObject } from './schema';
import { searchIndexConfig } from './search-index';
import { securityConfig } from './security';
import { storageConfig } from './storage';
import { temporalConfig } from './temporal';
import { workersConfig } from './workers';

export type { MediaLimits } from './media';

// Rules between variables: one clear message naming both, before anything starts.
const checkedEnvSchema = envObject.superRefine((e, ctx) => {
  for (const p of crossCheckProblems(e)) ctx.addIssue({ code: 'custom', path: [p.variable], message: p.message });
});

export type Config = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  // Empty strings mean "unset" (a common shell habit: FOO= command).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = checkedEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`Invalid environment:\n${problems}`);
  }
  const e = parsed.data;
  const core = coreConfig(e);
  const api = apiConfig(e);
  const storage = storageConfig(e, { dataDir: core.dataDir, api: api.api });
  return {
    ...core,
    ...api,
    ...temporalConfig(e),
    ...workersConfig(e),
    ...mediaConfig(e),
    ...aiConfig(e),
    ...searchIndexConfig(e, { vectorDir: core.vectorDir, s3: storage.storage.s3 }),
    ...storage,
    ...securityConfig(e),
    ...operationsConfig(e),
    ...retentionConfig(e),
    ...demoConfig(e, 'DATABASE_URL' in cleaned),
  };
}

export type OpenAiConfig = NonNullable<Config['openai']>;
export type AiConfig = Config['ai'];
export type QdrantConfig = NonNullable<Config['qdrant']>;
export type LanceDbConfig = Config['lancedb'];
export type FfmpegConfig = Config['ffmpeg'];
export type MediaConfig = Config['media'];
export type StorageConfig = Config['storage'];
