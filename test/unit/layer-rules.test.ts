import path from 'node:path';
import { ESLint } from 'eslint';

// The layer rule of eslint.config.js, run through ESLint itself on snippets placed in each
// folder: removing a direction from the config fails here, not silently in review.
const root = path.resolve(__dirname, '..', '..');
// The config is handed over rather than found: ESLint loads config files with a dynamic
// import(), which Jest's module sandbox does not offer.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- eslint.config.js is CommonJS
const config = require(path.join(root, 'eslint.config.js')) as ESLint.Options['overrideConfig'];
const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: config });

async function restrictedImports(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the layer rule', () => {
  test.each([
    ['src/app/snippet.ts', "import { HttpError } from '../api/http-error';"],
    ['src/app/snippet.ts', "import Fastify from 'fastify';"],
    ['src/app/snippet.ts', "import { createIndexerActivities } from '../activities/indexer';"],
    ['src/cli/snippet.ts', "import { VideosRepo } from '../db/videos-repo';"],
    ['src/cli/commands/snippet.ts', "import { VideoService } from '../../app/video-service';"],
    ['src/cli/snippet.ts', "import { loadConfig } from '../config';"],
    ['src/demo/snippet.ts', "import { buildApp } from '../api/app';"],
    ['src/activities/indexer/snippet.ts', "import { VideoService } from '../../app/video-service';"],
    ['src/db/snippet.ts', "import { createIndexerActivities } from '../activities/indexer';"],
    ['src/media/snippet.ts', "import { buildApp } from '../api/app';"],
  ])('%s may not: %s', async (file, code) => {
    expect(await restrictedImports(file, `${code}\nexport const x = 1;\n`)).toHaveLength(1);
  });

  test.each([
    ['src/app/snippet.ts', "import { VideosRepo } from '../db/videos-repo';"],
    ['src/api/snippet.ts', "import { VideoService } from '../app/video-service';"],
    ['src/cli/snippet.ts', "import type { VideoStatus } from '../contracts/http';"],
    ['src/cli/snippet.ts', "import { ApiError } from './api-client';"],
    ['src/activities/indexer/snippet.ts', "import { VideosRepo } from '../../db/videos-repo';"],
    ['src/demo/snippet.ts', "import { createPool } from '../db/database';"],
  ])('%s may: %s', async (file, code) => {
    expect(await restrictedImports(file, `${code}\nexport const x = 1;\n`)).toEqual([]);
  });
});
