import { defineQuery } from '@temporalio/workflow';
import type { PipelineState } from './contracts';

/** Queries and signals, apart from workflow code so clients can import them without the workflow. */
export const statusQuery = defineQuery<PipelineState>('status');
