import { injectFault, NOT_INJECTED, type FaultContext } from '../../bench/soak/faults';
import { repeatedPaidRequests } from '../../bench/soak/gather';
import { CI, parseOptions, scaledClip } from '../../bench/soak/options';
import { percentile, renderSummary, renderTimeline, type RunFacts } from '../../bench/soak/report';
import { labNotInjected, notInjectedLines } from '../../bench/soak/run';
import { FAULT_KINDS, planSoak } from '../../bench/soak/schedule';
import type { SoakStack } from '../../bench/soak/soak-stack';
import { loopbackPorts, polledSince } from '../../bench/soak/worker-host';

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
      repairBound: 1,
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
    replayCommand: 'npm run soak -- --seed 3',
    notInjected: [],
  };
  const md = renderSummary(facts);
  expect(md).toContain('| ready (analysis complete) | 2 |');
  expect(md).toContain('- one gap');
  const svg = renderTimeline(facts);
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.match(/<rect x=/g)).toHaveLength(plan.faults.length);
});

test('a billed request repeated for the same upload is counted by the upload its body names; other uploads and unnamed ones are not mixed in', () => {
  const chat = (title: string, n = 1) => ({ model: 'm', messages: [{ role: 'user', content: `{"title":"${title}","n":${n}}` }] });
  const requests = [
    { requestId: 'a', body: chat('soak-1-0001.mp4') },
    { requestId: 'b', body: chat('soak-1-0001.mp4') },
    { requestId: 'c', body: chat('soak-1-0001.mp4') },
    { requestId: 'd', body: chat('soak-1-0001.mp4', 2) },
    { requestId: 'e', body: chat('soak-1-0002.mp4') },
    { requestId: 'f', body: chat('k-3f2a.mp4') },
  ];
  const billed = requests.map((r) => ({ requestId: r.requestId, path: '/v1/chat/completions' }));
  const out = repeatedPaidRequests(requests, billed, ['soak-1-0001', 'soak-1-0002']);
  expect(out.unnamed).toBe(1);
  expect(out.repeatedPaid).toEqual([
    { videoId: 'soak-1-0001', key: expect.stringMatching(/^\/v1\/chat\/completions [0-9a-f]{12}$/), count: 3 },
  ]);
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
