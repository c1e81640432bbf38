import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/**
 * SSRF guard for URL sources: the API and the media worker must never be made to request
 * loopback, private, link-local or cloud-metadata addresses on a caller's behalf.
 *
 * Three layers, because each alone has a hole:
 * 1. `assertUrlAllowed` resolves the host before anything is sent (fast 400 at the API);
 * 2. `guardedFetch` checks the address the socket actually connects to, through the agent's
 *    `lookup` (so a DNS answer that changes between check and connect — rebinding — fails);
 * 3. every redirect hop goes through both again (fetch's `redirect: 'follow'` would not).
 * Error messages name the host only: never the resolved address or port, so a caller cannot
 * map which internal ports are open.
 */

export class SsrfBlockedError extends Error {
  override readonly name = 'SsrfBlockedError';
}

/** A network failure with a message that is safe to show (no addresses, ports or paths). */
export class SourceFetchError extends Error {
  override readonly name = 'SourceFetchError';
}

type Bytes = number[];

interface Cidr {
  bytes: Bytes;
  bits: number;
}

function parseV4(ip: string): Bytes | undefined {
  if (!net.isIPv4(ip)) return undefined;
  return ip.split('.').map(Number);
}

/** 16 bytes of an IPv6 address, including the embedded dotted-quad forms. */
function parseV6(ip: string): Bytes | undefined {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!net.isIPv6(bare)) return undefined;
  let text = bare;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: Bytes = [];
  if (dotted?.[1]) {
    tail = parseV4(dotted[1]) ?? [];
    text = text.slice(0, -dotted[1].length) + '0:0';
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':').filter((x) => x !== '') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r];
  const out: Bytes = [];
  for (const g of groups) {
    const v = parseInt(g || '0', 16);
    out.push((v >> 8) & 0xff, v & 0xff);
  }
  if (tail.length === 4) out.splice(12, 4, ...tail);
  return out.length === 16 ? out : undefined;
}

function cidr(text: string): Cidr {
  const [addr = '', bits] = text.split('/');
  const bytes = parseV4(addr) ?? parseV6(addr);
  if (!bytes) throw new Error(`not a CIDR: ${text}`);
  return { bytes, bits: bits === undefined ? bytes.length * 8 : Number(bits) };
}

function inCidr(bytes: Bytes, c: Cidr): boolean {
  if (bytes.length !== c.bytes.length) return false;
  let left = c.bits;
  for (let i = 0; left > 0; i++, left -= 8) {
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((c.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

const FORBIDDEN_V4 = [
  '0.0.0.0/8', // "this network"; 0.0.0.0 reaches localhost on Linux
  '10.0.0.0/8',
  '100.64.0.0/10', // carrier-grade NAT
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local, incl. the cloud metadata service 169.254.169.254
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, incl. broadcast
].map(cidr);

const FORBIDDEN_V6 = [
  '::/128',
  '::1/128',
  '100::/64', // discard
  '2001:db8::/32', // documentation
  'fc00::/7', // unique local, incl. AWS's metadata fd00:ec2::254
  'fe80::/10', // link-local
  'fec0::/10', // old site-local
  'ff00::/8', // multicast
].map(cidr);

/** IPv4 addresses carried inside IPv6 forms: mapped, compatible, NAT64, 6to4. */
function embeddedV4(b: Bytes): Bytes | undefined {
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return b.slice(12); // ::ffff:a.b.c.d
  if (zeros(0, 12) && !(zeros(12, 15) && (b[15] ?? 0) <= 1)) return b.slice(12); // ::a.b.c.d
  if (inCidr(b, cidr('64:ff9b::/96'))) return b.slice(12);
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6); // 2002:AABB:CCDD::/48
  return undefined;
}

/** True for addresses no URL source may reach unless explicitly allowed. Unknown text → true. */
export function isForbiddenAddress(ip: string): boolean {
  const v4 = parseV4(ip);
  if (v4) return FORBIDDEN_V4.some((c) => inCidr(v4, c));
  const v6 = parseV6(ip);
  if (!v6) return true;
  const inner = embeddedV4(v6);
  if (inner) return FORBIDDEN_V4.some((c) => inCidr(inner, c));
  return FORBIDDEN_V6.some((c) => inCidr(v6, c));
}

export class SsrfPolicy {
  private readonly cidrs: Cidr[] = [];
  private readonly hosts = new Set<string>();

  /** `allow`: CIDRs, single addresses or host names that may be reached although private. */
  constructor(allow: readonly string[] = []) {
    for (const entry of allow) {
      const e = entry.trim().toLowerCase();
      if (!e) continue;
      const addr = e.split('/')[0] ?? '';
      if (net.isIP(addr.replace(/^\[|\]$/g, ''))) this.cidrs.push(cidr(e.replace(/^\[|\]$/g, '')));
      else this.hosts.add(e);
    }
  }

  addressAllowed(ip: string): boolean {
    if (!isForbiddenAddress(ip)) return true;
    const bytes = parseV4(ip) ?? parseV6(ip);
    return !!bytes && this.cidrs.some((c) => inCidr(bytes, c));
  }

  hostAllowed(host: string): boolean {
    return this.hosts.has(host.toLowerCase());
  }
}

function hostOf(u: URL): string {
  return u.hostname.replace(/^\[|\]$/g, '');
}

function blocked(u: URL): SsrfBlockedError {
  return new SsrfBlockedError(
    `the source host ${hostOf(u)} resolves to a private, loopback or link-local address, which URL sources may not reach`,
  );
}

/** Resolves the URL's host and refuses it if any address is forbidden (before any request is sent). */
export async function assertUrlAllowed(url: string | URL, policy: SsrfPolicy): Promise<void> {
  const u = typeof url === 'string' ? new URL(url) : url;
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SsrfBlockedError('only http and https URLs are accepted');
  const host = hostOf(u);
  if (policy.hostAllowed(host)) return;
  if (net.isIP(host)) {
    if (!policy.addressAllowed(host)) throw blocked(u);
    return;
  }
  let addresses: dns.LookupAddress[];
  try {
    addresses = await dns.promises.lookup(host, { all: true, verbatim: true });
  } catch {
    throw new SourceFetchError(`the source host ${host} could not be resolved`);
  }
  if (addresses.length === 0 || addresses.some((a) => !policy.addressAllowed(a.address))) throw blocked(u);
}

/** The connect-time check: Node calls this for the address it is about to connect to. */
function guardedLookup(policy: SsrfPolicy, host: string): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true, verbatim: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const list = addresses as dns.LookupAddress[];
      const ok = policy.hostAllowed(host) ? list : list.filter((a) => policy.addressAllowed(a.address));
      if (ok.length === 0 || ok.length !== list.length) {
        return callback(Object.assign(new SsrfBlockedError('blocked'), { code: 'EBLOCKED' }), '', 4);
      }
      if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, ok);
      const first = ok[0] as dns.LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

const SAFE_CODES: Record<string, string> = {
  ECONNREFUSED: 'refused the connection',
  ECONNRESET: 'reset the connection',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'could not be resolved',
  EAI_AGAIN: 'could not be resolved right now',
  EHOSTUNREACH: 'is unreachable',
  ENETUNREACH: 'is unreachable',
  EPROTO: 'failed the TLS handshake',
};

export interface GuardedFetchOptions {
  policy: SsrfPolicy;
  signal?: AbortSignal;
  maxRedirects?: number;
}

/**
 * GET with the SSRF guard on every hop. Resolves to a WHATWG `Response` (as `fetch` would) so
 * callers stay unchanged; user info in the URL becomes a Basic header and is dropped on a
 * redirect to another origin.
 */
export async function guardedFetch(url: string, opts: GuardedFetchOptions): Promise<Response> {
  let current = new URL(url);
  const origin = current.origin;
  const auth = current.username ? `${decodeURIComponent(current.username)}:${decodeURIComponent(current.password)}` : undefined;
  for (let hop = 0; ; hop++) {
    await assertUrlAllowed(current, opts.policy);
    const res = await requestOnce(current, opts, current.origin === origin ? auth : undefined);
    const location = res.headers.location;
    if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location) {
      res.resume();
      if (hop >= (opts.maxRedirects ?? 5)) throw new SourceFetchError(`the source host ${hostOf(current)} redirected too many times`);
      current = new URL(location, current);
      continue;
    }
    const status = res.statusCode ?? 502;
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (Array.isArray(v)) for (const one of v) headers.append(k, one);
      else if (v !== undefined) headers.set(k, v);
    }
    const nullBody = status === 204 || status === 304 || status < 200;
    if (nullBody) res.resume();
    const body = nullBody ? null : (Readable.toWeb(res) as unknown as WebReadableStream<Uint8Array>);
    return new Response(body as unknown as ReadableStream, { status: status < 200 ? 502 : status, headers });
  }
}

function requestOnce(u: URL, opts: GuardedFetchOptions, auth: string | undefined): Promise<http.IncomingMessage> {
  const host = hostOf(u);
  return new Promise((resolve, reject) => {
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      {
        protocol: u.protocol,
        hostname: host,
        port: u.port || undefined,
        path: `${u.pathname}${u.search}`,
        method: 'GET',
        auth,
        signal: opts.signal,
        lookup: guardedLookup(opts.policy, host),
        headers: { 'user-agent': 'biblio-media-worker', accept: '*/*' },
      },
      resolve,
    );
    // Belt and braces: the address actually connected to, whatever resolved it.
    req.on('socket', (socket) => {
      socket.once('connect', () => {
        const remote = socket.remoteAddress;
        if (remote && !opts.policy.hostAllowed(host) && !opts.policy.addressAllowed(remote)) req.destroy(blocked(u));
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (opts.signal?.aborted) return reject(err);
      if (err instanceof SsrfBlockedError || err.code === 'EBLOCKED') return reject(blocked(u));
      const what = (err.code && SAFE_CODES[err.code]) ?? 'could not be reached';
      reject(new SourceFetchError(`the source host ${host} ${what}`));
    });
    req.end();
  });
}
