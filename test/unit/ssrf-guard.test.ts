import dns from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertUrlAllowed, guardedFetch, isForbiddenAddress, SsrfBlockedError, SsrfPolicy } from '../../src/net/ssrf-guard';

describe('isForbiddenAddress', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '64:ff9b::a9fe:a9fe',
    '2002:7f00:0001::1',
    '::10.0.0.1',
    'ff02::1',
    'not-an-ip',
  ])('refuses %s', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2002:0808:0808::1'])('allows public %s', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(false);
  });
});

describe('SsrfPolicy allow-list', () => {
  it('allows exactly the listed CIDRs and hosts', () => {
    const p = new SsrfPolicy(['127.0.0.1', '10.0.0.0/8', 'minio.internal']);
    expect(p.addressAllowed('127.0.0.1')).toBe(true);
    expect(p.addressAllowed('127.0.0.2')).toBe(false);
    expect(p.addressAllowed('10.9.9.9')).toBe(true);
    expect(p.addressAllowed('169.254.169.254')).toBe(false);
    expect(p.hostAllowed('MINIO.internal')).toBe(true);
  });
});

describe('guardedFetch against a local listener that must see nothing', () => {
  let server: http.Server;
  let hits: string[];
  let port: number;

  beforeAll(async () => {
    hits = [];
    server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('secret internal data');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));
  beforeEach(() => (hits = []));

  it.each([
    ['127.0.0.1', (p: number) => `http://127.0.0.1:${p}/health`],
    ['localhost', (p: number) => `http://localhost:${p}/health`],
    ['[::1]', (p: number) => `http://[::1]:${p}/health`],
    ['[::ffff:127.0.0.1]', (p: number) => `http://[::ffff:127.0.0.1]:${p}/health`],
    ['0.0.0.0', (p: number) => `http://0.0.0.0:${p}/health`],
  ])('refuses %s and sends nothing', async (_name, url) => {
    await expect(guardedFetch(url(port), { policy: new SsrfPolicy() })).rejects.toBeInstanceOf(SsrfBlockedError);
    expect(hits).toEqual([]);
  });

  it('refuses 10.x and the metadata address before connecting', async () => {
    await expect(assertUrlAllowed('http://10.0.0.1/x', new SsrfPolicy())).rejects.toBeInstanceOf(SsrfBlockedError);
    await expect(assertUrlAllowed('http://169.254.169.254/latest/meta-data/', new SsrfPolicy())).rejects.toBeInstanceOf(SsrfBlockedError);
  });

  it('re-checks every redirect: an allowed host redirecting to a forbidden one is refused', async () => {
    // The redirector is reachable by name only (allow-listed host); its target is loopback by address.
    const redirector = http.createServer((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/health` });
      res.end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    const rport = (redirector.address() as AddressInfo).port;
    try {
      const err = await guardedFetch(`http://localhost:${rport}/start`, { policy: new SsrfPolicy(['localhost']) }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(SsrfBlockedError);
      expect((err as Error).message).not.toContain(String(port));
      expect(hits).toEqual([]);
    } finally {
      await new Promise((r) => redirector.close(r));
    }
  });

  it('refuses a DNS rebinding: the check saw a public address, the connection would go to loopback', async () => {
    // First answer (the pre-check) public, second answer (the connect) loopback: what a rebinding DNS server does.
    const pre = jest.spyOn(dns.promises, 'lookup').mockResolvedValue([{ address: '93.184.216.34', family: 4 }] as never);
    const atConnect = jest
      .spyOn(dns, 'lookup')
      .mockImplementation(((_h: string, _o: unknown, cb: (e: null, a: dns.LookupAddress[]) => void) =>
        cb(null, [{ address: '127.0.0.1', family: 4 }])) as never);
    try {
      const err = await guardedFetch(`http://rebind.test:${port}/health`, { policy: new SsrfPolicy() }).catch((e: Error) => e);
      expect(pre).toHaveBeenCalled();
      expect(atConnect).toHaveBeenCalled();
      expect(err).toBeInstanceOf(SsrfBlockedError);
      expect(hits).toEqual([]);
    } finally {
      pre.mockRestore();
      atConnect.mockRestore();
    }
  });

  it('fetches an allow-listed address and follows an allowed redirect', async () => {
    const res = await guardedFetch(`http://127.0.0.1:${port}/ok`, { policy: new SsrfPolicy(['127.0.0.1']) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('secret internal data');
  });

  it('says "refused" for a closed port without naming the address or port', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const cport = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = (await guardedFetch(`http://127.0.0.1:${cport}/x`, { policy: new SsrfPolicy(['127.0.0.1']) }).catch(
      (e: Error) => e,
    )) as Error;
    expect(err.message).toMatch(/refused/);
    expect(err.message).not.toContain(String(cport));
  });
});
