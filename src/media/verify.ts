import { open } from 'node:fs/promises';
import type { MediaFacts } from '../workflows/contracts';
import type { StreamPlan } from './probe';

/**
 * True when the MP4's `moov` box comes before `mdat` (+faststart): a browser can start
 * playing before the whole file has arrived. Walks the top-level boxes from the start.
 */
export async function isFaststart(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    let offset = 0;
    const head = Buffer.alloc(16);
    for (let i = 0; i < 64 && offset + 8 <= size; i++) {
      const { bytesRead } = await fh.read(head, 0, 16, offset);
      if (bytesRead < 8) return false;
      let boxSize = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (boxSize === 1 && bytesRead >= 16) boxSize = Number(head.readBigUInt64BE(8));
      if (type === 'moov') return true;
      if (type === 'mdat') return false;
      if (boxSize < 8) return false;
      offset += boxSize;
    }
    return false;
  } finally {
    await fh.close();
  }
}

/** Problems with a finished rendition, each a sentence; empty = playable in every browser. */
export function renditionProblems(rendition: MediaFacts, plan: StreamPlan, faststart: boolean): string[] {
  const problems: string[] = [];
  if (rendition.videoCodec !== 'h264') problems.push(`video codec is ${rendition.videoCodec}, not h264`);
  if (plan.pixelFormat !== 'yuv420p') problems.push(`pixel format is ${plan.pixelFormat ?? 'unknown'}, not yuv420p`);
  if (rendition.width % 2 !== 0 || rendition.height % 2 !== 0) problems.push(`size ${rendition.width}x${rendition.height} is not even`);
  if (!faststart) problems.push('the moov box is not at the front (no faststart)');
  return problems;
}
