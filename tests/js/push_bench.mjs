// push_bench.mjs - push latency of txw-gateway at many WebSocket clients
//
//   node push_bench.mjs URL CLIENTS EXPECTED READYFILE [WORKERS] [TIMEOUT_S]
//
// Forks WORKERS processes (default 4) that open CLIENTS connections in
// total (?topics=alerts), writes READYFILE once every client has its
// snapshot, then records for every alert at every client the time from its
// raised_at (set by txw-pubinject at send time) to its arrival. Ends when
// every client has EXPECTED alerts or after TIMEOUT_S; prints p50/p99/max
// and messages received against expected, and exits 1 if any client lost a
// message (seq jump or close).
//
//   node push_bench.mjs --connect URL CLIENTS   only connects and holds
//   CLIENTS connections for 10 s, printing how many got their snapshot
//   (finding the client limit).
import WebSocket from 'ws';
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';

// Date.now () is the wall clock txw-pubinject stamps raised_ms with (performance.timeOrigin
// drifts from it by milliseconds).
const now = () => Date.now();
const RAISED = /"raised_at":"([^"]+)"/;

function worker() {
  const { url, clients, expected } = JSON.parse(process.env.PUSH_BENCH);
  const lat = new Map();   // latency in 0.1 ms buckets -> count
  const record = (ms) => { const b = Math.max(0, Math.round(ms * 10)); lat.set(b, (lat.get(b) || 0) + 1); };
  let ready = 0, got = 0, lost = 0, closed = 0, failedOpen = 0;
  const conns = [];
  for (let i = 0; i < clients; i++) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const c = { ws, seq: 0, alerts: 0, ready: false };
    ws.on('message', (data) => {
      const s = data.toString();
      const t = now();
      const seq = Number(s.slice(s.indexOf('"seq":') + 6, s.indexOf(',', s.indexOf('"seq":'))));
      if (c.seq && seq !== c.seq + 1) lost++;
      c.seq = seq;
      if (s.startsWith('{"type":"snapshot"') && !c.ready) {
        c.ready = true;
        if (++ready === clients) process.send({ ready: true });
      } else if (s.startsWith('{"type":"alert"')) {
        const m = RAISED.exec(s);
        if (m) record(t - Date.parse(m[1]));
        c.alerts++;
        if (c.alerts === expected && ++got === clients) finish();
      }
    });
    ws.on('error', () => { failedOpen++; });
    ws.on('close', () => { closed++; });
    conns.push(c);
  }
  let finished = false;
  function finish() {
    if (finished) return;
    finished = true;
    for (const c of conns) c.ws.terminate();
    process.send({ done: true, lat: [...lat.entries()], lost, closed, failedOpen,
      received: conns.reduce((n, c) => n + c.alerts, 0), ready }, () => process.exit(0));
  }
  process.on('message', (m) => { if (m.stop) finish(); });
}

async function connectOnly(url, clients) {
  let ready = 0, refused = 0, errors = 0;
  const conns = [];
  for (let i = 0; i < clients; i++) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('message', (d) => { if (d.toString().startsWith('{"type":"snapshot"')) ready++; });
    ws.on('unexpected-response', (req, res) => { refused++; res.resume(); });
    ws.on('error', () => errors++);
    conns.push(ws);
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 50));
  }
  const end = Date.now() + 20000;
  while (ready + refused + errors < clients && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  console.log(`connect ${clients}: ${ready} with snapshot, ${refused} refused, ${errors} errors`);
  await new Promise((r) => setTimeout(r, 3000));
  for (const ws of conns) ws.terminate();
  process.exit(0);
}

async function main() {
  const [url, clientsArg, expectedArg, readyFile, workersArg, timeoutArg] = process.argv.slice(2);
  const clients = Number(clientsArg), expected = Number(expectedArg);
  const workers = Number(workersArg || 4), timeout = Number(timeoutArg || 120);
  const kids = [];
  let readyKids = 0;
  const results = [];
  const done = new Promise((resolve) => {
    for (let k = 0; k < workers; k++) {
      const n = Math.floor(clients / workers) + (k < clients % workers ? 1 : 0);
      const kid = fork(new URL(import.meta.url).pathname, ['--worker'],
        { env: { ...process.env, PUSH_BENCH: JSON.stringify({ url, clients: n, expected }) } });
      kid.on('message', (m) => {
        if (m.ready && ++readyKids === workers) writeFileSync(readyFile, 'ready\n');
        if (m.done) { results.push(m); if (results.length === workers) resolve(); }
      });
      kids.push(kid);
    }
  });
  const timer = setTimeout(() => kids.forEach((k) => { if (k.connected) k.send({ stop: true }); }), timeout * 1000);
  await done;
  clearTimeout(timer);
  const hist = new Map();
  for (const r of results) for (const [b, n] of r.lat) hist.set(b, (hist.get(b) || 0) + n);
  const buckets = [...hist.entries()].sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((n, [, c]) => n + c, 0);
  const q = (p) => {
    let seen = 0;
    for (const [b, c] of buckets) { seen += c; if (seen >= p * total) return b / 10; }
    return NaN;
  };
  const lat = [buckets.length ? buckets[buckets.length - 1][0] / 10 : NaN];
  const received = results.reduce((n, r) => n + r.received, 0);
  const lost = results.reduce((n, r) => n + r.lost, 0);
  const ready = results.reduce((n, r) => n + r.ready, 0);
  console.log(`clients: ${ready} of ${clients} with snapshot`);
  console.log(`alerts received: ${received} of ${clients * expected} expected (${expected} per client), seq jumps ${lost}`);
  console.log(`push latency (raised -> received at the client, ms): p50 ${q(0.5).toFixed(2)}  ` +
    `p90 ${q(0.9).toFixed(2)}  p99 ${q(0.99).toFixed(2)}  max ${lat[0].toFixed(2)}`);
  const pass = received === clients * expected && lost === 0 && q(0.99) < 50;
  console.log(`${pass ? 'PASS' : 'FAIL'}: target p99 < 50 ms with every message delivered`);
  process.exit(pass ? 0 : 1);
}

if (process.argv[2] === '--worker') worker();
else if (process.argv[2] === '--connect') connectOnly(process.argv[3], Number(process.argv[4]));
else main();
