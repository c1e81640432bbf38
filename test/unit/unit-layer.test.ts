import { execSync, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { Client } from 'pg';
import { takeViolations } from '../support/layers/unit';

// The guard that keeps this layer Node-only (test/support/layers/unit.ts) must refuse what it
// says it refuses; each test takes the refusals it caused, so the guard's own check stays quiet.

test('refuses to start ffmpeg, and records it even when the caller catches the error', () => {
  expect(() => spawn('ffmpeg', ['-version'])).toThrow(/started the program 'ffmpeg'.*test\/integration/);
  expect(takeViolations()).toEqual([expect.stringContaining("'ffmpeg'")]);
});

test('refuses a shell command and a program started through a shell', () => {
  expect(() => execSync('true')).toThrow(/shell command 'true'/);
  expect(() => spawnSync(process.execPath, ['-e', '0'], { shell: true })).toThrow(/started the program/);
  expect(takeViolations()).toHaveLength(2);
});

test('lets Node start Node', () => {
  expect(spawnSync(process.execPath, ['-e', 'process.exit(3)']).status).toBe(3);
  expect(takeViolations()).toEqual([]);
});

test('refuses PostgreSQL on its usual address before any byte is sent', async () => {
  const db = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2_000 });
  await expect(db.connect()).rejects.toThrow(/connected to 127\.0\.0\.1:5432/);
  expect(takeViolations()).toEqual([expect.stringContaining('127.0.0.1:5432')]);
});

test('refuses a Temporal server, started or existing', async () => {
  await expect(TestWorkflowEnvironment.createLocal()).rejects.toThrow(/TestWorkflowEnvironment\.createLocal/);
  await expect(NativeConnection.connect({ address: '127.0.0.1:7233' })).rejects.toThrow(/NativeConnection\.connect/);
  expect(takeViolations()).toHaveLength(2);
});

test('lets a test talk to a server it started, and probe it after it closed', async () => {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  expect(takeViolations()).toEqual([]);
});
