/**
 * DELETE /videos/:id as the deleteVideo saga (src/workflows/delete-video.ts) with stub clean-up
 * activities: the order that keeps a half-finished deletion visible and retried.
 */
import { WorkflowHarness } from './harness';

const harness = new WorkflowHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

test('deletes in order: tombstone → cancel the run → files → vector points → row, all on the index queue', async () => {
  await harness.run(
    'delete',
    () => ({}),
    async ({ videoId, queues, calls, startDeleteVideo }) => {
      const handle = await startDeleteVideo({ videoId, queues });
      const result = await handle.result();

      expect(calls.calls.map((c) => [c.name, c.taskQueue])).toEqual([
        ['tombstoneVideo', queues.index],
        ['cancelVideoRun', queues.index],
        ['removeVideoFiles', queues.index],
        ['removeVideoPoints', queues.index],
        ['purgeVideoRow', queues.index],
      ]);
      // Each step starts only after the one before it finished.
      for (const [before, after] of calls.calls.slice(0, -1).map((c, i) => [c, calls.calls[i + 1]] as const)) {
        expect(before.endSeq).toBeLessThan(after?.startSeq ?? -1);
      }
      expect(calls.of('cancelVideoRun')[0]?.input).toEqual({ workflowId: `video-${videoId}` });
      expect(result).toEqual({ videoId, existed: true, cancelledRun: true, filesRemoved: 3, pointsRemoved: 2 });
    },
  );
});

test('a video without a run skips the cancel and still removes files, points and row', async () => {
  await harness.run(
    'delete-no-run',
    () => ({ tombstoneVideo: async () => ({ existed: true, workflowId: null }) }),
    async ({ videoId, queues, calls, startDeleteVideo }) => {
      const handle = await startDeleteVideo({ videoId, queues });
      const result = await handle.result();

      expect(calls.names()).toEqual(['tombstoneVideo', 'removeVideoFiles', 'removeVideoPoints', 'purgeVideoRow']);
      expect(result.cancelledRun).toBe(false);
    },
  );
});
