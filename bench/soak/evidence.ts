/**
 * What a failed soak leaves behind to be diagnosed after its stack is gone: the Temporal history
 * of every run of each upload a violation names, and every worker's log (all of its processes,
 * the replaced ones first). Written only when an invariant was violated: a green run keeps nothing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Violation } from './invariants';
import { ROLES, type SoakStack } from './soak-stack';

export interface Evidence {
  dir: string;
  histories: string[];
  logs: string[];
}

export async function writeEvidence(soak: SoakStack, violations: readonly Violation[], outDir: string): Promise<Evidence> {
  const dir = path.join(outDir, 'soak-evidence');
  await mkdir(dir, { recursive: true });
  const videoIds = new Set(violations.flatMap((v) => (v.videoId ? [v.videoId] : [])));
  const histories: string[] = [];
  for await (const w of soak.client.workflow.list()) {
    if (![...videoIds].some((id) => w.workflowId.includes(id))) continue;
    const history = await soak.client.workflow
      .getHandle(w.workflowId, w.runId)
      .fetchHistory()
      .catch(() => undefined);
    if (!history) continue;
    // Payloads stay encrypted (the run's payload key is gone with it); failures, attempts and timings read as they are.
    const file = path.join(dir, `${w.workflowId}.${w.runId}.history.json`);
    await writeFile(file, historyToJSON(history));
    histories.push(file);
  }
  const logs: string[] = [];
  for (const role of ROLES) {
    const file = path.join(dir, `worker-${role}.log.gz`);
    await writeFile(file, gzipSync(soak.workerLog(role)));
    logs.push(file);
  }
  await writeFile(path.join(dir, 'violations.json'), JSON.stringify(violations, null, 2));
  return { dir, histories, logs };
}
