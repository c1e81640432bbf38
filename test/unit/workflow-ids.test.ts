import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES, failure, type ErrorTypeName } from '../../src/errors';
import { QUEUE_ROLES, taskQueues } from '../../src/pipeline/catalogue';
import { VIDEO_ID_PATTERN, workflowIdFor } from '../../src/workflows/ids';

describe('workflowIdFor', () => {
  it('gives the same workflow id every time for the same video id', () => {
    expect(workflowIdFor('clip-42')).toBe(workflowIdFor('clip-42'));
  });

  it('gives different workflow ids for different video ids', () => {
    const ids = ['a', 'b', 'A', 'a-b', 'a_b', 'ab', '0'];
    expect(new Set(ids.map(workflowIdFor)).size).toBe(ids.length);
  });

  it('contains the video id so people can find the run in the Temporal UI', () => {
    expect(workflowIdFor('holiday_2024')).toContain('holiday_2024');
  });
});

describe('VIDEO_ID_PATTERN', () => {
  it('accepts letters, digits, "_" and "-" up to 64 characters', () => {
    expect(VIDEO_ID_PATTERN.test('Az09_-'.padEnd(64, 'x'))).toBe(true);
  });

  it('rejects 65 characters', () => {
    expect(VIDEO_ID_PATTERN.test('x'.repeat(65))).toBe(false);
  });
});

describe('taskQueues', () => {
  it('prefixes all four queues', () => {
    const q = taskQueues('t1-');
    for (const role of QUEUE_ROLES) expect(q[role].startsWith('t1-')).toBe(true);
    expect(Object.keys(q).sort()).toEqual(['ai', 'index', 'media', 'pipeline']);
  });

  it('gives four distinct queue names', () => {
    const q = taskQueues('p.');
    expect(new Set(QUEUE_ROLES.map((r) => q[r])).size).toBe(4);
  });

  it('keeps queues of different prefixes apart', () => {
    const a = taskQueues('a-');
    const b = taskQueues('b-');
    for (const role of QUEUE_ROLES) expect(a[role]).not.toBe(b[role]);
  });

  it('uses plain role names without a prefix', () => {
    expect(taskQueues()).toEqual({ pipeline: 'pipeline', media: 'media', ai: 'ai', index: 'index' });
  });
});

describe('failure', () => {
  const nonRetryable: ErrorTypeName[] = [
    'InvalidMedia',
    'SourceNotFound',
    'SourceTooLarge',
    'AiRejected',
    // Media gate (issue 14): each a deterministic property of the upload.
    'NoVideoStream',
    'NotAVideo',
    'MediaTooLarge',
    'MediaTooLong',
    'MediaTooShort',
    'TruncatedMedia',
    'SourceOutsideIngestDir',
    'SourceNotRegularFile',
    // AI (issue 16): retrying cannot fix billing, content policy, or an analysis already deferred.
    'AiQuotaExhausted',
    'AiContentRejected',
    'AiDeferred',
    'SourceUrlExpired',
    'SourceForbidden',
    'SourceChanged',
    // Issue 25: the provider cannot do this, or its answer stayed unusable after a repair.
    'AiUnsupported',
    'AiBadAnswer',
    // The AI step's inputs are gone from cache and store: only cutting them again helps.
    'AnalysisInputsMissing',
  ];
  const retryable = (Object.values(ErrorType) as ErrorTypeName[]).filter((t) => !nonRetryable.includes(t));

  it.each(nonRetryable)('marks %s non-retryable', (type) => {
    expect(failure(type, 'boom').nonRetryable).toBe(true);
  });

  it.each(retryable)('marks %s retryable', (type) => {
    expect(failure(type, 'boom').nonRetryable).toBe(false);
  });

  it('lists exactly the non-retryable types for retry policies', () => {
    expect([...NON_RETRYABLE_ERROR_TYPES].sort()).toEqual([...nonRetryable].sort());
  });

  it('builds an ApplicationFailure carrying the type and message', () => {
    const f = failure(ErrorType.TranscodeFailed, 'ffmpeg exited with 1');
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f.type).toBe('TranscodeFailed');
    expect(f.message).toBe('ffmpeg exited with 1');
  });

  it('carries nextRetryDelay from nextRetryDelayMs', () => {
    expect(failure(ErrorType.AiRateLimited, 'slow down', { nextRetryDelayMs: 7000 }).nextRetryDelay).toBe(7000);
  });

  it('leaves nextRetryDelay unset when none is given', () => {
    expect(failure(ErrorType.AiRateLimited, 'slow down').nextRetryDelay ?? undefined).toBeUndefined();
  });

  it('carries details as a one-element array', () => {
    const f = failure(ErrorType.InvalidMedia, 'not a video', { details: { reason: 'still image', container: 'png_pipe' } });
    expect(f.details).toEqual([{ reason: 'still image', container: 'png_pipe' }]);
  });

  it('carries the cause', () => {
    const cause = new Error('ECONNRESET');
    expect(failure(ErrorType.SourceUnavailable, 'download broke off', { cause }).cause).toBe(cause);
  });
});
