import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { UploadTicket } from '../../src/contracts/http';
import { sendUpload, type UploadApi } from '../../src/cli/resumable-upload';

// The resumable client against a loopback part store that drops the connection in the middle of
// one part, and an API that cannot answer (down, restarting) or answers with what the store holds.
// The integration test (upload-ownership) shows the same on the real API, but only when the
// restart outlasts the client's first retry, which a loaded machine decides: here it is certain.

const PART = 64 * 1024;
const PARTS = 4;

let dir: string;
let file: string;
let bytes: Buffer;
let server: Server;
let base: string;
/** Part numbers in the order their PUTs arrived, a dropped one included. */
let arrived: number[];
/** What the store holds: part number → ETag. */
let stored: Map<number, string>;
let dropOnce: number | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'resumable-'));
  file = path.join(dir, 'clip.bin');
  bytes = randomBytes(PART * PARTS);
  await writeFile(file, bytes);
  server = createServer((req, res) => {
    const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n'));
    arrived.push(n);
    if (dropOnce === n) {
      dropOnce = undefined;
      // Mid-body, like the proxy's cut: the part never arrives.
      req.once('data', () => req.socket.destroy());
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const etag = `"${createHash('md5').update(Buffer.concat(chunks)).digest('hex')}"`;
      stored.set(n, etag);
      res.writeHead(200, { etag }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  arrived = [];
  stored = new Map();
  dropOnce = undefined;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

type Received = Extract<NonNullable<UploadTicket['upload']>, { method: 'MULTIPART' }>['received'];

function ticket(received: Received): UploadTicket {
  return {
    uploadId: 'up_1',
    videoId: 'v1',
    key: 'uploads/v1/up_1',
    state: 'open',
    sizeBytes: PART * PARTS,
    contentType: 'video/mp4',
    upload: {
      method: 'MULTIPART',
      partSize: PART,
      parts: Array.from({ length: PARTS }, (_, i) => ({ partNumber: i + 1, sizeBytes: PART, url: `${base}/part?n=${i + 1}` })),
      received,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    },
    complete: { method: 'POST', url: '/uploads/up_1/complete' },
    next: { method: 'POST', url: '/videos', body: { videoId: 'v1', source: { kind: 'upload', key: 'uploads/v1/up_1' } } },
  };
}

/** The API: GET /uploads/:id per `answers` (undefined: unreachable, as fetch fails); completion succeeds. */
function api(answers: () => UploadTicket | undefined): UploadApi & { gets: number } {
  const self = {
    gets: 0,
    get: <T>(): Promise<T> => {
      self.gets += 1;
      const t = answers();
      return t ? Promise.resolve(t as T) : Promise.reject(new TypeError('fetch failed'));
    },
    post: <T>(): Promise<T> => Promise.resolve({ ...ticket([]), state: 'completed', upload: undefined } as T),
  };
  return self;
}

const held = () => [...stored].map(([partNumber, etag]) => ({ partNumber, etag, sizeBytes: PART }));

it('sends only the dropped part again while the API cannot say which parts arrived', async () => {
  dropOnce = 3;
  const down = api(() => undefined);
  const done = await sendUpload(down, ticket([]), file, { maxTries: 5 });
  expect(done.state).toBe('completed');
  expect(down.gets).toBe(1);
  // Parts 1 and 2 were acknowledged before the drop: not sent again although no one listed them.
  expect(arrived).toEqual([1, 2, 3, 3, 4]);
  expect([...stored.keys()].sort()).toEqual([1, 2, 3, 4]);
});

it("goes by the API's answer when there is one: a part the store no longer holds is sent again", async () => {
  dropOnce = 3;
  // The store lost part 1 (say, a test wiped it): the answer is the store's word, not our memory.
  const up = api(() => {
    stored.delete(1);
    return ticket(held());
  });
  await sendUpload(up, ticket([]), file, { maxTries: 5 });
  expect(arrived).toEqual([1, 2, 3, 1, 3, 4]);
});

it('skips the parts the first ticket lists with the ETag of our bytes, and only those', async () => {
  const md5 = (i: number) =>
    `"${createHash('md5')
      .update(bytes.subarray(i * PART, (i + 1) * PART))
      .digest('hex')}"`;
  const resumed = ticket([
    { partNumber: 1, etag: md5(0), sizeBytes: PART },
    { partNumber: 2, etag: '"other-bytes"', sizeBytes: PART },
  ]);
  await sendUpload(
    api(() => undefined),
    resumed,
    file,
  );
  expect(arrived).toEqual([2, 3, 4]);
});
