import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { expiringFacts, type RefreshRecord } from '../../bench/soak/expiring';
import { injectFault, NOT_INJECTED, type FaultContext } from '../../bench/soak/faults';
import { attributeBilledRequests } from '../../bench/soak/gather';
import { startSourceServer } from '../../bench/soak/inputs';
import { CI, parseOptions, scaledClip } from '../../bench/soak/options';
import { percentile, refreshSummary, renderSummary, renderTimeline, type RunFacts } from '../../bench/soak/report';
import { labNotInjected, notInjectedLines } from '../../bench/soak/run';
import { FAULT_KINDS, planSoak, type UploadSpec } from '../../bench/soak/schedule';
import type { SoakStack } from '../../bench/soak/soak-stack';
import { loopbackPorts, polledSince } from '../../bench/soak/worker-host';
import { materializeSource } from '../../src/media/source';
import { SsrfPolicy } from '../../src/net/ssrf-guard';

test('--ci is the fixed short soak, and the cap defaults to twice the duration plus two minutes', () => {
  expect(parseOptions(['--ci'])).toMatchObject({ ...CI, ci: true });
  expect(parseOptions(['--duration', '50'])).toMatchObject({ durationSec: 50, capSec: 220 });
  expect(parseOptions(['--help'])).toBe('help');
  expect(() => parseOptions(['--seed', 'x'])).toThrow('--seed needs a number');
  expect(() => parseOptions(['--bogus'])).toThrow('unknown option --bogus');
});

test('the CI seed schedules only faults the runner injects', () => {
  const plan = planSoak({ seed: CI.seed, uploads: CI.uploads, faults: CI.faults, durationSec: CI.durationSec });
  expect(plan.faults.filter((f) => NOT_INJECTED[f.kind])).toEqual([]);
  expect(new Set(plan.faults.map((f) => f.kind))).toEqual(
    new Set(['kill-worker', 'stop-ffmpeg', 'rolling-restart', 'kill-temporal', 'operator-delete', 'ai-outage', 'ai-malformed', 'ai-storm']),
  );
});

test('every fault kind the runner does not inject is named at the start of a run that schedules it', () => {
  const plan = planSoak({ seed: 7, uploads: 30, faults: FAULT_KINDS.length, durationSec: 60 });
  const lines = notInjectedLines(plan).join('\n');
  for (const kind of Object.keys(NOT_INJECTED)) expect(lines).toContain(kind);
});

test('scaled clips keep the mix short and small; --real-media keeps the plan', () => {
  expect(scaledClip({ durationSec: 2, height: 720 }, false)).toEqual({ durationSec: 2, height: 120 });
  expect(scaledClip({ durationSec: 600, height: 2160 }, false)).toEqual({ durationSec: 8, height: 360 });
  expect(scaledClip({ durationSec: 600, height: 2160 }, true)).toEqual({ durationSec: 600, height: 2160 });
});

test('percentile is nearest-rank', () => {
  expect(percentile([], 50)).toBeUndefined();
  expect(percentile([3, 1, 2, 10], 50)).toBe(2);
  expect(percentile([3, 1, 2, 10], 99)).toBe(10);
});

test('the summary counts outcomes and faults, and the timeline draws one bar per fault', () => {
  const plan = planSoak({ seed: 3, uploads: 2, faults: 2, durationSec: 20 });
  const facts: RunFacts = {
    plan,
    wallSec: 30,
    spans: plan.uploads.map((u) => ({ id: u.id, fromSec: u.atSec, toSec: u.atSec + 5 })),
    faults: plan.faults.map((spec) => ({
      spec,
      injected: !NOT_INJECTED[spec.kind],
      startSec: spec.atSec,
      endSec: spec.atSec + spec.forSec,
    })),
    snapshot: {
      uploads: plan.uploads,
      deletedByOperator: new Set(),
      outcomes: new Map(plan.uploads.map((u) => [u.id, { status: 'ready', analysis: 'complete' }])),
      rows: new Map(),
      points: new Map(),
      expectedPoints: () => 1,
      ledger: new Map(),
      billed: new Map(),
      repeatedPaid: [],
      misattributedPaid: [],
      repairBound: 1,
      expiringSources: new Map(),
      ffmpegPids: [],
      scratchFiles: [],
      openMultipart: [],
      objectsOfDeleted: new Map(),
      media: new Map(),
      statusSamples: [],
      replay: [],
    },
    violations: [],
    verdictLine: 'soak seed 3: every invariant held',
    gaps: ['one gap'],
    pointSpaces: new Map(),
    retriedAttempts: 2,
    histories: 2,
    ledgerByKind: new Map([['chat', 10]]),
    billedRequests: 4,
    attribution: { byLedger: 3, byBody: 1, byTwin: 0, unattributed: 0 },
    refreshes: [],
    replayCommand: 'npm run soak -- --seed 3',
    notInjected: [],
  };
  const md = renderSummary(facts);
  expect(md).toContain('| ready (analysis complete) | 2 |');
  expect(md).toContain('- one gap');
  expect(md).toContain(
    '- Billed requests attributed to an upload for the repeat check: 4 of 4 (by the ledger 3, by the body 1, as a twin 0)',
  );
  const svg = renderTimeline(facts);
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.match(/<rect x=/g)).toHaveLength(plan.faults.length);
});

describe('billed requests attributed to uploads', () => {
  const chat = (title: string, n = 1) => ({ model: 'm', messages: [{ role: 'user', content: `{"title":"${title}","n":${n}}` }] });
  const CHAT = '/v1/chat/completions';
  const billedOf = (requests: { requestId: string }[], p = CHAT) => requests.map((r) => ({ requestId: r.requestId, path: p }));

  test('a request repeated for the same upload is counted by the upload its body names; other uploads are not mixed in', () => {
    const requests = [
      { requestId: 'a', body: chat('soak-1-0001.mp4') },
      { requestId: 'b', body: chat('soak-1-0001.mp4') },
      { requestId: 'c', body: chat('soak-1-0001.mp4') },
      { requestId: 'd', body: chat('soak-1-0001.mp4', 2) },
      { requestId: 'e', body: chat('soak-1-0002.mp4') },
      { requestId: 'f', body: chat('k-3f2a.mp4') },
    ];
    const out = attributeBilledRequests(requests, billedOf(requests), ['soak-1-0001', 'soak-1-0002'], new Map());
    expect(out).toMatchObject({ byLedger: 0, byBody: 5, byTwin: 0, unattributed: 1, misattributed: [] });
    expect(out.repeatedPaid).toEqual([
      { videoId: 'soak-1-0001', key: expect.stringMatching(/^\/v1\/chat\/completions [0-9a-f]{12}$/), count: 3 },
    ]);
  });

  test("a resumable upload's requests (its random key as the title) are attributed by the ledger, so their repeats count", () => {
    // soak-1-0003 came through the upload API: its title is the key's random last segment.
    const requests = [
      { requestId: 'r1', body: chat('k-3f2a') },
      { requestId: 'r2', body: chat('k-3f2a') },
      { requestId: 'r3', body: chat('k-3f2a') },
      { requestId: 'r4', body: chat('k-3f2a', 2) },
    ];
    const ledger = new Map(['r1', 'r2', 'r3', 'r4'].map((id) => [id, 'soak-1-0003']));
    const out = attributeBilledRequests(requests, billedOf(requests), ['soak-1-0001', 'soak-1-0003'], ledger);
    expect(out).toMatchObject({ byLedger: 4, byBody: 0, byTwin: 0, unattributed: 0 });
    expect(out.repeatedPaid).toEqual([{ videoId: 'soak-1-0003', key: expect.any(String), count: 3 }]);
  });

  test('a billed request no ledger row names, whose body names no upload, is attributed as the twin of an attributed one', () => {
    const requests = [
      { requestId: 'r1', body: chat('k-3f2a') },
      { requestId: 'r2', body: chat('k-3f2a') },
      { requestId: 'r3', body: chat('k-3f2a') },
      // The same body under two uploads has no single owner: not attributed.
      { requestId: 's1', body: chat('k-same') },
      { requestId: 's2', body: chat('k-same') },
      { requestId: 's3', body: chat('k-same') },
    ];
    const ledger = new Map([
      ['r1', 'soak-1-0003'],
      ['s1', 'soak-1-0004'],
      ['s2', 'soak-1-0005'],
    ]);
    const out = attributeBilledRequests(requests, billedOf(requests), ['soak-1-0003', 'soak-1-0004', 'soak-1-0005'], ledger);
    expect(out).toMatchObject({ byLedger: 3, byBody: 0, byTwin: 2, unattributed: 1 });
    expect(out.repeatedPaid).toEqual([{ videoId: 'soak-1-0003', key: expect.any(String), count: 3 }]);
  });

  test('transcription chunks differ only in their file: each chunk is its own request, a re-sent chunk is a repeat', () => {
    const fields = { model: 'whisper-1', response_format: 'verbose_json' };
    const requests = [
      { requestId: 't1', body: fields, file: { name: 'audio-000.mp3', bytes: 1000 } },
      { requestId: 't2', body: fields, file: { name: 'audio-001.mp3', bytes: 900 } },
      { requestId: 't3', body: fields, file: { name: 'audio-000.mp3', bytes: 1000 } },
      { requestId: 't4', body: fields, file: { name: 'audio-000.mp3', bytes: 1000 } },
    ];
    const ledger = new Map(requests.map((r) => [r.requestId, 'soak-1-0003']));
    const out = attributeBilledRequests(requests, billedOf(requests, '/v1/audio/transcriptions'), ['soak-1-0003'], ledger);
    expect(out.repeatedPaid).toEqual([{ videoId: 'soak-1-0003', key: expect.stringMatching(/^\/v1\/audio\/transcriptions /), count: 3 }]);
  });

  test('a request whose body names one upload while the ledger charges another is reported, and counted for the charged one', () => {
    const requests = [{ requestId: 'x', body: chat('soak-1-0001.mp4') }];
    const out = attributeBilledRequests(requests, billedOf(requests), ['soak-1-0001', 'soak-1-0002'], new Map([['x', 'soak-1-0002']]));
    expect(out.misattributed).toEqual([{ requestId: 'x', named: 'soak-1-0001', charged: 'soak-1-0002' }]);
    expect(out).toMatchObject({ byLedger: 1, unattributed: 0 });
  });
});

describe('expiring URL sources', () => {
  let dir: string;
  let workDir: string;
  const sources: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-soak-src-'));
    workDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-soak-dl-'));
    await writeFile(path.join(dir, 'soak-1-0003.mp4'), 'not really a video');
  });
  afterAll(async () => {
    for (const s of sources) await s.close();
    await rm(dir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  });

  test('the source server refuses a signed URL past its expiry as an object store does, and the product calls that SourceUrlExpired', async () => {
    const server = await startSourceServer(dir);
    sources.push(server);
    const expired = server.signedUrl('soak-1-0003.mp4', Date.now());
    const res = await fetch(expired);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>AccessDenied</Code><Message>Request has expired</Message>');

    // What the media worker does with it (the soak's stack allows loopback sources the same way).
    const opts = { workDir, maxBytes: 1_000_000, ssrf: new SsrfPolicy(['127.0.0.1']) };
    const err = await materializeSource({ kind: 'url', url: expired }, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('SourceUrlExpired');

    const fresh = server.signedUrl('soak-1-0003.mp4', Date.now() + 60_000);
    expect(await materializeSource({ kind: 'url', url: fresh }, opts)).toBe(path.join(workDir, 'source'));
    // A forged signature is refused too (never served).
    const forged = fresh.replace(/sig=[0-9a-f]/, (m) => (m.endsWith('0') ? 'sig=1' : 'sig=0'));
    expect((await fetch(forged)).status).toBe(403);
    expect(server.signedFetches.map((f) => [f.file, f.verdict])).toEqual([
      ['soak-1-0003.mp4', 'expired'],
      ['soak-1-0003.mp4', 'expired'],
      ['soak-1-0003.mp4', 'served'],
      ['soak-1-0003.mp4', 'rejected'],
    ]);
  });

  const expiring = (id: string): UploadSpec => ({
    id,
    atSec: 1,
    source: 'url-expiring',
    media: { kind: 'valid', durationSec: 4, height: 720, shape: 'plain' },
  });

  test("the checker's facts: expired answers, refreshes taken and new URLs served per submitted expiring upload", () => {
    const uploads = [expiring('e1'), expiring('e2'), expiring('e3'), { ...expiring('f1'), source: 'file' as const }];
    const fetches = [
      { file: 'e1.mp4', at: 10, verdict: 'expired' as const },
      { file: 'e1.mp4', at: 14, verdict: 'served' as const },
      { file: 'e2.mp4', at: 11, verdict: 'expired' as const },
    ];
    const refreshes: RefreshRecord[] = [
      { videoId: 'e1', atSec: 3, sentAtMs: 3000, code: 503, errorType: 'TemporalUnavailable', waitedSec: 1 },
      { videoId: 'e1', atSec: 5, sentAtMs: 5000, code: 202, waitedSec: 3, resumedSec: 0.4 },
    ];
    const facts = expiringFacts(uploads, new Map([['e3', 'ValidationError']]), (id) => `${id}.mp4`, fetches, refreshes);
    expect(facts).toEqual(
      new Map([
        ['e1', { expiredAnswers: 1, refreshesAccepted: 1, served: 1 }],
        ['e2', { expiredAnswers: 1, refreshesAccepted: 0, served: 0 }],
      ]),
    );
    const lines = refreshSummary(uploads, refreshes).join('\n');
    expect(lines).toContain(
      '3 uploads had an expiring URL (issued expired at submission); the operator sent 2 refreshes, 1 taken (202), the others answered 503 TemporalUnavailable ×1.',
    );
    expect(lines).toContain('p50 3.0 s, max 3.0 s; resumed (the new URL sent to its first download): p50 0.4 s, max 0.4 s.');
    expect(lines).toContain('| e1 | 1 | 3.0 s | 0.4 s |');
    expect(lines).toContain('| e2 | 0 | – | – |');
    expect(refreshSummary([uploads[3]!], [])).toEqual(['No upload had an expiring URL.']);
  });
});

describe('the worker host of the network cut', () => {
  // Seed 26 with 12 uploads and 6 faults schedules one cut (the media worker, 13 s).
  const withCut = planSoak({ seed: 26, uploads: 12, faults: 6, durationSec: 90 });

  test('a scheduled cut is injected where a lab host can be made, and named with its reason where it cannot', () => {
    expect(withCut.faults.filter((f) => f.kind === 'cut-worker-network')).toHaveLength(1);
    expect(notInjectedLines(withCut).join('\n')).not.toContain('cut-worker-network');
    expect(labNotInjected(withCut, 'network namespaces need root')).toBe('cut-worker-network ×1 (network namespaces need root)');
    expect(labNotInjected(withCut, undefined)).toBeUndefined();
    const noCut = planSoak({ seed: CI.seed, uploads: CI.uploads, faults: CI.faults, durationSec: CI.durationSec });
    expect(labNotInjected(noCut, 'network namespaces need root')).toBeUndefined();
  });

  test('a cut with no lab host is recorded as not injected, with the reason, and touches nothing', async () => {
    const cut = withCut.faults.find((f) => f.kind === 'cut-worker-network')!;
    // Only what the not-injected path may read: anything else it touched would throw.
    const soak = { workerHost: { role: undefined, problem: 'network namespaces need root' } } as unknown as SoakStack;
    const ctx = { soak, now: () => 42 } as unknown as FaultContext;
    const rec = await injectFault(cut, ctx);
    expect(rec).toMatchObject({ injected: false, note: 'not injected: network namespaces need root', startSec: 42, endSec: 42 });
    expect(rec.recoverySec).toBeUndefined();
  });

  test('the ports the host reaches come from addresses and URLs of every scheme, each once; nothing off loopback', () => {
    expect(
      loopbackPorts([
        '127.0.0.1:7233',
        'postgres://postgres:pw@127.0.0.1:5433/biblio',
        'http://127.0.0.1:9100/v1',
        'http://127.0.0.1:9100/other',
        'http://localhost:9000',
      ]),
    ).toEqual([5433, 7233, 9000, 9100]);
    expect(() => loopbackPorts(['http://10.0.0.5:9000'])).toThrow('only loopback endpoints');
    expect(() => loopbackPorts(['127.0.0.1'])).toThrow('no port');
  });

  test("recovery is the healed worker's first poll stamped at or after the heal, by its pid only", () => {
    const heal = 1_000_000_500;
    const at = (ms: number) => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });
    const pollers = [
      { identity: 'media@box:123', lastAccessTime: at(heal - 400) }, // before the heal: still cut off
      { identity: 'media@box:1234', lastAccessTime: at(heal + 100) }, // another process whose pid ends the same
      { identity: 'media@box:77', lastAccessTime: at(heal + 200) },
    ];
    expect(polledSince(pollers, 123, heal)).toBeUndefined();
    expect(polledSince([...pollers, { identity: 'media@box:123', lastAccessTime: at(heal + 2_300) }], 123, heal)).toBe(heal + 2_300);
    expect(polledSince([{ identity: 'media@box:123', lastAccessTime: null }], 123, heal)).toBeUndefined();
  });
});
