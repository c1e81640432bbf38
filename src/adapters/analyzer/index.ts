import type { Config } from '../../config';
import { OfflineAnalyzer } from './offline-analyzer';
import { OpenAiAnalyzer } from './openai-analyzer';
import type { Analyzer } from './port';

export type { Analyzer } from './port';

/** OpenAI (or a compatible endpoint) when configured; otherwise the offline analyzer, which says it is not AI. */
export function createAnalyzer(config: Pick<Config, 'openai'>): Analyzer {
  return config.openai ? new OpenAiAnalyzer(config.openai) : new OfflineAnalyzer();
}
