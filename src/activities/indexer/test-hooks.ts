import { Context } from '@temporalio/activity';
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Test hook (BIBLIO_TEST_STALL_AFTER_COMMIT, never set in production): after an activity's
 * commit, the first attempt for a video stalls and says so in the log, so a chaos test can
 * kill -9 the worker exactly between "work committed" and "completion reported". Entries are
 * `activity` (every video) or `activity:videoId` (one video). A marker file makes the retry
 * (on a restarted worker) go through.
 */
export async function stallAfterCommit(
  hooks: { stallAfterCommit: string[]; markerDir: string } | undefined,
  activity: string,
  videoId: string,
) {
  if (!hooks || !(hooks.stallAfterCommit.includes(activity) || hooks.stallAfterCommit.includes(`${activity}:${videoId}`))) return;
  const marker = path.join(hooks.markerDir, `stalled-${activity}-${videoId}`);
  if (existsSync(marker)) return;
  await mkdir(hooks.markerDir, { recursive: true });
  await writeFile(marker, String(process.pid));
  Context.current().log.warn('test hook: stalling after commit', { activity, videoId, pid: process.pid });
  // Not heartbeating: once the worker is killed, the heartbeat timeout hands the task on.
  await new Promise((resolve) => setTimeout(resolve, 10 * 60_000));
}
