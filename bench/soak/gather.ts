/**
 * What the system holds at the end of a soak, in the shape the invariant checker reads
 * (invariants.ts `Snapshot`): the API's answers, the main database, the vector store, the fault
 * server's billing log, /proc, the data dir, the published media (ffprobe) and every workflow
 * history (replayed against the current workflow code). What it cannot gather yet it says in
 * `gaps`, which the summary prints.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { collectionName } from '../../src/adapters/vector-store/port';
import type { VideoStatus } from '../../src/app/status';
import { loadDataConverter } from '../../src/temporal/data-converter';
import { activeFfmpeg } from './faults';
import type { Outcome, Snapshot, StatusSample } from './invariants';
import { mapLimit, verifyMedia } from './media-check';
import { gatherObjectLeftovers } from './object-store';
import type { UploadSpec } from './schedule';
import type { SoakStack } from './soak-stack';

export interface Gathered {
  snapshot: Snapshot;
  /** Fields the soak could not gather (yet), each with the reason; printed in the summary. */
  gaps: string[];
  /** Activity attempts beyond the first, over every history (work redone). */
  retriedAttempts: number;
  /** The vector spaces (collection names) each video has points in: where a wrong count came from. */
  pointSpaces: Map<string, string[]>;
  /** Cost as the ledger has it, per kind (quantity summed). */
  ledgerByKind: Map<string, number>;
  /** How the billed requests were attributed to uploads (for the repeat check). */
  attribution: Attribution;
  histories: number;
}

export async function statusOf(soak: SoakStack, id: string): Promise<{ code: number; body?: VideoStatus }> {
  const res = await soak.api.app.inject({ method: 'GET', url: `/videos/${id}` });
  return { code: res.statusCode, body: res.statusCode === 200 ? (res.json() as VideoStatus) : undefined };
}

/** What a status answer says, in the checker's words. */
export function said(s: { code: number; body?: VideoStatus }): string {
  if (s.code === 404) return 'not-found';
  return s.body?.status ?? `http-${s.code}`;
}

export function outcomeOf(s: { code: number; body?: VideoStatus }, deleted: boolean): Outcome {
  if (s.code === 404) return { status: deleted ? 'deleted' : 'missing' };
  const b = s.body;
  if (!b) return { status: 'running' };
  if (b.status === 'ready') {
    const analysis = b.analysis === 'delayed' ? 'delayed' : b.analysis === null ? 'pending' : 'complete';
    return { status: 'ready', analysis, ...(analysis === 'delayed' && b.lastError ? { analysisReason: b.lastError.type } : {}) };
  }
  if (b.status === 'failed') {
    const e = b.lastError;
    return { status: 'failed', ...(e ? { errorType: e.type, errorDetail: `${e.step ?? '?'}: ${e.message.slice(0, 200)}` } : {}) };
  }
  return { status: 'running' };
}

export async function gatherSnapshot(o: {
  soak: SoakStack;
  uploads: UploadSpec[];
  deleted: Set<string>;
  /** Submissions the API refused, with the typed reason it gave (a poison refused at the door). */
  refused: Map<string, string>;
  /** Seconds each valid input lasts, for the ffprobe comparison. */
  sourceSec: Map<string, number>;
  samples: StatusSample[];
  /** The expiring URL sources as the source server and the operator saw them (expiring.ts). */
  expiringSources: Snapshot['expiringSources'];
}): Promise<Gathered> {
  const { soak } = o;
  const gaps: string[] = [];
  const outcomes = new Map<string, Outcome>();
  const ready: { id: string; status: VideoStatus }[] = [];
  for (const u of o.uploads) {
    const refusedAs = o.refused.get(u.id);
    if (refusedAs !== undefined) {
      outcomes.set(u.id, { status: 'failed', errorType: refusedAs });
      continue;
    }
    const s = await statusOf(soak, u.id);
    const out = outcomeOf(s, o.deleted.has(u.id));
    outcomes.set(u.id, out);
    if (out.status === 'ready' && s.body) ready.push({ id: u.id, status: s.body });
  }
  for (const x of o.samples) x.ended = outcomes.get(x.videoId)?.status ?? 'missing';

  const pool = soak.stack.db.pool;
  // A row that claims the video is indexed (ready, not deleted): failed runs keep a failed row by design.
  const rowsRes = await pool.query<{ id: string; n: number }>(
    `SELECT id, count(*)::int AS n FROM videos WHERE deleted_at IS NULL AND status = 'ready' GROUP BY id`,
  );
  const rows = new Map(rowsRes.rows.map((r) => [r.id, r.n]));

  const points = new Map<string, number>();
  const pointSpaces = new Map<string, string[]>();
  const store = await LanceDbVectorStore.open(path.join(soak.dataDir, 'lancedb'));
  try {
    for (const space of await store.listSpaces()) {
      let cursor: string | undefined;
      do {
        const page = await store.scan(space, { limit: 500, ...(cursor ? { cursor } : {}) });
        for (const p of page.points) {
          const id = typeof p.payload['videoId'] === 'string' ? p.payload['videoId'] : p.id;
          points.set(id, (points.get(id) ?? 0) + 1);
          pointSpaces.set(id, [...(pointSpaces.get(id) ?? []), collectionName(space)]);
        }
        cursor = page.next;
      } while (cursor);
    }
  } finally {
    await store.close();
  }

  // Billing in paid requests: every provider request id the ledger charged to a video, against
  // the provider's log of what it billed; a billed request no ledger row names is charged to no one.
  const ledgerRes = await pool.query<{ video_id: string; kind: string; quantity: number; request_id: string | null }>(
    `SELECT video_id, kind, quantity, request_id FROM usage_ledger`,
  );
  const ledgerByKind = new Map<string, number>();
  const ledger = new Map<string, number>();
  const billed = new Map<string, number>();
  const billedIds = new Set(soak.fault.billed.map((b) => b.requestId));
  const charged = new Set<string>();
  for (const r of ledgerRes.rows) {
    ledgerByKind.set(r.kind, (ledgerByKind.get(r.kind) ?? 0) + r.quantity);
    if (!r.request_id) continue;
    charged.add(r.request_id);
    ledger.set(r.video_id, (ledger.get(r.video_id) ?? 0) + 1);
    if (billedIds.has(r.request_id)) billed.set(r.video_id, (billed.get(r.video_id) ?? 0) + 1);
  }
  const unattributed = soak.fault.billed.filter((b) => !charged.has(b.requestId)).length;
  if (unattributed > 0) billed.set('(billed, charged to no video)', unattributed);
  const attribution = attributeBilledRequests(
    soak.fault.requests,
    soak.fault.billed,
    o.uploads.map((u) => u.id),
    new Map(ledgerRes.rows.flatMap((r) => (r.request_id ? [[r.request_id, r.video_id] as const] : []))),
  );
  if (attribution.unattributed > 0)
    gaps.push(
      `repeated paid requests: ${attribution.unattributed} of ${soak.fault.billed.length} billed requests could not be attributed to an upload (no ledger row, no upload id in the body, no attributed twin), so their repeats are not counted`,
    );

  const scratchFiles: string[] = [];
  // On MinIO from the store itself (ListMultipartUploads, ListObjectsV2); on the disk store from `objects/` below.
  const onS3 = await gatherObjectLeftovers(soak.objects, o.deleted);
  const openMultipart: string[] = onS3?.openMultipart ?? [];
  const objectsOfDeleted = onS3?.objectsOfDeleted ?? new Map<string, string[]>([...o.deleted].map((id) => [id, []]));
  await walk(soak.dataDir, (rel, isDir) => {
    const base = path.basename(rel);
    if (/\.attempt-\d+(\.pid-\d+)?$/.test(base) || /\.tmp-\d+-\d+$/.test(base)) scratchFiles.push(rel);
    if (onS3) return;
    if (isDir && path.dirname(rel) === path.join('objects', '.parts')) openMultipart.push(rel);
    if (rel.startsWith('objects') && !isDir) for (const id of o.deleted) if (rel.includes(id)) objectsOfDeleted.get(id)!.push(rel);
  });

  const media = new Map<string, { ok: boolean; detail?: string }>();
  const probeDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-soak-probe-'));
  try {
    // Two at a time: the ladders' segments are fetched and probed, on two shared cores.
    const hasAudio = new Map(o.uploads.map((u) => [u.id, u.media.kind === 'valid' && u.media.shape !== 'no-audio']));
    const verdicts = await mapLimit(ready, 2, (r) =>
      verifyMedia(soak.api, r.status, { durationSec: o.sourceSec.get(r.id), hasAudio: hasAudio.get(r.id) ?? false }, probeDir),
    );
    ready.forEach((r, i) => media.set(r.id, verdicts[i]!));
  } finally {
    await rm(probeDir, { recursive: true, force: true });
  }

  const { replay, retriedAttempts, histories } = await replayAll(soak);
  return {
    snapshot: {
      uploads: o.uploads,
      deletedByOperator: o.deleted,
      outcomes,
      rows,
      points,
      // One point per ready video: the indexer writes one (moments are not indexed as points).
      expectedPoints: () => 1,
      ledger,
      billed,
      repeatedPaid: attribution.repeatedPaid,
      misattributedPaid: attribution.misattributed,
      repairBound: 1,
      expiringSources: o.expiringSources,
      ffmpegPids: await activeFfmpeg(soak.dataDir),
      scratchFiles,
      openMultipart,
      objectsOfDeleted,
      media,
      statusSamples: o.samples,
      replay,
    },
    gaps,
    pointSpaces,
    retriedAttempts,
    ledgerByKind,
    attribution,
    histories,
  };
}

/** How the provider's billed requests were attributed to uploads, and what the repeat check found. */
export interface Attribution {
  /** Billed requests sent more than once with the same path and body for the same upload. */
  repeatedPaid: Snapshot['repeatedPaid'];
  /** Attributed by the ledger row that names the request's id (the product's own charge). */
  byLedger: number;
  /** No ledger row: attributed by the upload id the body names (title, file name). */
  byBody: number;
  /** Neither: attributed as the same path and body as a request attributed to exactly one upload. */
  byTwin: number;
  unattributed: number;
  /** Requests whose body names one upload while the ledger charges another. */
  misattributed: Snapshot['misattributedPaid'];
}

/**
 * Which upload each billed request belongs to, and the ones sent more than once for the same
 * upload. The provider's log has no video id. A billed request is the upload's that the ledger
 * charges it to (by the provider's request id, which every upload kind's requests carry);
 * failing that, the upload whose id its body names (a title, a file name: a resumable upload's
 * title is its random key, so not every body names one); failing both, the upload of an
 * attributed request with the same path and body. Where the body names one upload and the
 * ledger charges another, the charge is wrong and is reported. The same path, body and uploaded
 * file (name and size: transcription chunks differ only in it) is the same request.
 */
export function attributeBilledRequests(
  requests: readonly { requestId: string; body: unknown; file?: { name: string; bytes: number } }[],
  billed: readonly { requestId: string; path: string }[],
  ids: readonly string[],
  ledgerVideoOf: ReadonlyMap<string, string>,
): Attribution {
  const byId = new Map(requests.map((r) => [r.requestId, r]));
  const out: Attribution = { repeatedPaid: [], byLedger: 0, byBody: 0, byTwin: 0, unattributed: 0, misattributed: [] };
  const keyed = billed.map((b) => {
    const r = byId.get(b.requestId);
    const body = JSON.stringify(r?.body ?? null);
    const hashed = JSON.stringify({ body: r?.body ?? null, ...(r?.file ? { file: r.file } : {}) });
    const key = `${b.path} ${createHash('sha256').update(hashed).digest('hex').slice(0, 12)}`;
    const named = ids.find((id) => body.includes(id) || (r?.file?.name.includes(id) ?? false));
    return { requestId: b.requestId, key, named, charged: ledgerVideoOf.get(b.requestId) };
  });
  const owner = new Map<string, string | undefined>();
  for (const k of keyed) {
    if (k.named && k.charged && k.named !== k.charged)
      out.misattributed.push({ requestId: k.requestId, named: k.named, charged: k.charged });
    if (k.charged) out.byLedger += 1;
    else if (k.named) out.byBody += 1;
    const video = k.charged ?? k.named;
    if (!video) continue;
    // A key seen under two uploads has no single owner for the twin rule.
    owner.set(k.key, owner.has(k.key) && owner.get(k.key) !== video ? undefined : video);
  }
  const counts = new Map<string, { videoId: string; key: string; count: number }>();
  for (const k of keyed) {
    let video = k.charged ?? k.named;
    if (!video) {
      video = owner.get(k.key);
      if (video) out.byTwin += 1;
      else {
        out.unattributed += 1;
        continue;
      }
    }
    const c = counts.get(`${video} ${k.key}`) ?? { videoId: video, key: k.key, count: 0 };
    c.count += 1;
    counts.set(`${video} ${k.key}`, c);
  }
  out.repeatedPaid = [...counts.values()].filter((c) => c.count > 1);
  return out;
}

async function walk(root: string, visit: (rel: string, isDir: boolean) => void): Promise<void> {
  const go = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, e.name);
      const rel = path.relative(root, full);
      // Temporal's own database and the vector store's files are not the pipeline's scratch.
      if (rel === 'temporal' || rel === 'lancedb') continue;
      visit(rel, e.isDirectory());
      if (e.isDirectory()) await go(full);
    }
  };
  await go(root);
}

/** Every workflow the dev server knows, fetched and replayed against dist/workflow-bundle.js (or the sources). */
async function replayAll(soak: SoakStack): Promise<{ replay: Snapshot['replay']; retriedAttempts: number; histories: number }> {
  const infos: WorkflowExecutionInfo[] = [];
  for await (const w of soak.client.workflow.list()) infos.push(w);
  const histories = [];
  let retriedAttempts = 0;
  for (const w of infos) {
    const history = await soak.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const attempt = e.activityTaskStartedEventAttributes?.attempt;
      if (attempt && attempt > 1) retriedAttempts += attempt - 1;
    }
    histories.push({ workflowId: `${w.workflowId}/${w.runId}`, history });
  }
  quietReplayLogs();
  const bundle = path.resolve(__dirname, '..', '..', 'dist', 'workflow-bundle.js');
  const dataConverter = await loadDataConverter({ dataDir: soak.dataDir });
  const replay: Snapshot['replay'] = [];
  const opts = existsSync(bundle)
    ? { workflowBundle: { codePath: bundle }, dataConverter }
    : { workflowsPath: require.resolve('../../src/workflows'), dataConverter };
  for await (const r of Worker.runReplayHistories(opts, histories))
    replay.push({ workflowId: r.workflowId, ok: r.error === undefined, ...(r.error ? { error: String(r.error) } : {}) });
  return { replay, retriedAttempts, histories: histories.length };
}

/**
 * Replay workers log every state change, and an error for each sink call the replayed code makes
 * (replay registers no sinks, and needs none): the soak's output keeps only real warnings.
 */
function quietReplayLogs(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN', (entry) => {
        if (!entry.message.includes('unregistered external sink')) console.error(`[${entry.level}] ${entry.message}`);
      }),
    });
  } catch {
    // Installed already (a second gather in one process): keep it.
  }
}
