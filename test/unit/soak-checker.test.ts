import { checkInvariants, falseStatus, verdict, type InvariantName, type Snapshot } from '../../bench/soak/invariants';
import { FAULT_KINDS, planSoak, POISON_ERRORS, renderSchedule, seededRandom, type UploadSpec } from '../../bench/soak/schedule';

describe('soak schedule', () => {
  test('one seed gives one schedule; another seed another', () => {
    const a = planSoak({ seed: 42, uploads: 200, faults: 40, durationSec: 3600 });
    expect(planSoak({ seed: 42, uploads: 200, faults: 40, durationSec: 3600 })).toEqual(a);
    expect(renderSchedule(planSoak({ seed: 42, uploads: 200, faults: 40, durationSec: 3600 }))).toBe(renderSchedule(a));
    expect(planSoak({ seed: 43, uploads: 200, faults: 40, durationSec: 3600 })).not.toEqual(a);
  });

  test('the mix: counts, times inside the window, clip lengths inside bounds, about a tenth poison, every fault kind', () => {
    const p = planSoak({ seed: 7, uploads: 1000, faults: 60, durationSec: 1000 });
    expect([p.uploads.length, p.faults.length]).toEqual([1000, 60]);
    for (const u of p.uploads) expect(u.atSec >= 0 && u.atSec <= 800).toBe(true);
    for (const f of p.faults) expect(f.atSec >= 0 && f.atSec <= 800).toBe(true);
    const valid = p.uploads.flatMap((u) => (u.media.kind === 'valid' ? [u.media] : []));
    for (const m of valid) expect(m.durationSec >= 2 && m.durationSec <= 600).toBe(true);
    // Log-uniform: most clips short, some long.
    expect(valid.filter((m) => m.durationSec < 60).length).toBeGreaterThan(valid.length / 2);
    expect(valid.some((m) => m.durationSec > 300)).toBe(true);
    const poison = p.uploads.length - valid.length;
    expect(poison).toBeGreaterThan(60);
    expect(poison).toBeLessThan(140);
    for (const u of p.uploads) if (u.media.kind === 'poison') expect(u.media.expectedError).toBe(POISON_ERRORS[u.media.poison]);
    expect(new Set(p.faults.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
    for (const f of p.faults) if (f.kind === 'operator-delete') expect(p.uploads.map((u) => u.id)).toContain(f.uploadId);
  });

  test('the CI variant: caps on clip length and height hold', () => {
    const p = planSoak({ seed: 1, uploads: 100, faults: 8, durationSec: 300, maxClipSec: 8, maxHeight: 720 });
    for (const u of p.uploads) if (u.media.kind === 'valid') expect([u.media.durationSec <= 8, u.media.height]).toEqual([true, 720]);
  });

  test('the PRNG is uniform enough and stays in [0, 1)', () => {
    const r = seededRandom(123);
    const xs = Array.from({ length: 10_000 }, r);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });

  test('the printed schedule names the seed and how to replay it', () => {
    const text = renderSchedule(planSoak({ seed: 9, uploads: 3, faults: 2, durationSec: 60 }));
    expect(text).toContain('npm run soak -- --seed 9 --uploads 3 --faults 2 --duration 60');
    expect(text.split('\n')).toHaveLength(2 + 3 + 2);
  });
});

describe('soak invariant checker', () => {
  const valid = (id: string): UploadSpec => ({
    id,
    atSec: 0,
    source: 'file',
    media: { kind: 'valid', durationSec: 10, height: 720, shape: 'vfr' },
  });
  const poison = (id: string): UploadSpec => ({
    id,
    atSec: 0,
    source: 'file',
    media: { kind: 'poison', poison: 'truncated', expectedError: 'TruncatedMedia' },
  });

  /**
   * A run where everything held: two ready videos, one poison dead-lettered, one deleted by the
   * operator, and one whose URL expired, was refreshed and went ready.
   */
  function good(): Snapshot {
    return {
      uploads: [valid('a'), valid('b'), poison('p'), valid('d'), { ...valid('e'), source: 'url-expiring' }],
      deletedByOperator: new Set(['d']),
      outcomes: new Map([
        ['e', { status: 'ready', analysis: 'complete' }],
        ['a', { status: 'ready', analysis: 'complete' }],
        ['b', { status: 'ready', analysis: 'delayed', analysisReason: 'AiUnavailable' }],
        ['p', { status: 'failed', errorType: 'TruncatedMedia' }],
        ['d', { status: 'deleted' }],
      ]),
      rows: new Map([
        ['a', 1],
        ['b', 1],
        ['e', 1],
      ]),
      points: new Map([
        ['a', 1],
        ['b', 1],
        ['e', 1],
      ]),
      expectedPoints: () => 1,
      ledger: new Map([
        ['a', 0.1 + 0.2],
        ['b', 0.05],
      ]),
      billed: new Map([
        ['a', 0.3],
        ['b', 0.05],
      ]),
      repeatedPaid: [{ videoId: 'a', key: 'chat:abc', count: 2 }],
      misattributedPaid: [],
      repairBound: 1,
      expiringSources: new Map([['e', { expiredAnswers: 1, refreshesAccepted: 1, served: 1 }]]),
      ffmpegPids: [],
      scratchFiles: [],
      openMultipart: [],
      objectsOfDeleted: new Map([['d', []]]),
      media: new Map([
        ['a', { ok: true }],
        ['b', { ok: true }],
        ['e', { ok: true }],
      ]),
      statusSamples: [
        { videoId: 'a', atSec: 3, said: 'running', ended: 'ready' },
        { videoId: 'p', atSec: 4, said: 'failed', ended: 'failed' },
      ],
      replay: [{ workflowId: 'video-a', ok: true }],
    };
  }

  const names = (s: Snapshot): InvariantName[] => [...new Set(checkInvariants(s).map((v) => v.invariant))];

  test('a good run has no violation (0.1 + 0.2 equals 0.3 in money)', () => {
    expect(checkInvariants(good())).toEqual([]);
    expect(verdict(5, [])).toEqual({ ok: true, line: 'soak seed 5: every invariant held' });
  });

  const cases: [string, (s: Snapshot) => void, InvariantName][] = [
    ['an upload still running at the end', (s) => s.outcomes.set('a', { status: 'running' }), 'ended'],
    ['an upload the system never heard of', (s) => s.outcomes.delete('b'), 'ended'],
    ['a ready video whose analysis is still pending', (s) => s.outcomes.set('a', { status: 'ready', analysis: 'pending' }), 'ended'],
    ['an analysis delayed with no reason', (s) => s.outcomes.set('b', { status: 'ready', analysis: 'delayed' }), 'ended'],
    [
      'a valid VFR input dead-lettered',
      (s) => s.outcomes.set('a', { status: 'failed', errorType: 'TranscodeFailed' }),
      'validNotDeadLettered',
    ],
    ['a poison input that went ready', (s) => s.outcomes.set('p', { status: 'ready', analysis: 'complete' }), 'poisonReason'],
    [
      'a poison input failed for the wrong reason',
      (s) => s.outcomes.set('p', { status: 'failed', errorType: 'TranscodeFailed' }),
      'poisonReason',
    ],
    ['a ready video with two rows', (s) => s.rows.set('a', 2), 'oneRow'],
    ['a row left for a deleted video', (s) => s.rows.set('d', 1), 'oneRow'],
    ['a ready video without its vector point (half-indexed)', (s) => s.points.delete('b'), 'vectorPoints'],
    ['a point left for a failed video (compensation skipped)', (s) => s.points.set('p', 1), 'vectorPoints'],
    ['a charge the provider never billed', (s) => s.ledger.set('a', 0.31), 'billing'],
    ['a billed request the ledger missed', (s) => s.billed.set('p', 0.01), 'billing'],
    ['a paid request sent three times', (s) => s.repeatedPaid.push({ videoId: 'b', key: 'embed:x', count: 3 }), 'billing'],
    [
      'a billed request the ledger charges to another upload than its body names',
      (s) => s.misattributedPaid.push({ requestId: 'req_7', named: 'a', charged: 'b' }),
      'billing',
    ],
    [
      'an expiring URL that was never refused (the refresh not exercised)',
      (s) => s.expiringSources.set('e', { expiredAnswers: 0, refreshesAccepted: 0, served: 1 }),
      'sourceRefreshed',
    ],
    [
      'an expired URL whose run took no new one',
      (s) => s.expiringSources.set('e', { expiredAnswers: 1, refreshesAccepted: 0, served: 0 }),
      'sourceRefreshed',
    ],
    ['an upload still waiting for its new URL at the end', (s) => s.outcomes.set('e', { status: 'running' }), 'ended'],
    ['an orphan ffmpeg', (s) => s.ffmpegPids.push(4242), 'noOrphanProcess'],
    ['a scratch file left', (s) => s.scratchFiles.push('/data/work/a/seg-3.mp4'), 'noScratch'],
    ['an open multipart upload', (s) => s.openMultipart.push('media/a/rendition.mp4#upload-1'), 'noMultipart'],
    ['an object of a deleted video', (s) => s.objectsOfDeleted.set('d', ['media/d/hls/master.m3u8']), 'noObjectsOfDeleted'],
    ['a ready video whose HLS ffprobe rejects', (s) => s.media.set('b', { ok: false, detail: '720p rung has no frames' }), 'mediaVerified'],
    ['a ready video never verified', (s) => s.media.delete('a'), 'mediaVerified'],
    [
      'a status that said failed for a video that went ready',
      (s) => s.statusSamples.push({ videoId: 'a', atSec: 9, said: 'failed', ended: 'ready' }),
      'statusTruthful',
    ],
    ['a history that does not replay', (s) => s.replay.push({ workflowId: 'video-b', ok: false, error: 'TMPRL1100' }), 'replay'],
  ];

  test.each(cases)('finds %s', (_name, breakIt, invariant) => {
    const s = good();
    breakIt(s);
    // The first violation names the break; a wrong ending also leaves its row/point/media
    // checks wrong for that video (later lines of the same report).
    expect(names(s)[0]).toBe(invariant);
  });

  test('an expiring upload deleted by the operator, or refused at the door, needs no refresh', () => {
    const s = good();
    s.uploads.push({ ...valid('x'), source: 'url-expiring' }, { ...poison('y'), source: 'url-expiring' });
    s.deletedByOperator.add('x');
    s.outcomes.set('x', { status: 'deleted' });
    s.expiringSources.set('x', { expiredAnswers: 1, refreshesAccepted: 0, served: 0 });
    // Refused at the door (no entry: its URL was never fetched), with its poison's reason.
    s.outcomes.set('y', { status: 'failed', errorType: 'TruncatedMedia' });
    expect(checkInvariants(s)).toEqual([]);
  });

  test('the exit line names the seed and the first violation', () => {
    const s = good();
    s.points.delete('b');
    const v = verdict(77, checkInvariants(s));
    expect(v.ok).toBe(false);
    expect(v.line).toBe(
      'soak seed 77: 1 violation(s); first: exactly the expected vector points per ready video, none for deleted or failed ones (b): 0 points, expected 1',
    );
  });

  test('status answers: running is never false; not-found is false for a video that exists', () => {
    expect(falseStatus({ videoId: 'a', atSec: 1, said: 'running', ended: 'failed' })).toBeUndefined();
    expect(falseStatus({ videoId: 'a', atSec: 1, said: 'not-found', ended: 'deleted' })).toBeUndefined();
    expect(falseStatus({ videoId: 'a', atSec: 1, said: 'not-found', ended: 'ready' })).toBe('it exists (ready)');
    expect(falseStatus({ videoId: 'a', atSec: 1, said: 'ready', ended: 'failed' })).toBe('it failed');
  });
});
