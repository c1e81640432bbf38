// `npm run migrate`: applies the pending migrations to DATABASE_URL with the runner every process
// uses at start, so an operator can migrate once before rolling out new processes. Creates the
// database when the server has none of that name, as the processes do.
import { loadConfig } from '../config';
import { ensureDatabase, migrate, redactUrl } from './database';

/** Migrates `databaseUrl` and says what it applied; throws (with the database named) when it cannot. */
export async function runMigrations(databaseUrl: string, out: (line: string) => void): Promise<string[]> {
  const where = redactUrl(databaseUrl);
  await ensureDatabase(databaseUrl);
  let applied: string[];
  try {
    applied = await migrate(databaseUrl);
  } catch (err) {
    // Each migration commits on its own: the ones before the failing one stay applied.
    throw new Error(`migrating ${where} failed: ${(err as Error).message}. Fix the cause and run \`npm run migrate\` again.`);
  }
  if (applied.length === 0) out(`${where} is up to date`);
  else
    out(
      `${where}: applied ${applied.length} migration${applied.length === 1 ? '' : 's'}\n${applied.map((name) => `  ${name}`).join('\n')}`,
    );
  return applied;
}

if (require.main === module) {
  Promise.resolve()
    .then(() => runMigrations(loadConfig().databaseUrl, (line) => process.stdout.write(`${line}\n`)))
    .then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`[migrate] ${err.message}\n`);
        process.exit(1);
      },
    );
}
