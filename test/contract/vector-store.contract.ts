import { randomBytes } from 'node:crypto';
import { collectionName, type VectorHit, type VectorSpace, type VectorStore } from '../../src/adapters/vector-store/port';

export interface ContractOptions {
  /** Drops the spaces the suite wrote to, for backends that outlive the test run. */
  cleanup?: (spaces: VectorSpace[]) => Promise<void>;
}

const DIM = 8;

/** Unit vector along axis i, optionally nudged towards axis j so neighbours are ordered. */
function axis(i: number, dim = DIM, towards?: { j: number; by: number }): number[] {
  const v = new Array<number>(dim).fill(0);
  v[i] = 1;
  if (towards) v[towards.j] = towards.by;
  return v;
}

function hitsFor(hits: VectorHit[], id: string): VectorHit[] {
  return hits.filter((h) => h.id === id);
}

/**
 * Behaviour every VectorStore must have. `open` may be called more than once and each
 * call must reach the same underlying data (a second process, in production terms).
 */
export function vectorStoreContract(name: string, open: () => Promise<VectorStore>, opts: ContractOptions = {}): void {
  describe(`VectorStore contract: ${name}`, () => {
    // Unique per run so repeated runs against a persistent backend never see old data.
    const runId = randomBytes(4).toString('hex');
    const used: VectorSpace[] = [];
    let seq = 0;
    let store: VectorStore;

    const freshSpace = (dim = DIM, model?: string): VectorSpace => {
      const space = { analyzer: 'contract', model: model ?? `m_${runId}_${seq++}`, dim };
      used.push(space);
      return space;
    };

    beforeAll(async () => {
      store = await open();
    });

    afterAll(async () => {
      await store?.close();
      if (opts.cleanup) await opts.cleanup(used);
    });

    test('search returns the nearest point first, with score ~1 for an identical vector', async () => {
      const space = freshSpace();
      await store.upsert(space, [
        { id: 'far', vector: axis(3), payload: {} },
        { id: 'exact', vector: axis(0), payload: {} },
        { id: 'near', vector: axis(0, DIM, { j: 1, by: 0.5 }), payload: {} },
      ]);
      const hits = await store.search(space, axis(0), 10);
      expect(hits.map((h) => h.id)).toEqual(['exact', 'near', 'far']);
      expect(hits[0]?.score).toBeCloseTo(1, 5);
      expect(hits[2]?.score).toBeCloseTo(0, 5);
      // Cosine ignores magnitude: a scaled query is the same direction.
      const scaled = await store.search(
        space,
        axis(0).map((x) => x * 7),
        1,
      );
      expect(scaled.map((h) => h.id)).toEqual(['exact']);
      expect(scaled[0]?.score).toBeCloseTo(1, 5);
    });

    test('search respects the limit', async () => {
      const space = freshSpace();
      await store.upsert(
        space,
        Array.from({ length: 5 }, (_, i) => ({ id: `p${i}`, vector: axis(i), payload: {} })),
      );
      expect(await store.search(space, axis(0), 2)).toHaveLength(2);
    });

    test('upserting the same id twice sequentially leaves one point with the latest data', async () => {
      const space = freshSpace();
      await store.upsert(space, [{ id: 'v1', vector: axis(1), payload: { rev: 1 } }]);
      await store.upsert(space, [{ id: 'v1', vector: axis(0), payload: { rev: 2 } }]);
      const hits = hitsFor(await store.search(space, axis(0), 10), 'v1');
      expect(hits).toHaveLength(1);
      expect(hits[0]?.payload).toEqual({ rev: 2 });
      expect(hits[0]?.score).toBeCloseTo(1, 5);
    });

    test('the same id twice in one batch leaves one point, the last one winning', async () => {
      const space = freshSpace();
      await store.upsert(space, [
        { id: 'dup', vector: axis(1), payload: { rev: 1 } },
        { id: 'other', vector: axis(2), payload: {} },
        { id: 'dup', vector: axis(0), payload: { rev: 2 } },
      ]);
      const all = await store.search(space, axis(0), 10);
      expect(hitsFor(all, 'dup')).toHaveLength(1);
      expect(hitsFor(all, 'dup')[0]?.payload).toEqual({ rev: 2 });
      expect(all).toHaveLength(2);
    });

    test('concurrent upserts of the same new id into a new space leave one point', async () => {
      const space = freshSpace();
      await Promise.all(
        Array.from({ length: 6 }, (_, i) => store.upsert(space, [{ id: 'race', vector: axis(0), payload: { writer: i } }])),
      );
      const hits = await store.search(space, axis(0), 10);
      expect(hitsFor(hits, 'race')).toHaveLength(1);
      expect(hits).toHaveLength(1);
    });

    test('spaces with the same dim but a different model are isolated', async () => {
      const a = freshSpace(DIM);
      const b = freshSpace(DIM);
      await store.upsert(a, [{ id: 'only-in-a', vector: axis(0), payload: {} }]);
      await store.upsert(b, [{ id: 'only-in-b', vector: axis(0), payload: {} }]);
      expect((await store.search(a, axis(0), 10)).map((h) => h.id)).toEqual(['only-in-a']);
      expect((await store.search(b, axis(0), 10)).map((h) => h.id)).toEqual(['only-in-b']);
    });

    test('spaces with the same model but a different dim are isolated', async () => {
      const model = `m_${runId}_dims`;
      const small = freshSpace(DIM, model);
      const large = freshSpace(DIM * 2, model);
      await store.upsert(small, [{ id: 'small', vector: axis(0), payload: {} }]);
      await store.upsert(large, [{ id: 'large', vector: axis(0, DIM * 2), payload: {} }]);
      expect((await store.search(small, axis(0), 10)).map((h) => h.id)).toEqual(['small']);
      expect((await store.search(large, axis(0, DIM * 2), 10)).map((h) => h.id)).toEqual(['large']);
    });

    test('search on a never-written space returns []', async () => {
      expect(await store.search(freshSpace(), axis(0), 10)).toEqual([]);
    });

    test('delete removes only the given points, and tolerates unknown ids and spaces', async () => {
      const space = freshSpace();
      await store.upsert(space, [
        { id: 'keep', vector: axis(0), payload: {} },
        { id: 'drop', vector: axis(0, DIM, { j: 1, by: 0.1 }), payload: {} },
      ]);
      await store.delete(space, ['drop', 'never-existed']);
      expect((await store.search(space, axis(0), 10)).map((h) => h.id)).toEqual(['keep']);
      await expect(store.delete(freshSpace(), ['x'])).resolves.toBeUndefined();
    });

    test('ids with quotes are stored, found and deleted literally', async () => {
      const space = freshSpace();
      const tricky = "o'brien' OR '1'='1";
      await store.upsert(space, [
        { id: tricky, vector: axis(0), payload: {} },
        { id: 'bystander', vector: axis(1), payload: {} },
      ]);
      expect(hitsFor(await store.search(space, axis(0), 10), tricky)).toHaveLength(1);
      await store.delete(space, [tricky]);
      expect((await store.search(space, axis(0), 10)).map((h) => h.id)).toEqual(['bystander']);
    });

    test('payload round-trips unchanged', async () => {
      const space = freshSpace();
      const payload = {
        title: 'Quotes " and \' and unicode é 🎬',
        durationSec: 12.5,
        count: 3,
        published: true,
        tags: ['a', 'b'],
        nested: { level: { deep: [1, { x: null }] } },
        nothing: null,
      };
      await store.upsert(space, [{ id: 'p', vector: axis(0), payload }]);
      const [hit] = await store.search(space, axis(0), 1);
      expect(hit?.payload).toEqual(payload);
    });

    test('a vector of the wrong length is rejected on upsert and on search', async () => {
      const space = freshSpace();
      await expect(store.upsert(space, [{ id: 'bad', vector: axis(0, DIM + 1), payload: {} }])).rejects.toThrow(/dimension/i);
      await store.upsert(space, [{ id: 'good', vector: axis(0), payload: {} }]);
      await expect(store.search(space, axis(0, DIM - 1), 10)).rejects.toThrow(/dimension/i);
      // The rejected batch must not have left anything behind.
      expect((await store.search(space, axis(0), 10)).map((h) => h.id)).toEqual(['good']);
    });

    test('a second store instance sees what the first one wrote', async () => {
      const space = freshSpace();
      await store.upsert(space, [{ id: 'shared', vector: axis(0), payload: { v: 1 } }]);
      const other = await open();
      try {
        expect((await other.search(space, axis(0), 10)).map((h) => h.id)).toEqual(['shared']);
        // And later writes by the first instance, after the second has read the space.
        await store.upsert(space, [{ id: 'later', vector: axis(1), payload: {} }]);
        expect((await other.search(space, axis(0), 10)).map((h) => h.id).sort()).toEqual(['later', 'shared']);
      } finally {
        await other.close();
      }
    });

    test('fetch returns the existing points among the ids, with payload, and nothing for unknown ids or spaces', async () => {
      const space = freshSpace();
      await store.upsert(space, [
        { id: 'a', vector: axis(0), payload: { n: 1 } },
        { id: 'b', vector: axis(1), payload: { n: 2 } },
      ]);
      const got = await store.fetch(space, ['b', 'nope', 'a']);
      expect(got.sort((x, y) => x.id.localeCompare(y.id))).toEqual([
        { id: 'a', payload: { n: 1 } },
        { id: 'b', payload: { n: 2 } },
      ]);
      expect(await store.fetch(freshSpace(), ['a'])).toEqual([]);
    });

    test('scan pages through every point exactly once', async () => {
      const space = freshSpace();
      const ids = Array.from({ length: 23 }, (_, i) => `s${String(i).padStart(2, '0')}`);
      await store.upsert(
        space,
        ids.map((id, i) => ({ id, vector: axis(i % DIM), payload: { id } })),
      );
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.scan(space, { cursor, limit: 5 });
        expect(page.points.length).toBeLessThanOrEqual(5);
        seen.push(...page.points.map((p) => p.id));
        cursor = page.next;
        pages++;
      } while (cursor !== undefined && pages < 20);
      expect(seen.sort()).toEqual(ids);
      expect((await store.scan(freshSpace(), { limit: 5 })).points).toEqual([]);
    });

    test('listSpaces names every written space so a collection maps back to its space', async () => {
      const space = freshSpace();
      await store.upsert(space, [{ id: 'x', vector: axis(0), payload: {} }]);
      const names = (await store.listSpaces()).map(collectionName);
      expect(names).toContain(collectionName(space));
    });
  });
}
