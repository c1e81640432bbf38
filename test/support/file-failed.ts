interface CircusTest {
  type: 'test';
  errors: unknown[];
}
interface CircusBlock {
  type: 'describeBlock';
  children: (CircusTest | CircusBlock)[];
}

/**
 * Whether a test of the running file has failed so far (a failed beforeAll counts: jest records
 * its error on every test under it); undefined when it cannot tell. Jest gives afterAll no
 * results, so this reads jest-circus's own state, which it keeps on the test file's global under
 * a private symbol (jest 29).
 */
export function fileHasFailed(): boolean | undefined {
  const key = Object.getOwnPropertySymbols(globalThis).find((s) => s.description === 'JEST_STATE_SYMBOL');
  const root = key && (globalThis as unknown as Record<symbol, { rootDescribeBlock?: CircusBlock } | undefined>)[key]?.rootDescribeBlock;
  if (!root) return undefined;
  const failed = (block: CircusBlock): boolean => block.children.some((c) => (c.type === 'test' ? c.errors.length > 0 : failed(c)));
  return failed(root);
}
