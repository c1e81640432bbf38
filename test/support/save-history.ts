import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { temporalCliPath } from './temporal';

export const HISTORIES_DIR = path.resolve(__dirname, '..', 'fixtures', 'histories');

/**
 * The payload key the fixtures were recorded with (a fixed test value, not a secret): URL
 * payloads are encrypted in history, and the replay test decodes them with it.
 */
export const FIXTURE_PAYLOAD_KEY = Buffer.alloc(32, 18).toString('base64');

/**
 * Writes a closed workflow's history as a replay fixture, `<name>.json` (the file name is the id
 * the replay test reports). The CLI writes the canonical proto-JSON Worker.runReplayHistories reads.
 */
export async function saveHistory(address: string, workflowId: string, name: string): Promise<void> {
  const json = execFileSync(
    temporalCliPath(),
    ['workflow', 'show', '--workflow-id', workflowId, '--address', address, '--output', 'json'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  await writeFile(path.join(HISTORIES_DIR, `${name}.json`), json.endsWith('\n') ? json : `${json}\n`);
  console.log(`recorded ${name}: ${(JSON.parse(json) as { events: unknown[] }).events.length} events`);
}
