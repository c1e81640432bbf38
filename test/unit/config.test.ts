import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { DEFAULT_MEDIA_LIMITS } from '../../src/config/media';

/** Calls loadConfig expecting a ConfigError and returns it. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults (empty environment)', () => {
  it('resolves the data dir to an absolute .biblio in the working directory', () => {
    const c = loadConfig({});
    expect(path.isAbsolute(c.dataDir)).toBe(true);
    expect(c.dataDir).toBe(path.resolve(process.cwd(), '.biblio'));
  });

  it('segments long videos in 10 s pieces, one segment at a time per media worker process', () => {
    const c = loadConfig({});
    expect(c.media.segmentSec).toBe(10);
    expect(c.media.segmentSlots).toBe(1);
    expect(loadConfig({ MEDIA_SEGMENT_SEC: '2.5', MEDIA_SEGMENT_SLOTS: '2' }).media).toMatchObject({ segmentSec: 2.5, segmentSlots: 2 });
    expect(configError({ MEDIA_SEGMENT_SEC: '0' }).message).toContain('MEDIA_SEGMENT_SEC');
  });

  it('puts the ingest dir under the data dir', () => {
    const c = loadConfig({});
    expect(c.ingestDir).toBe(path.join(c.dataDir, 'ingest'));
  });

  it('derives the ingest dir from a relative BIBLIO_DATA_DIR, both absolute', () => {
    const c = loadConfig({ BIBLIO_DATA_DIR: 'some/rel' });
    expect(c.dataDir).toBe(path.resolve('some/rel'));
    expect(c.ingestDir).toBe(path.resolve('some/rel', 'ingest'));
  });

  it('resolves a relative BIBLIO_INGEST_DIR to an absolute path', () => {
    const c = loadConfig({ BIBLIO_INGEST_DIR: 'drop' });
    expect(c.ingestDir).toBe(path.resolve('drop'));
  });

  it('defaults DATABASE_URL to the local biblio database', () => {
    expect(loadConfig({}).databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/biblio');
  });

  it('leaves OpenAI disabled when neither OPENAI_API_KEY nor OPENAI_BASE_URL is set', () => {
    expect(loadConfig({}).openai).toBeUndefined();
  });

  it('leaves Qdrant disabled without QDRANT_URL', () => {
    expect(loadConfig({ QDRANT_API_KEY: 'k' }).qdrant).toBeUndefined();
  });

  it('defaults the API to 127.0.0.1:3000 and the queue prefix to empty', () => {
    const c = loadConfig({});
    expect(c.api).toMatchObject({ host: '127.0.0.1', port: 3000 });
    expect(c.queuePrefix).toBe('');
  });
});

describe('loadConfig optional services', () => {
  it('enables OpenAI with a base URL alone (a local compatible server needs no key)', () => {
    const c = loadConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' });
    expect(c.openai).toMatchObject({ baseURL: 'http://127.0.0.1:11434/v1', apiKey: undefined });
  });

  it('enables OpenAI with an API key alone', () => {
    expect(loadConfig({ OPENAI_API_KEY: 'sk-test' }).openai).toMatchObject({ apiKey: 'sk-test', baseURL: undefined });
  });

  it('enables Qdrant when QDRANT_URL is set', () => {
    expect(loadConfig({ QDRANT_URL: 'http://127.0.0.1:6333' }).qdrant).toEqual({
      url: 'http://127.0.0.1:6333',
      apiKey: undefined,
    });
  });

  it('strips a trailing slash from the Temporal UI URL', () => {
    expect(loadConfig({ TEMPORAL_UI_URL: 'http://ui.example:8233/' }).temporalUiUrl).toBe('http://ui.example:8233');
  });
});

describe('loadConfig treats empty strings as unset', () => {
  it('keeps OpenAI disabled when both OpenAI variables are empty', () => {
    expect(loadConfig({ OPENAI_API_KEY: '', OPENAI_BASE_URL: '' }).openai).toBeUndefined();
  });

  it('keeps Qdrant disabled when QDRANT_URL is empty', () => {
    expect(loadConfig({ QDRANT_URL: '' }).qdrant).toBeUndefined();
  });

  it('uses the default port when API_PORT is empty', () => {
    expect(loadConfig({ API_PORT: '' }).api.port).toBe(3000);
  });

  it('uses the default database when DATABASE_URL is empty', () => {
    expect(loadConfig({ DATABASE_URL: '' }).databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/biblio');
  });
});

describe('loadConfig rejects invalid values', () => {
  it('throws a ConfigError naming API_PORT for API_PORT=abc', () => {
    expect(configError({ API_PORT: 'abc' }).message).toContain('API_PORT');
  });

  it('throws a ConfigError naming BIBLIO_QUEUE_PREFIX for a prefix with a space', () => {
    expect(configError({ BIBLIO_QUEUE_PREFIX: 'a b' }).message).toContain('BIBLIO_QUEUE_PREFIX');
  });

  it('throws a ConfigError naming DATABASE_URL for DATABASE_URL=nope', () => {
    expect(configError({ DATABASE_URL: 'nope' }).message).toContain('DATABASE_URL');
  });

  it('names only the variables that are wrong', () => {
    const msg = configError({ API_PORT: '70000', DATABASE_URL: 'postgres://h/db' }).message;
    expect(msg).toContain('API_PORT');
    expect(msg).not.toContain('DATABASE_URL');
  });

  it('rejects an unknown FFMPEG_PRESET by name', () => {
    expect(configError({ FFMPEG_PRESET: 'placebo' }).message).toContain('FFMPEG_PRESET');
  });

  it('parses API_PORT from a numeric string', () => {
    expect(loadConfig({ API_PORT: '8080' }).api.port).toBe(8080);
  });
});

describe('loadConfig cross-checks between variables', () => {
  it('the defaults pass every cross-check', () => {
    const c = loadConfig({});
    // The refresh deadline fits in the run's TTL with room for the re-analysis timers.
    expect(c.sourceRefreshDeadlineMs).toBeLessThan(c.ops.workflowExecutionTimeoutMs);
  });

  it('refuses a segment length HLS packaging would refuse, instead of failing every video at the HLS step as InvalidMedia', () => {
    const err = configError({ MEDIA_SEGMENT_SEC: '600' });
    expect(err.message).toContain('MEDIA_SEGMENT_SEC: 600 s is outside what HLS packaging accepts (1–60 s)');
    expect(configError({ MEDIA_SEGMENT_SEC: '0.5' }).message).toContain('MEDIA_SEGMENT_SEC');
    expect(loadConfig({ MEDIA_SEGMENT_SEC: '60' }).media.segmentSec).toBe(60);
    expect(loadConfig({ MEDIA_SEGMENT_SEC: '1' }).media.segmentSec).toBe(1);
  });

  it('refuses a source refresh deadline that is not shorter than the run TTL (24 h each used to time the run out instead of dead-lettering it)', () => {
    const err = configError({ SOURCE_REFRESH_DEADLINE_MS: String(24 * 3600_000) });
    expect(err.message).toContain('SOURCE_REFRESH_DEADLINE_MS (24 h) must be shorter than WORKFLOW_EXECUTION_TIMEOUT_MS (24 h)');
    expect(err.message.split('\n')).toHaveLength(2); // one clear line, not a cascade
    // No TTL (0) → nothing to exceed.
    expect(
      loadConfig({ SOURCE_REFRESH_DEADLINE_MS: String(48 * 3600_000), WORKFLOW_EXECUTION_TIMEOUT_MS: '0' }).sourceRefreshDeadlineMs,
    ).toBe(48 * 3600_000);
  });

  it('refuses provider deadlines that outlast the analysis attempt they run in', () => {
    for (const v of ['OPENAI_TIMEOUT_MS', 'AI_TRANSCRIBE_TIMEOUT_MS', 'AI_LIMITER_MAX_WAIT_MS']) {
      expect(configError({ [v]: '180000' }).message).toContain(`${v} (180 s) must be shorter than an analysis attempt (180 s`);
    }
  });

  it('refuses retry, breaker and degradation settings that contradict each other', () => {
    expect(configError({ AI_RETRY_BASE_MS: '90000' }).message).toContain('AI_RETRY_BASE_MS (90 s) must not exceed AI_RETRY_MAX_MS (60 s)');
    expect(configError({ AI_BREAKER_HALF_OPEN_MS: '60000' }).message).toContain(
      'AI_BREAKER_HALF_OPEN_MS (60 s) must be under half of AI_DEGRADE_AFTER_MS (120 s)',
    );
    expect(configError({ AI_DEGRADE_AFTER_MS: '30000' }).message).toContain('AI_BREAKER_HALF_OPEN_MS (15 s)');
    expect(loadConfig({ AI_DEGRADE_AFTER_MS: '31000' }).ai.degradeAfterMs).toBe(31_000);
    expect(configError({ AI_REANALYZE_DELAYS_MS: Array.from({ length: 11 }, () => '1000').join(',') }).message).toContain(
      'AI_REANALYZE_DELAYS_MS lists 11 timers; a run sets at most 10',
    );
  });
});

describe('loadConfig storage rules', () => {
  const s3 = { STORAGE_BACKEND: 's3', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' };

  it('accepts s3 with its endpoint and both keys', () => {
    expect(loadConfig(s3).storage).toMatchObject({ backend: 's3', s3: { endpoint: 'http://127.0.0.1:9000', accessKeyId: 'id' } });
  });

  it('refuses STORAGE_BACKEND=s3 with one key of the pair, naming it on one line', () => {
    const err = configError({ ...s3, S3_SECRET_ACCESS_KEY: undefined });
    expect(err.message).toContain(
      'STORAGE_BACKEND: s3 needs both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY or neither; only S3_ACCESS_KEY_ID is set.',
    );
    expect(err.message.split('\n')).toHaveLength(2);
    expect(configError({ ...s3, S3_ACCESS_KEY_ID: '' }).message).toContain('only S3_SECRET_ACCESS_KEY is set');
  });

  it('accepts s3 on AWS with the default credential chain (no endpoint, no keys: an IAM role)', () => {
    expect(loadConfig({ STORAGE_BACKEND: 's3' }).storage).toMatchObject({ backend: 's3' });
  });

  it('does not ask for S3 settings with local storage', () => {
    expect(loadConfig({ S3_ENDPOINT: 'http://127.0.0.1:9000' }).storage.backend).toBe('local');
  });

  it('caps uploads at MAX_SOURCE_BYTES by default, and refuses a larger upload cap the media step would then refuse', () => {
    expect(loadConfig({ MAX_SOURCE_BYTES: '1000' }).storage.maxUploadBytes).toBe(1000);
    expect(loadConfig({ MAX_SOURCE_BYTES: '1000', MAX_UPLOAD_BYTES: '1000' }).storage.maxUploadBytes).toBe(1000);
    expect(configError({ MAX_SOURCE_BYTES: '1000', MAX_UPLOAD_BYTES: '1001' }).message).toContain(
      'MAX_UPLOAD_BYTES: MAX_UPLOAD_BYTES (1001) must not exceed MAX_SOURCE_BYTES (1000)',
    );
  });
});

describe('loadConfig vector store location', () => {
  const s3 = { STORAGE_BACKEND: 's3', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' };

  it('keeps LanceDB in the data directory by default, with no object-store options', () => {
    expect(loadConfig({ BIBLIO_DATA_DIR: '/srv/biblio' }).lancedb).toEqual({ uri: '/srv/biblio/lancedb', storageOptions: undefined });
    expect(loadConfig({ ...s3, BIBLIO_DATA_DIR: '/srv/biblio' }).lancedb.uri).toBe('/srv/biblio/lancedb');
  });

  it('puts LanceDB in the bucket with the storage port endpoint and credentials for an s3:// URI', () => {
    expect(loadConfig({ ...s3, VECTOR_LANCEDB_URI: 's3://biblio/vectors' }).lancedb).toEqual({
      uri: 's3://biblio/vectors',
      storageOptions: {
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9000',
        allow_http: 'true',
        virtual_hosted_style_request: 'false',
        aws_access_key_id: 'id',
        aws_secret_access_key: 'secret',
      },
    });
  });

  it('leaves credentials to the AWS default chain on AWS without keys, over https', () => {
    expect(
      loadConfig({ STORAGE_BACKEND: 's3', S3_FORCE_PATH_STYLE: 'false', VECTOR_LANCEDB_URI: 's3://b/v' }).lancedb.storageOptions,
    ).toEqual({
      region: 'us-east-1',
    });
  });

  it('refuses a relative directory or another scheme', () => {
    expect(configError({ VECTOR_LANCEDB_URI: 'vectors' }).message).toContain(
      'VECTOR_LANCEDB_URI: an absolute directory or s3://bucket/prefix',
    );
    expect(configError({ VECTOR_LANCEDB_URI: 'gs://b/v' }).message).toContain('VECTOR_LANCEDB_URI');
  });
});

describe('loadConfig demo settings', () => {
  it('defaults the demo to Temporal on 7233 and its UI on 8233, with the CLI path from TEMPORAL_CLI', () => {
    expect(loadConfig({}).demo).toEqual({ temporalPort: 7233, uiPort: 8233, temporalCli: undefined });
    expect(loadConfig({ DEMO_TEMPORAL_PORT: '17233', DEMO_UI_PORT: '18233', TEMPORAL_CLI: '/opt/temporal' }).demo).toEqual({
      temporalPort: 17233,
      uiPort: 18233,
      temporalCli: '/opt/temporal',
    });
    expect(configError({ DEMO_UI_PORT: 'ui' }).message).toContain('DEMO_UI_PORT');
  });
});

describe('media limit defaults', () => {
  it('are the MEDIA_MAX_* / MEDIA_MIN_* defaults the config loads with nothing set', () => {
    expect(DEFAULT_MEDIA_LIMITS).toEqual(loadConfig({}).media.limits);
    expect(DEFAULT_MEDIA_LIMITS).toEqual({
      maxWidth: 8192,
      maxHeight: 8192,
      maxPixels: 8192 * 4320,
      maxDurationSec: 4 * 3600,
      minDurationSec: 0.5,
      minFrames: 2,
    });
  });
});
