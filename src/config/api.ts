import { z } from 'zod';
import type { ConfigArea } from './area';
import { DEFAULT_MAX_WATCHERS } from '../app/status-watch-hub';
import { positiveInt, tcpPort } from './fields';

export const apiArea = {
  title: 'HTTP API',
  about: 'Where the API listens and how large a source it takes.',
  variables: z.object({
    API_HOST: z.string().default('127.0.0.1').describe('Interface the HTTP API listens on.'),
    API_PORT: tcpPort.default(3000).describe('TCP port of the HTTP API.'),
    MAX_SOURCE_BYTES: positiveInt
      .default(2 * 1024 ** 3)
      .describe('Largest file or URL source the pipeline accepts, in bytes; larger ones fail as SourceTooLarge.'),
    API_MAX_EVENT_STREAMS: positiveInt
      .default(DEFAULT_MAX_WATCHERS)
      .describe('Concurrent status event streams (GET /videos/:id/events) one API process serves; more are answered 503 Overloaded.'),
  }),
} satisfies ConfigArea;

export function apiConfig(e: z.output<typeof apiArea.variables>) {
  return { api: { host: e.API_HOST, port: e.API_PORT, maxSourceBytes: e.MAX_SOURCE_BYTES, maxEventStreams: e.API_MAX_EVENT_STREAMS } };
}
