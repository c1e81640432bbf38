import http from 'node:http';
import type net from 'node:net';
import { execFileSync } from 'node:child_process';
import { createLab, labUnavailable, type Lab } from '../support/netns-lab';
import { startTcpProxy } from '../support/tcp-proxy';

// The multi-host tests stand on this lab: prove its walls before trusting what runs inside it.
const why = labUnavailable();
const describeLab = why ? describe.skip : describe;
if (why) console.warn(`\n*** SKIPPED: the network-namespace lab (${why}) ***\n`);

describeLab('network-namespace lab', () => {
  let lab: Lab;
  let server: http.Server;
  let port = 0;

  beforeAll(async () => {
    lab = createLab(['b', 'c']);
    // A service of host A on loopback, reachable from the other hosts only through a proxy on the gateway.
    server = http.createServer((_req, res) => res.end('host A'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    lab?.destroy();
    await new Promise((r) => server?.close(r));
  });

  const curl = async (host: string, url: string) => {
    try {
      return await lab.exec(host, 'node', [
        '-e',
        `fetch(${JSON.stringify(url)},{signal:AbortSignal.timeout(1500)}).then(r=>r.text()).then(t=>process.stdout.write(t),()=>process.stdout.write('UNREACHABLE'))`,
      ]);
    } catch {
      return 'UNREACHABLE';
    }
  };

  it('reaches host A through the gateway, not its loopback, and has no way out', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port }, lab.gateway);
    try {
      expect(await curl('b', `http://${lab.gateway}:${proxy.port}/`)).toBe('host A');
      // Its own loopback is its own: host A's loopback service is not there.
      expect(await curl('b', `http://127.0.0.1:${port}/`)).toBe('UNREACHABLE');
      // No default route: an address outside the lab has no route at all.
      await expect(lab.exec('b', 'ip', ['route', 'get', '192.0.2.1'])).rejects.toThrow();
      // Host to host inside the lab works.
      expect(await lab.exec('c', 'ip', ['route', 'get', lab.host('b').address])).toContain('dev ');
    } finally {
      await proxy.close();
    }
  });

  it('cuts one host off and heals it; the other keeps its link', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port }, lab.gateway);
    try {
      lab.cut('c');
      expect(await curl('c', `http://${lab.gateway}:${proxy.port}/`)).toBe('UNREACHABLE');
      expect(await curl('b', `http://${lab.gateway}:${proxy.port}/`)).toBe('host A');
      lab.heal('c');
      let back = 'UNREACHABLE';
      for (let i = 0; i < 20 && back === 'UNREACHABLE'; i += 1) back = await curl('c', `http://${lab.gateway}:${proxy.port}/`);
      expect(back).toBe('host A');
    } finally {
      await proxy.close();
    }
  });

  it('leaves no namespace, link or dir behind', () => {
    const other = createLab(['x']);
    const ns = other.host('x').ns;
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).toContain(ns);
    other.destroy();
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(ns);
    expect(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })).not.toContain(ns.slice(0, -1));
  });
});
