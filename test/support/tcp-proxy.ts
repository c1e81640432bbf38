import net from 'node:net';

/** A loopback TCP proxy a test can cut (every connection dropped, new ones refused) and restore on the same port. */
export interface TcpProxy {
  port: number;
  /** Bytes the clients sent through the proxy so far (headers included): what a resumed upload re-sent shows here. */
  bytesUp(): number;
  /** Bytes the upstream sent back to the clients so far. */
  bytesDown(): number;
  /** Cuts (like `cut`) the moment the clients have sent this many bytes in all: mid-request, deterministically. */
  cutAt(bytesUp: number): Promise<void>;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** `listenHost`: loopback by default; a lab's gateway address to reach host A's services from other hosts. */
export async function startTcpProxy(target: { host: string; port: number }, listenHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  let up = 0;
  let down = 0;
  const cutters: { at: number; done: () => void }[] = [];
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on('close', () => sockets.delete(sock));
          sock.on('error', () => undefined);
        }
        client.on('data', (chunk: Buffer) => {
          up += chunk.length;
          const due = cutters.filter((c) => up >= c.at);
          if (due.length === 0) return;
          cutters.splice(0, cutters.length, ...cutters.filter((c) => up < c.at));
          void stop().then(() => due.forEach((c) => c.done()));
        });
        upstream.on('data', (chunk: Buffer) => (down += chunk.length));
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(port, listenHost, () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const sock of sockets) sock.destroy();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  await listen();
  return {
    port,
    bytesUp: () => up,
    bytesDown: () => down,
    cutAt: (at) => new Promise<void>((done) => cutters.push({ at, done })),
    cut: stop,
    restore: listen,
    close: stop,
  };
}
