import { z } from 'zod';
import type { ConfigArea } from './area';
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
  }),
} satisfies ConfigArea;

export function apiConfig(e: z.output<typeof apiArea.variables>) {
  return { api: { host: e.API_HOST, port: e.API_PORT, maxSourceBytes: e.MAX_SOURCE_BYTES } };
}
