import { existsSync } from 'node:fs';
import type { ScanPage, StoredPoint, VectorHit, VectorPoint, VectorSpace, VectorStore } from './port';

/**
 * Test-only decorator (wired when BIBLIO_TEST_VECTOR_FAULT_FILE is set, never by default):
 * while the named file exists every call fails as an unreachable store would, so a test can
 * take the vector store "down" for real worker processes and bring it back by deleting the
 * file. Chosen over chmod on the LanceDB directory because tests run as root, whom file
 * modes do not stop.
 */
export class FaultInjectingVectorStore implements VectorStore {
  constructor(
    private readonly inner: VectorStore,
    private readonly faultFile: string,
  ) {}

  get backend(): string {
    return this.inner.backend;
  }

  private check(op: string): void {
    if (existsSync(this.faultFile)) throw new Error(`${this.inner.backend} ${op} failed: store unreachable (injected fault)`);
  }

  async upsert(space: VectorSpace, points: VectorPoint[]): Promise<void> {
    this.check('upsert');
    return this.inner.upsert(space, points);
  }

  async search(space: VectorSpace, vector: number[], limit: number): Promise<VectorHit[]> {
    this.check('search');
    return this.inner.search(space, vector, limit);
  }

  async delete(space: VectorSpace, ids: string[]): Promise<void> {
    this.check('delete');
    return this.inner.delete(space, ids);
  }

  async fetch(space: VectorSpace, ids: string[]): Promise<StoredPoint[]> {
    this.check('fetch');
    return this.inner.fetch(space, ids);
  }

  async scan(space: VectorSpace, page: { cursor?: string; limit: number }): Promise<ScanPage> {
    this.check('scan');
    return this.inner.scan(space, page);
  }

  async listSpaces(): Promise<VectorSpace[]> {
    this.check('listSpaces');
    return this.inner.listSpaces();
  }

  async maintain(space: VectorSpace): Promise<unknown> {
    this.check('maintain');
    return this.inner.maintain?.(space);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
