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
  const { repeatedPaid, unnamed } = repeatedPaidRequests(
    soak.fault.requests,
    soak.fault.billed,
    o.uploads.map((u) => u.id),
  );
  if (unnamed > 0)
    gaps.push(
      `repeated paid requests: ${unnamed} of ${soak.fault.billed.length} billed requests name no upload (e.g. a resumable upload's random key as its title), so their repeats are not counted`,
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
      repeatedPaid,
      repairBound: 1,
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
    histories,
  };
}

/**
 * Billed requests sent more than once with the same body for the same upload. The provider's log
 * has no video id: a request is the upload's when its body names the upload's id (the title, the
 * transcription chunk's file name), and the same path and body hash is the same request.
 */
export function repeatedPaidRequests(
  requests: readonly { requestId: string; body: unknown }[],
  billed: readonly { requestId: string; path: string }[],
  ids: readonly string[],
): { repeatedPaid: Snapshot['repeatedPaid']; unnamed: number } {
  const byId = new Map(requests.map((r) => [r.requestId, r]));
  const counts = new Map<string, { videoId: string; key: string; count: number }>();
  let unnamed = 0;
  for (const b of billed) {
    const body = JSON.stringify(byId.get(b.requestId)?.body ?? null);
    const videoId = ids.find((id) => body.includes(id));
    if (!videoId) {
      unnamed += 1;
      continue;
    }
    const key = `${b.path} ${createHash('sha256').update(body).digest('hex').slice(0, 12)}`;
    const c = counts.get(`${videoId} ${key}`) ?? { videoId, key, count: 0 };
    c.count += 1;
    counts.set(`${videoId} ${key}`, c);
  }
  return { repeatedPaid: [...counts.values()].filter((c) => c.count > 1), unnamed };
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
