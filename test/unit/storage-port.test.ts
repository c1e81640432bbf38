import { partPlan, splitPin, withPin } from '../../src/adapters/storage/port';

describe('partPlan', () => {
  it('cuts a size into parts of the asked size with a shorter last part', () => {
    const mib = 1024 * 1024;
    expect(partPlan(40 * mib + 1, 16 * mib)).toEqual({ partSize: 16 * mib, sizes: [16 * mib, 16 * mib, 8 * mib + 1] });
  });

  it("keeps S3's rules: parts of at least 5 MiB, at most 10 000 of them", () => {
    expect(partPlan(100, 1024).partSize).toBe(5 * 1024 * 1024);
    const huge = partPlan(200 * 1024 ** 3, 16 * 1024 * 1024);
    expect(huge.sizes.length).toBeLessThanOrEqual(10_000);
    expect(huge.sizes.reduce((a, b) => a + b, 0)).toBe(200 * 1024 ** 3);
  });
});

describe('pinned URLs', () => {
  it('carry the pin in the fragment, which no server sees, and give the signed URL back untouched', () => {
    const signed = 'http://store/o/uploads/v/up_x?X-Amz-Signature=abc&e=1';
    const pinned = withPin(signed, '"0123abc-3"');
    expect(new URL(pinned).search).toBe(new URL(signed).search);
    expect(splitPin(pinned)).toEqual({ url: signed, etag: '"0123abc-3"' });
    expect(splitPin(signed)).toEqual({ url: signed, etag: undefined });
    expect(withPin(signed, undefined)).toBe(signed);
  });
});
