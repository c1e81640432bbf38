import { categorise } from '../../bench/orchestration-probe-perf';
import { counters } from '../../bench/orchestration-probe';

// The orchestration probe names where the dev server's CPU went from its own counters and from
// perf stacks: a wrong sum or a stack put in the wrong bucket would name the wrong source.

describe('counters of a Prometheus page', () => {
  const page = [
    '# HELP service_requests service_requests counter',
    'service_requests{operation="PollActivityTaskQueue",service_name="frontend",namespace="default"} 12',
    'service_requests{operation="PollActivityTaskQueue",service_name="frontend",namespace="temporal-system"} 3',
    'service_requests{operation="PollActivityTaskQueue",service_name="matching"} 20',
    'service_requests_total{operation="PollActivityTaskQueue",service_name="frontend"} 999',
    'persistence_requests{operation="UpdateTaskQueue"} 7',
  ].join('\n');

  it('sums a metric over the labels it does not keep', () => {
    const c = counters(page, 'service_requests', ['service_name', 'operation']);
    expect(c.get('frontend PollActivityTaskQueue')).toBe(15);
    expect(c.get('matching PollActivityTaskQueue')).toBe(20);
  });

  it('does not take a metric whose name only starts with the asked one', () => {
    const c = counters(page, 'service_requests', ['service_name', 'operation']);
    expect([...c.values()].reduce((a, b) => a + b, 0)).toBe(35);
  });
});

describe('categorise a perf stack of the dev server', () => {
  it('names the outermost gRPC handler, not an inner one it calls', () => {
    const frames = [
      'modernc.org/sqlite/lib._sqlite3Step',
      'go.temporal.io/server/api/historyservice/v1._HistoryService_RecordActivityTaskHeartbeat_Handler',
      'go.temporal.io/api/workflowservice/v1._WorkflowService_RecordActivityTaskHeartbeat_Handler',
      'google.golang.org/grpc.(*Server).handleStream',
      'runtime.goexit.abi0',
    ];
    expect(categorise(frames)).toBe('rpc Workflow.RecordActivityTaskHeartbeat');
  });

  it('puts the /metrics page apart from the work it measures', () => {
    expect(
      categorise([
        'compress/flate.(*compressor).deflate',
        'github.com/prometheus/client_golang/prometheus/promhttp.HandlerForTransactional.func1',
        'net/http.(*conn).serve',
      ]),
    ).toBe('GET /metrics (the probe scraping)');
  });

  it('names a background loop by its root frame when nothing else matches', () => {
    expect(categorise(['runtime.memmove', 'go.temporal.io/server/common/goro.(*Handle).Go.func1', 'runtime.goexit.abi0'])).toBe(
      'other: go.temporal.io/server/common/goro.(*Handle).Go.func1',
    );
  });
});
