import type { Command } from 'commander';
import { ApiError, query, type ApiClient } from '../api-client';
import type { DeadLetterListResponse, DeadLetterResponse } from '../../contracts/http';
import { action, client, CliError, print, table } from '../context';

async function dlqCall<T>(fn: () => Promise<T>, api: ApiClient, what: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.type === 'RouteNotFound') {
      throw new CliError(`the dead-letter queue is not available on the server at ${api.baseUrl} (no ${what} route)`);
    }
    throw err;
  }
}

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('inspect, replay or discard dead-lettered videos');

  dlq
    .command('list')
    .description('list dead letters')
    .option('--state <state>', 'open, replayed or discarded')
    .option('--type <errorType>', 'only this typed failure (e.g. InvalidMedia)')
    .action(
      action(async (options: { state?: string; type?: string }, cmd: Command) => {
        const api = client(cmd);
        const body = await dlqCall(
          () => api.get<DeadLetterListResponse>(`/dead-letters${query({ state: options.state, type: options.type })}`),
          api,
          'GET /dead-letters',
        );
        const items = body.items;
        print(cmd, body, () => {
          if (items.length === 0) return 'no dead letters';
          const rows = [['ID', 'VIDEO', 'STATE', 'STEP', 'TYPE', 'ATTEMPTS', 'LAST FAILURE']];
          for (const d of items) {
            rows.push([d.id, d.videoId, d.state, d.step, d.errorType, String(d.attempts ?? ''), d.lastFailedAt]);
          }
          return table(rows);
        });
      }),
    );

  dlq
    .command('show')
    .description('show one dead letter: cause, attempts, input, link to the run')
    .argument('<id>')
    .action(
      action(async (id: string, _o: unknown, cmd: Command) => {
        const api = client(cmd);
        const d = await dlqCall(() => api.get<DeadLetterResponse>(`/dead-letters/${encodeURIComponent(id)}`), api, 'GET /dead-letters/:id');
        print(cmd, d, () => JSON.stringify(d, null, 2));
      }),
    );

  for (const verb of ['replay', 'discard'] as const) {
    dlq
      .command(verb)
      .description(
        verb === 'replay' ? 're-run from the failed step, reusing the outputs of steps that succeeded' : 'close it without re-running',
      )
      .argument('<id>')
      .action(
        action(async (id: string, _o: unknown, cmd: Command) => {
          const api = client(cmd);
          const res = await dlqCall(
            () => api.post<DeadLetterResponse>(`/dead-letters/${encodeURIComponent(id)}/${verb}`),
            api,
            `POST /dead-letters/:id/${verb}`,
          );
          print(cmd, res, () => `${verb === 'replay' ? 'replaying' : 'discarded'} dead letter ${id}`);
        }),
      );
  }
}
