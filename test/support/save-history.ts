import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { temporalCliPath } from './temporal';

export const HISTORIES_DIR = path.resolve(__dirname, '..', 'fixtures', 'histories');

/**
 * Writes a closed workflow's history as a replay fixture, `<name>.json` (the file name is the id
 * the replay test reports). The CLI writes the canonical proto-JSON Worker.runReplayHistories reads.
 */
export async function saveHistory(address: string, workflowId: string, name: string): Promise<void> {
  const json = execFileSync(
    temporalCliPath(),
    ['workflow', 'show', '--workflow-id', workflowId, '--address', address, '--output', 'json'],
    {
      encoding: 'utf8',
    },
  );
  await writeFile(path.join(HISTORIES_DIR, `${name}.json`), json.endsWith('\n') ? json : `${json}\n`);
  console.log(`recorded ${name}: ${(JSON.parse(json) as { events: unknown[] }).events.length} events`);
}
