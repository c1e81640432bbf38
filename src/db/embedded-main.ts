// The demo's PostgreSQL process: `node dist/db/embedded-main.js <biblio data dir> <port>`.
// Prints one "ready" line, then runs until SIGTERM/SIGINT, when it stops PostgreSQL cleanly.
import { startEmbeddedPostgres } from './embedded';

async function main() {
  const [dataDir, portArg] = process.argv.slice(2);
  const port = Number(portArg);
  if (!dataDir || !Number.isInteger(port) || port <= 0) throw new Error('usage: embedded-main <data dir> <port>');
  const log = (line: string) => process.stdout.write(`[embedded-postgres] ${line}\n`);
  const pg = await startEmbeddedPostgres(dataDir, port, log);
  log(`ready on 127.0.0.1:${port}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await pg.stop().catch(() => undefined);
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // The demo stops us in order; if it dies without doing so, do not outlive it.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop();
  }, 1_000);
}

main().catch((err: Error) => {
  process.stderr.write(`[embedded-postgres] ${err.message ?? String(err)}\n`);
  process.exit(1);
});
