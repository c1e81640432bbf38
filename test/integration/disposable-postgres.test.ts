import net from 'node:net';
import { DisposablePostgres } from '../support/disposable-postgres';

// The soak's last resort on a signal kills its own PostgreSQL. Killing the embedded runner alone
// left the server it had started running on its temp dir (found after a soak was stopped mid-run).

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('killNow leaves no server behind: the port stops accepting connections', async () => {
  const pg = await DisposablePostgres.create();
  try {
    expect(await accepts(pg.port)).toBe(true);
    pg.killNow();
    // SIGKILL is delivered at once; the listening socket closes as the process goes (bounded).
    const deadline = Date.now() + 10_000;
    while ((await accepts(pg.port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await accepts(pg.port)).toBe(false);
  } finally {
    await pg.destroy();
  }
}, 60_000);
