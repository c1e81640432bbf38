// How the client process starts one pipeline and waits for its result, per engine — each the
// engine's ordinary client path. SDKs are imported lazily so a client loads only its own.
import type { PipelineInput } from './pipeline';

export interface EngineClient {
  run(id: string, input: PipelineInput): Promise<number>;
  close(): Promise<void>;
  /** What one finished pipeline left behind on the server (Temporal: its history), for the report. */
  describe?(id: string): Promise<string>;
}

type Config = Record<string, unknown>;

const str = (c: Config, k: string) => {
  const v = c[k];
  if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`client config lacks ${k}`);
  return String(v);
};

async function postJson(url: string, body: unknown): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as number;
}

export async function makeClient(kind: string, config: Config): Promise<EngineClient> {
  switch (kind) {
    case 'temporal': {
      // Start the workflow and long-poll its result (client.workflow.execute).
      const { Client, Connection } = await import('@temporalio/client');
      const connection = await Connection.connect({ address: str(config, 'address') });
      const client = new Client({ connection, namespace: 'default' });
      const taskQueue = str(config, 'taskQueue');
      const workflow = str(config, 'workflow');
      return {
        run: (id, input) =>
          client.workflow.execute<(i: PipelineInput) => Promise<number>>(workflow, { taskQueue, workflowId: id, args: [input] }),
        close: () => connection.close(),
        describe: async (id) => {
          const history = await client.workflow.getHandle(id).fetchHistory();
          const events = history.events ?? [];
          const count = (has: (e: (typeof events)[number]) => unknown) => events.filter((e) => has(e)).length;
          return (
            `${events.length} history events per workflow, ${count((e) => e.workflowTaskCompletedEventAttributes)} workflow tasks, ` +
            `${count((e) => e.activityTaskScheduledEventAttributes)} activity tasks, ${count((e) => e.markerRecordedEventAttributes)} local-activity markers`
          );
        },
      };
    }
    case 'restate': {
      // A request/response call through the ingress: it returns when the handler has finished.
      const url = str(config, 'url');
      return { run: (_id, input) => postJson(`${url}/Pipeline/run`, input), close: async () => undefined };
    }
    case 'dbos': {
      const url = str(config, 'url');
      return { run: (id, input) => postJson(`${url}/run/${encodeURIComponent(id)}`, input), close: async () => undefined };
    }
    case 'bullmq': {
      // Add the nested flow atomically, then wait for the root (step3) through QueueEvents.
      const { FlowProducer, QueueEvents } = await import('bullmq');
      const connection = { host: '127.0.0.1', port: Number(str(config, 'port')) };
      const queueName = str(config, 'queue');
      const flows = new FlowProducer({ connection });
      const events = new QueueEvents(queueName, { connection });
      await events.waitUntilReady();
      return {
        run: async (id, input) => {
          const tree = await flows.add({
            name: 'step3',
            queueName,
            opts: { jobId: `${id}-3` },
            children: [
              {
                name: 'step2',
                queueName,
                data: { work: input.work },
                opts: { jobId: `${id}-2` },
                children: [{ name: 'step1', queueName, data: { n: input.n }, opts: { jobId: `${id}-1` } }],
              },
            ],
          });
          return (await tree.job.waitUntilFinished(events, 600_000)) as number;
        },
        close: async () => {
          await flows.close();
          await events.close();
        },
      };
    }
    default:
      throw new Error(`unknown engine client ${kind}`);
  }
}
