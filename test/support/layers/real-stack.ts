// Integration and end-to-end tests start real processes (Temporal, ffmpeg, workers, the demo):
// a unit test's seconds are far too short. Slower tests set their own timeout.
jest.setTimeout(120_000);
