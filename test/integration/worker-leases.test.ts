import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { WorkerLeasesRepo, type LeasedAttempt } from '../../src/db/worker-leases-repo';
import { LeaseWatchdog } from '../../src/workers/liveness';
import { createTestDatabase, type TestDatabase } from '../support/database';

// The liveness detector's queries on a real PostgreSQL: which attempts a watchdog may claim.
let db: TestDatabase;
let repo: WorkerLeasesRepo;

beforeAll(async () => {
  db = await createTestDatabase();
  repo = new WorkerLeasesRepo(db.pool);
});
afterAll(async () => {
  await db?.drop();
});

const attempt = (activityId: string): LeasedAttempt => ({
  taskToken: new TextEncoder().encode(`token-${activityId}-${randomUUID()}`),
  workflowId: 'video-v1',
  runId: 'run-1',
  activityId,
  activityType: 'encodeSegment',
  attempt: 1,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a live lease's attempts are never claimed; an expired lease's are claimed once, by one of two racing watchdogs", async () => {
  const live = randomUUID();
  const dead = randomUUID();
  await repo.renew(live, 'media@a:1', 60_000);
  await repo.renew(dead, 'media@b:2', 50);
  await repo.listAttempt(live, attempt('live-1'));
  await repo.listAttempt(dead, attempt('dead-1'));
  await repo.listAttempt(dead, { ...attempt('dead-2'), rescueQueue: 'media-rescue' });
  await sleep(200);
  const other = new WorkerLeasesRepo(db.pool);
  const [a, b] = await Promise.all([repo.claimOrphans(), other.claimOrphans()]);
  const claimed = [...a, ...b];
  expect(claimed.map((o) => o.activityId).sort()).toEqual(['dead-1', 'dead-2']);
  expect(claimed.every((o) => o.identity === 'media@b:2' && o.leaseId === dead && o.expiredForMs >= 100)).toBe(true);
  expect(claimed[0]!.taskToken).toBeInstanceOf(Uint8Array);
  expect(Object.fromEntries(claimed.map((o) => [o.activityId, o.rescueQueue]))).toEqual({ 'dead-1': null, 'dead-2': 'media-rescue' });
  expect(await repo.claimOrphans()).toEqual([]);
});

test('a grace keeps a just-expired lease from being claimed', async () => {
  const lease = randomUUID();
  await repo.renew(lease, 'media@c:3', 10);
  await repo.listAttempt(lease, attempt('grace-1'));
  await sleep(100);
  expect(await repo.claimOrphans(60_000)).toEqual([]);
  expect((await repo.claimOrphans()).map((o) => o.activityId)).toEqual(['grace-1']);
});

test('a worker that was only slow takes its lease again; its new attempts are covered, its reaped ones stay reaped', async () => {
  const lease = randomUUID();
  await repo.renew(lease, 'media@d:4', 10);
  await repo.listAttempt(lease, attempt('slow-1'));
  await sleep(100);
  expect((await repo.claimOrphans()).map((o) => o.activityId)).toEqual(['slow-1']);
  await repo.renew(lease, 'media@d:4', 60_000);
  await repo.listAttempt(lease, attempt('slow-2'));
  expect(await repo.claimOrphans()).toEqual([]);
});

test("the lease's expiry is the database's clock plus the TTL, whatever the worker's clock says", async () => {
  const lease = randomUUID();
  await repo.renew(lease, 'media@e:5', 2_500);
  const { rows } = await db.pool.query<{ ms: string }>(
    'SELECT extract(epoch FROM expires_at - now()) * 1000 AS ms FROM worker_leases WHERE id = $1',
    [lease],
  );
  expect(Number(rows[0]!.ms)).toBeGreaterThan(2_000);
  expect(Number(rows[0]!.ms)).toBeLessThanOrEqual(2_500);
});

test('graceful release removes the lease and what it still lists; an attempt under no lease is refused', async () => {
  const lease = randomUUID();
  await repo.renew(lease, 'media@f:6', 10);
  await repo.listAttempt(lease, attempt('released-1'));
  await repo.release(lease);
  await sleep(50);
  expect(await repo.claimOrphans()).toEqual([]);
  await expect(repo.listAttempt(lease, attempt('released-2'))).rejects.toThrow(/foreign key/);
});

test('expired leases that list nothing are forgotten after a while', async () => {
  const lease = randomUUID();
  await repo.renew(lease, 'media@g:7', 10);
  await sleep(100);
  expect(await repo.forgetExpired(60_000)).toBe(0);
  expect(await repo.forgetExpired(50)).toBeGreaterThanOrEqual(1);
  const { rowCount } = await db.pool.query('SELECT 1 FROM worker_leases WHERE id = $1', [lease]);
  expect(rowCount).toBe(0);
});

test("the watchdog waits a lease's life of database answers, then moves a lost attempt to its rescue queue and fails it as WorkerLost, once", async () => {
  const calls: string[] = [];
  // Records what the watchdog asks of Temporal (the kill tests in media-kill-retry.test.ts use the real server).
  const client = {
    options: { namespace: 'default' },
    workflowService: {
      updateActivityOptions: async (req: {
        id?: string;
        activityOptions?: { taskQueue?: { name?: string } };
        updateMask?: { paths?: string[] };
      }) => {
        calls.push(`move ${req.id} → ${req.activityOptions?.taskQueue?.name} (${req.updateMask?.paths?.join()})`);
        return {};
      },
    },
    activity: {
      fail: async (_token: Uint8Array, err: { type?: string }) => {
        calls.push(`fail ${err.type}`);
      },
    },
  } as unknown as ConstructorParameters<typeof LeaseWatchdog>[1];
  const watchdog = new LeaseWatchdog(repo, client, { ttlMs: 300, renewMs: 100 }, pino({ level: 'silent' }));
  const lease = randomUUID();
  await repo.renew(lease, 'media@h:8', 10);
  await repo.listAttempt(lease, { ...attempt('wd-1'), rescueQueue: 'media-rescue' });
  await sleep(50);
  expect(await watchdog.check()).toBe(0); // first answer: not trusted yet
  await sleep(350);
  expect(await watchdog.check()).toBe(1);
  expect(calls).toEqual(['move wd-1 → media-rescue (task_queue.name)', 'fail WorkerLost']);
  expect(await watchdog.check()).toBe(0);
});
