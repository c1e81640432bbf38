import type { Command } from 'commander';
import { ApiError, type ApiClient } from '../api-client';
import type { KeyCreatedResponse, KeyListResponse } from '../../contracts/http';
import { action, client, CliError, print, table } from '../context';

async function keysCall<T>(api: ApiClient, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.type === 'RouteNotFound') {
      throw new CliError(`the server at ${api.baseUrl} has no key API; on the server, run \`npm run keys -- --help\``);
    }
    throw err;
  }
}

/** API keys through the API (operator key required). */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('create, list and revoke API keys (needs an operator key)');
  keys
    .command('create')
    .description('create a key; the secret is shown once')
    .option('--role <role>', 'viewer (read), uploader (read + submit) or operator (everything)', 'uploader')
    .option('--name <name>', 'a label to recognise it by')
    .action(
      action(async (options: { role: string; name?: string }, cmd: Command) => {
        const api = client(cmd);
        const k = await keysCall(api, () =>
          api.post<KeyCreatedResponse>('/keys', { role: options.role, ...(options.name ? { name: options.name } : {}) }),
        );
        print(cmd, k, () => `created ${k.role} key ${k.id}\n${k.key}\n(shown once: store it now)`);
      }),
    );
  keys
    .command('list')
    .description('list keys (never their secrets)')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const api = client(cmd);
        const body = await keysCall(api, () => api.get<KeyListResponse>('/keys'));
        const items = body.keys;
        print(cmd, body, () =>
          items.length === 0
            ? 'no keys'
            : table([
                ['ID', 'ROLE', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'],
                ...items.map((k) => [k.id, k.role, k.name, k.createdAt, k.lastUsedAt ?? '', k.revokedAt ?? '']),
              ]),
        );
      }),
    );
  keys
    .command('revoke')
    .description('revoke a key at once')
    .argument('<id>')
    .action(
      action(async (id: string, _o: unknown, cmd: Command) => {
        const api = client(cmd);
        const res = await keysCall(api, () => api.request<unknown>('DELETE', `/keys/${encodeURIComponent(id)}`));
        print(cmd, res ?? { ok: true }, () => `revoked key ${id}`);
      }),
    );
}
