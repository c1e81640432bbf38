// Workflow tests bundle the workflow code and run it on a real Temporal dev server (or replay
// histories in-process) with stubbed activities: seconds per test, never minutes.
jest.setTimeout(60_000);
