import { decodeCursor, encodeCursor } from '../../src/db/videos-list';

describe('video list cursor', () => {
  it('round-trips and refuses what the server did not give out', () => {
    const c = { createdAt: '2026-11-25T06:43:04.224Z', id: 'v_1' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor('not-a-cursor')).toBeUndefined();
    expect(decodeCursor(Buffer.from('["nope","x"]').toString('base64url'))).toBeUndefined();
  });
});
