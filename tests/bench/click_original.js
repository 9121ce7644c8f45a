// The click counter original's load test, aimed at tally over gRPC: virtual users ramped
// up to 500 and down again, each sleeping 0.1 s between requests; passed when the 95th
// percentile answers in under 200 ms and fewer than 1 % of requests fail.
//
// Run by `make bench ARGS="k6"` (tests/bench/k6.py), which sets:
//   ADDR        the server, host:port (plaintext)
//   TARGET      record: RecordClick on a random banner of BANNERS
//               stats:  GetStats, 24 h from a random minute after FROM_MS, of a random
//                       banner of BANNERS
//               noop:   the gRPC health Check (no work in the server: k6's own ceiling)
//   BANNERS     JSON list of banner ids
//   FROM_MS     stats: the earliest start of a range, in ms since the epoch
//   SPAN_MS     stats: starts are drawn from [FROM_MS, FROM_MS + SPAN_MS)
//   DECODE      stats: 1 to turn each answer (1,440 points) into JavaScript objects; by
//               default k6 reads only its status, as the original's test read only the
//               HTTP status (decoding costs k6 more CPU than the server spends)
//   STAGES      JSON list of {duration, target}
//   SLEEP       seconds between a VU's requests
//   PROTO_DIR   the protos (proto/ of this repository)
//   OUT         where the end-of-test summary is written, as JSON
import grpc from 'k6/net/grpc';
import { check, sleep } from 'k6';
import { Counter } from 'k6/metrics';

const TARGET = __ENV.TARGET;
const BANNERS = JSON.parse(__ENV.BANNERS || '[]');
const FROM_MS = Number(__ENV.FROM_MS || 0);
const SPAN_MS = Number(__ENV.SPAN_MS || 0);
const SLEEP = Number(__ENV.SLEEP || 0.1);
const DAY_MS = 24 * 60 * 60 * 1000;

// Answers with grpc-status OK; for RecordClick each is one click the server acknowledged.
const okAnswers = new Counter('ok_answers');
const notOkAnswers = new Counter('not_ok_answers');

export const options = {
  stages: JSON.parse(__ENV.STAGES),
  thresholds: {
    grpc_req_duration: ['p(95)<200'],
    checks: ['rate>0.99'],
  },
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
};

const client = new grpc.Client();
if (TARGET !== 'noop') {
  client.load([__ENV.PROTO_DIR], 'tally/clicks/v1/clicks.proto');
}

function call() {
  const banner = BANNERS[Math.floor(Math.random() * BANNERS.length)];
  if (TARGET === 'record') {
    return client.invoke('tally.clicks.v1.ClickService/RecordClick', { banner_id: banner });
  }
  if (TARGET === 'stats') {
    const from = FROM_MS + Math.floor(Math.random() * (SPAN_MS / 60000)) * 60000;
    return client.invoke('tally.clicks.v1.ClickService/GetStats', {
      banner_id: banner,
      ts_from: new Date(from).toISOString(),
      ts_to: new Date(from + DAY_MS).toISOString(),
    }, { discardResponseMessage: __ENV.DECODE !== '1' });
  }
  return client.invoke('grpc.health.v1.Health/Check', {});
}

export default function () {
  if (__ITER === 0) {
    // One connection per VU, as the original's HTTP client kept one per VU.
    client.connect(__ENV.ADDR, { plaintext: true, reflect: TARGET === 'noop' });
  }
  const res = call();
  const ok = check(res, { 'grpc status OK': (r) => r && r.status === grpc.StatusOK });
  if (ok) {
    okAnswers.add(1);
  } else {
    notOkAnswers.add(1);
  }
  sleep(SLEEP);
}

export function handleSummary(data) {
  return { [__ENV.OUT]: JSON.stringify(data) };
}
