// For the Node processes the bench starts (workers, service endpoints, clients): leave when told
// (SIGTERM) and when the bench is gone (stdin closes — even after a SIGKILL of the bench, which
// cannot signal anyone), so no worker outlives the run.
export function exitWithParent(cleanup: () => Promise<void>): void {
  let leaving = false;
  const leave = (code: number) => {
    if (leaving) return;
    leaving = true;
    const hard = setTimeout(() => process.exit(code), 3000);
    hard.unref();
    cleanup()
      .catch((err) => console.error('cleanup failed:', err))
      .finally(() => process.exit(code));
  };
  process.on('SIGTERM', () => leave(0));
  process.on('SIGINT', () => leave(0));
  process.stdin.on('end', () => leave(0));
  process.stdin.on('error', () => leave(0));
  process.stdin.resume();
}

/** The line the host waits for before it measures anything. */
export function ready(detail = ''): void {
  process.stdout.write(`READY ${detail}\n`);
}

export function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (this process is started by bench/peers.ts)`);
  return v;
}
