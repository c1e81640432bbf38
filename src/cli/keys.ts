// `npm run keys -- create --role operator [--name NAME] | list | revoke ID`: API key admin on the
// main database (DATABASE_URL). The plaintext key is printed once at creation and never stored.
import { isRole, ROLES } from '../auth/roles';
import { loadConfig } from '../config';
import { ApiKeysRepo } from '../db/api-keys-repo';
import { createPool, ensureDatabase, migrate } from '../db/database';
import { noControlChars } from '../security/control-chars';
import { printable } from './context';

const USAGE = `usage: npm run keys -- create --role ${ROLES.join('|')} [--name NAME] [--json]
       npm run keys -- list [--json]
       npm run keys -- revoke KEY_ID`;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function runKeysCli(args: string[], out: (line: string) => void = console.log): Promise<number> {
  const [command, ...rest] = args;
  if (!command || !['create', 'list', 'revoke'].includes(command)) {
    out(USAGE);
    return 2;
  }
  const config = loadConfig();
  await ensureDatabase(config.databaseUrl);
  await migrate(config.databaseUrl);
  const pool = createPool(config.databaseUrl, 1);
  const keys = new ApiKeysRepo(pool);
  const json = rest.includes('--json');
  try {
    if (command === 'create') {
      const role = flag(rest, 'role') ?? '';
      if (!isRole(role)) {
        out(`--role must be one of ${ROLES.join(', ')}\n${USAGE}`);
        return 2;
      }
      const name = flag(rest, 'name') ?? '';
      if (!noControlChars(name)) {
        out(`--name must not contain control characters\n${USAGE}`);
        return 2;
      }
      const { key, row } = await keys.create(role, name);
      out(
        json
          ? JSON.stringify({ id: row.id, role: row.role, name: row.name, key })
          : `created ${row.role} key ${row.id}: ${key}\n(shown once; store it now)`,
      );
      return 0;
    }
    if (command === 'list') {
      const rows = await keys.list();
      if (json) out(JSON.stringify(rows));
      // A name stored before names were checked could hold a terminal escape: printed inert.
      else for (const r of rows) out(`${r.id}  ${r.role.padEnd(8)}  ${r.revokedAt ? 'revoked' : 'live   '}  ${printable(r.name)}`);
      return 0;
    }
    const id = rest[0];
    if (!id) {
      out(USAGE);
      return 2;
    }
    const revoked = await keys.revoke(id);
    out(revoked ? `revoked ${id}` : `no live key ${id}`);
    return revoked ? 0 : 1;
  } finally {
    await pool.end();
  }
}

if (require.main === module) {
  runKeysCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(`[keys] ${err.message}`);
      process.exit(1);
    },
  );
}
