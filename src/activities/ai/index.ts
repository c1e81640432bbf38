import { Context } from '@temporalio/activity';
import type { Analyzer } from '../../adapters/analyzer/port';
import { writeEmbeddingArtifact } from '../../artifacts/embedding-artifact';
import type { AnalyzeInput, AnalyzeOutput } from '../../workflows/contracts';

export interface AiDeps {
  analyzer: Analyzer;
  artifactsDir: string;
}

export function createAiActivities(deps: AiDeps) {
  return {
    /** Summary, tags and an embedding for one video; the embedding goes to an artifact file. */
    async analyze(input: AnalyzeInput): Promise<AnalyzeOutput> {
      const ctx = Context.current();
      ctx.heartbeat({ phase: 'analyze', percent: 0 });
      const result = await deps.analyzer.analyze({
        videoId: input.videoId,
        title: input.title,
        facts: input.facts,
        signal: ctx.cancellationSignal,
      });
      const embeddingPath = await writeEmbeddingArtifact(deps.artifactsDir, {
        videoId: input.videoId,
        analyzer: deps.analyzer.name,
        model: deps.analyzer.model,
        vector: result.embedding,
      });
      ctx.heartbeat({ phase: 'analyze', percent: 100 });
      ctx.log.info('analyzed', {
        videoId: input.videoId,
        analyzer: deps.analyzer.name,
        model: deps.analyzer.model,
        dim: result.embedding.length,
      });
      return {
        analyzer: deps.analyzer.name,
        model: deps.analyzer.model,
        dim: result.embedding.length,
        offline: deps.analyzer.offline,
        summary: result.summary,
        tags: result.tags,
        embeddingPath,
      };
    },
  };
}

export type AiActivities = ReturnType<typeof createAiActivities>;
