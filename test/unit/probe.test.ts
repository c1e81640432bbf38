import { interpretProbe, type ProbeVerdict } from '../../src/media/probe';

// interpretProbe on input ffprobe would not give for a real file; real ffprobe output is in
// test/integration/probe.test.ts.
function rejection(v: ProbeVerdict): string {
  if (v.ok) throw new Error(`expected a rejection, got facts ${JSON.stringify(v.facts)}`);
  return v.reason;
}

describe('interpretProbe on malformed input', () => {
  it('rejects unreadable JSON with a reason', () => {
    expect(rejection(interpretProbe('{"streams": ['))).toMatch(/unreadable/);
  });

  it('rejects an empty object: no video stream', () => {
    expect(rejection(interpretProbe('{}'))).toMatch(/no video stream/);
  });

  it('rejects JSON of the wrong shape (streams not an array) with a reason', () => {
    expect(rejection(interpretProbe('{"streams": "nope"}'))).toMatch(/unexpected shape/);
  });

  it('rejects a video stream that is attached cover art', () => {
    const json = JSON.stringify({
      streams: [
        { codec_type: 'audio', codec_name: 'mp3' },
        { codec_type: 'video', codec_name: 'mjpeg', width: 500, height: 500, disposition: { attached_pic: 1 } },
      ],
      format: { format_name: 'mp3', duration: '180.0', size: '4000000' },
    });
    expect(rejection(interpretProbe(json))).toMatch(/no video stream/);
  });
});
