import type { Pool } from 'pg';
import { AiDeferralsRepo } from './ai-deferrals-repo';
import { ApiKeysRepo } from './api-keys-repo';
import { DeadLettersRepo } from './dead-letters-repo';
import { StartOutboxRepo } from './start-outbox-repo';
import { StepResultsRepo } from './step-results-repo';
import { TextSearchRepo } from './text-search-repo';
import { UploadsRepo } from './uploads-repo';
import { UsageLedgerRepo } from './usage-ledger-repo';
import { VideoIndexRepo } from './video-index-repo';
import { VideoProgressRepo } from './video-progress-repo';
import { VideosRepo } from './videos-repo';

/** Every repository of the main database, over one pool. */
export interface Repositories {
  videos: VideosRepo;
  videoIndex: VideoIndexRepo;
  uploads: UploadsRepo;
  deadLetters: DeadLettersRepo;
  startOutbox: StartOutboxRepo;
  apiKeys: ApiKeysRepo;
  usageLedger: UsageLedgerRepo;
  stepResults: StepResultsRepo;
  aiDeferrals: AiDeferralsRepo;
  videoProgress: VideoProgressRepo;
  textSearch: TextSearchRepo;
}

/**
 * Built once per process, in its composition root (src/api/main.ts, each src/workers entry),
 * and handed to the services and activity factories that need them: nothing below builds its
 * own, so a test can pass doubles and every part of a process shares one pool.
 */
export function createRepositories(pool: Pool): Repositories {
  return {
    videos: new VideosRepo(pool),
    videoIndex: new VideoIndexRepo(pool),
    uploads: new UploadsRepo(pool),
    deadLetters: new DeadLettersRepo(pool),
    startOutbox: new StartOutboxRepo(pool),
    apiKeys: new ApiKeysRepo(pool),
    usageLedger: new UsageLedgerRepo(pool),
    stepResults: new StepResultsRepo(pool),
    aiDeferrals: new AiDeferralsRepo(pool),
    videoProgress: new VideoProgressRepo(pool),
    textSearch: new TextSearchRepo(pool),
  };
}
