// ws_client.mjs - a scripted WebSocket client of txw-gateway for tests/e2e/gateway.sh
//
//   node ws_client.mjs MODE URL [ARGS...]
//
// Each mode connects like the dashboard does, checks what proto/SERVING.md
// promises and prints TAP lines ("ok - ..." / "not ok - ..."); the exit
// code is 1 if any check failed. Like the dashboard, every connection
// offers the subprotocols txwatch and txwatch.key.<TXW_WS_KEY> when that
// variable is set.
//   live URL SECONDS         hello then snapshot, live alerts/windows/stats/dead
//                            letters, seq +1, masked accounts, ping/pong
//   seeded URL               the first snapshot holds stored alerts and windows
//   topics URL SECONDS       ?topics=windows is honoured, then subscribe ["alerts"]
//   gap URL READYFILE SECS   after an upstream gap: detect it, resync, fresh snapshot
//   max URL N                N clients connect, one more gets HTTP 503, a freed slot is reused
//   hostile URL              garbage and a huge frame close only the sender
//   slow URL READYFILE SECS  pauses its socket; expects a slow_client gap or close 4008
//   count URL READYFILE N    counts alerts until N arrived (the well-behaved neighbour)
//   handshake URL STATUS WHAT  one handshake must get STATUS (101: opened, the
//                            protocol txwatch selected, never the key, hello
//                            and snapshot arrive); TXW_WS_ORIGIN sets Origin,
//                            TXW_WS_PROTOCOLS (comma list, "-" for none)
//                            replaces the offered protocols, TXW_WS_BEARER
//                            sends the key in Authorization instead
//   keycap URL N             N clients of TXW_WS_KEY connect, one more gets 429,
//                            TXW_WS_KEY2 still connects, a freed slot is reused
//   revoked URL READY S      a client of TXW_WS_KEY connects and writes READY;
//                            the suite revokes the key: the gateway must close
//                            the connection with 4001 within S seconds
import WebSocket from 'ws';
import { writeFileSync } from 'node:fs';
import net from 'node:net';

const [mode, url, ...args] = process.argv.slice(2);
let failed = 0;
const check = (what, cond, detail = '') => {
  if (cond) console.log(`ok - ${what}`);
  else { failed++; console.log(`not ok - ${what}${detail ? ` (${detail})` : ''}`); }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const KEY = process.env.TXW_WS_KEY || '';
const keyProtocols = (key) => (key ? ['txwatch', `txwatch.key.${key}`] : []);

// A connection that records every message and checks seq continuity.
// opts: key (default TXW_WS_KEY), protocols (replaces the offered list),
// origin, headers.
function open(u, onMessage, opts = {}) {
  const protocols = opts.protocols || keyProtocols(opts.key === undefined ? KEY : opts.key);
  const options = { maxPayload: 64 * 1024 * 1024 };
  if (opts.origin) options.origin = opts.origin;
  if (opts.headers) options.headers = opts.headers;
  const ws = new WebSocket(u, protocols, options);
  const c = { ws, msgs: [], jumps: [], lastSeq: 0, closeCode: null, status: null, opened: false,
    headers: null, error: null };
  c.ready = new Promise((resolve) => {
    ws.on('upgrade', (res) => { c.status = res.statusCode; c.headers = res.headers; });
    ws.on('open', () => { c.opened = true; resolve(true); });
    ws.on('unexpected-response', (req, res) => {
      c.status = res.statusCode; c.headers = res.headers; res.resume(); req.destroy(); resolve(false);
    });
    ws.on('error', (err) => { c.error = err.message; resolve(false); });
  });
  c.closed = new Promise((resolve) => ws.on('close', (code) => { c.closeCode = code; resolve(code); }));
  ws.on('message', (data) => {
    let m;
    try { m = JSON.parse(data.toString()); } catch { m = { type: 'unparseable' }; }
    if (c.lastSeq && m.seq !== c.lastSeq + 1) c.jumps.push([c.lastSeq, m.seq]);
    c.lastSeq = m.seq;
    c.msgs.push(m);
    if (onMessage) onMessage(m, c);
  });
  return c;
}
const ofType = (c, t) => c.msgs.filter((m) => m.type === t);
// An account id the gateway may push: a pseudonym (common/pii.h: p~ and
// 16 hex digits), or the older mask (****1234).
const MASKED = /^(p~[0-9a-f]{16}|\*+.{0,4})$/;
// Every seq jump must be announced: the message after the jump is a gap
// whose dropped count is the number of seqs skipped. The aggregators publish
// all the windows of a tick at once, so a windows subscriber may overflow
// its queue even when it reads fast; alerts and stats alone never jump.
const jumpsAnnounced = (c) => c.jumps.every(([a, b]) => {
  const m = c.msgs.find((x) => x.seq === b);
  return m && m.type === 'gap' && m.reason === 'slow_client' && m.dropped === b - a - 1;
});
async function waitFor(pred, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (pred()) return true; await sleep(50); }
  return pred();
}

async function live(seconds) {
  const c = open(`${url}?topics=alerts,stats,windows,dead_letters`);
  check('client connects to /ws', await c.ready);
  await waitFor(() => c.msgs.length >= 2, 5000);
  const [hello, snap] = c.msgs;
  check('first message is hello with seq 1', hello && hello.type === 'hello' && hello.seq === 1,
    JSON.stringify(hello));
  check('hello names the server, the topics and the queue',
    hello && /^txw-gateway /.test(hello.server) && hello.topics.length === 4 && hello.queue === Number(process.env.TXW_WS_QUEUE || 256));
  check('second message is a snapshot with seq 2', snap && snap.type === 'snapshot' && snap.seq === 2);
  check('snapshot has stats, alerts, series, top, branches and regions',
    snap && snap.stats && Array.isArray(snap.alerts) && Array.isArray(snap.series) &&
    snap.top && Array.isArray(snap.top.merchant) && Array.isArray(snap.top.category) && Array.isArray(snap.top.device) &&
    Array.isArray(snap.branches) && Array.isArray(snap.regions));
  await sleep(seconds * 500);
  const sentAt = Date.now();
  c.ws.send(JSON.stringify({ op: 'ping' }));
  await waitFor(() => ofType(c, 'pong').length > 0, 3000);
  const pong = ofType(c, 'pong')[0];
  check('ping is answered with a pong', !!pong, '');
  if (pong) console.log(`# pong after ${Date.now() - sentAt} ms`);
  await sleep(seconds * 500);
  const alerts = ofType(c, 'alert'), windows = ofType(c, 'window'), stats = ofType(c, 'stats');
  const dead = ofType(c, 'dead_letter');
  console.log(`# ${seconds} s: ${c.msgs.length} messages, ${alerts.length} alerts, ` +
    `${windows.length} windows, ${stats.length} stats, ${dead.length} dead letters, gaps ${ofType(c, 'gap').length}`);
  check('live fraud alerts arrive', alerts.length > 0);
  const a = alerts[0]?.alert || {};
  check('a pushed alert has id null, a fraud key and an open status',
    a.id === null && a.key === `fraud:${a.tx_id}` && a.status === 'open' && a.kind === 'fraud', JSON.stringify(a));
  check('pushed account ids are masked (pseudonyms)', alerts.every((m) => MASKED.test(m.alert.account_id || '*')),
    alerts.map((m) => m.alert.account_id).slice(0, 3).join(','));
  check('a pushed alert has reasons as codes and RFC 3339 times',
    Array.isArray(a.reasons) && a.reasons.length > 0 && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(a.raised_at || ''));
  check('window updates arrive', windows.length > 0);
  const w = windows.find((m) => m.window.dimension === 'overall')?.window;
  check('an overall window has the contract fields',
    w && w.key === 'all' && w.window_ms === 60000 && Number.isInteger(w.count) &&
    Number.isInteger(w.volume_minor) && typeof w.closed === 'boolean' && 'mean_score' in w, JSON.stringify(w));
  check('stats arrive about once a second', stats.length >= seconds - 2 && stats.length <= seconds + 2,
    `${stats.length} in ${seconds} s`);
  const last = stats[stats.length - 1] || {};
  check('stats count the live traffic (count > 0, rates 0..1, currency EUR)',
    last.stats && last.stats.count > 0 && last.stats.approval_rate > 0 && last.stats.approval_rate <= 1 &&
    last.stats.currency === 'EUR' && last.stats.currency_exponent === 2, JSON.stringify(last.stats));
  check('stats carry top merchants, categories and devices, branches and regions',
    last.top && last.top.merchant.length > 0 && last.top.category.length > 0 && last.top.device.length > 0 &&
    last.branches.length > 0 && last.regions.length > 0);
  check('dead letters arrive', dead.length > 0);
  check('seq increments by one, or jumps exactly as the slow_client gap after it says',
    c.msgs[0].seq === 1 && jumpsAnnounced(c), JSON.stringify(c.jumps.slice(0, 3)));
  const base = c.msgs.length;
  c.ws.send(JSON.stringify({ op: 'subscribe', topics: ['alerts', 'stats', 'dead_letters'] }));
  //  A loaded machine may take a while to drain the window backlog first.
  const snapAfter = () => c.msgs.slice(base).findIndex((m) => m.type === 'snapshot');
  await waitFor(() => snapAfter () >= 0 && c.msgs.length - base - snapAfter () > 3, 15000);
  const tail = c.msgs.slice(base);
  const s = snapAfter ();
  const after = s >= 0? tail.slice(s): [];
  check('without windows, seq increments by one on every message (alerts, stats, dead letters)',
    s >= 0 && after.length > 3 && after.every((m, i) => i === 0 || m.seq === after[i - 1].seq + 1),
    `${after.length} messages, close ${c.closeCode}`);
  c.ws.close();
}

async function seeded() {
  const c = open(`${url}?topics=alerts`);
  await c.ready;
  await waitFor(() => c.msgs.length >= 2, 5000);
  const snap = c.msgs[1] || {};
  const alerts = snap.alerts || [];
  check('the first snapshot holds stored alerts', snap.type === 'snapshot' && alerts.length > 0,
    `${alerts.length} alerts`);
  //  Live alerts that arrived between the gateway's start and this client
  //  are in the snapshot too, with id null (not stored yet).
  check('stored alerts keep their numeric id and key', alerts.some((a) => Number.isInteger(a.id)) &&
    alerts.every((a) => (a.id === null || Number.isInteger(a.id)) && typeof a.key === 'string'),
    alerts.slice(0, 5).map((a) => `${a.id}:${a.key}`).join(','));
  check('stored alerts come with masked account ids (pseudonyms)',
    alerts.filter((a) => a.kind === 'fraud').every((a) => MASKED.test(a.account_id)),
    alerts.slice(0, 3).map((a) => a.account_id).join(','));
  check('stored alerts are newest first', alerts.every((a, i) => i === 0 || alerts[i - 1].raised_at >= a.raised_at));
  check('the first snapshot holds the stored windows (series and stats)',
    (snap.series || []).length > 0 && snap.stats && snap.stats.count > 0, JSON.stringify(snap.stats));
  c.ws.close();
}

async function topics(seconds) {
  const c = open(`${url}?topics=windows`);
  await c.ready;
  await waitFor(() => c.msgs.length >= 2, 5000);
  check('hello echoes the chosen topics', JSON.stringify(c.msgs[0]?.topics) === '["windows"]',
    JSON.stringify(c.msgs[0]));
  await sleep(seconds * 500);
  const before = c.msgs.length;
  check('?topics=windows: windows arrive', ofType(c, 'window').length > 0);
  check('?topics=windows: no alert, stats or dead letter arrives',
    ['alert', 'stats', 'dead_letter'].every((t) => ofType(c, t).length === 0));
  c.ws.send(JSON.stringify({ op: 'subscribe', topics: ['alerts'] }));
  await waitFor(() => c.msgs.slice(before).some((m) => m.type === 'snapshot'), 3000);
  const i = c.msgs.findIndex((m, k) => k >= before && m.type === 'snapshot');
  check('subscribe is answered with a snapshot', i >= 0);
  await sleep(seconds * 500);
  const after = c.msgs.slice(i + 1);
  check('after subscribe ["alerts"]: alerts arrive, windows and stats do not',
    after.some((m) => m.type === 'alert') && !after.some((m) => m.type === 'window' || m.type === 'stats'),
    after.map((m) => m.type).slice(0, 8).join(','));
  check('seq stays continuous across subscribe (jumps only with their gap)', jumpsAnnounced(c),
    JSON.stringify(c.jumps.slice(0, 3)));
  c.ws.send('{"op":"subscribe","topics":["nonsense"]}');
  await sleep(300);
  check('a subscribe with an unknown topic is ignored (no snapshot)',
    c.msgs.filter((m) => m.type === 'snapshot').length === 2);
  c.ws.close();
}

async function gap(readyFile, seconds) {
  let resynced = false;
  const c = open(`${url}?topics=alerts`, (m, conn) => {
    const jumped = conn.jumps.length > 0;
    if (!resynced && (m.type === 'gap' || jumped)) {
      resynced = true;
      conn.resyncAt = conn.msgs.length;
      conn.ws.send(JSON.stringify({ op: 'resync' }));
    }
  });
  await c.ready;
  await waitFor(() => c.msgs.length >= 2, 5000);
  writeFileSync(readyFile, 'ready\n');
  await waitFor(() => resynced && c.msgs.slice(c.resyncAt).some((m) => m.type === 'snapshot'), seconds * 1000);
  const g = ofType(c, 'gap')[0];
  check('the client sees the upstream gap (gap message, reason upstream, 2 dropped)',
    g && g.reason === 'upstream' && g.dropped === 2, JSON.stringify(g));
  check('the client sends resync on the gap', resynced);
  const snap = c.msgs.slice(c.resyncAt || 0).find((m) => m.type === 'snapshot');
  check('resync is answered with a fresh snapshot', !!snap);
  const keys = (snap?.alerts || []).map((a) => a.tx_id);
  check('the fresh snapshot holds the alert that followed the gap (seq 5)',
    keys.some((k) => /-5$/.test(k || '')), keys.slice(0, 5).join(','));
  c.ws.close();
}

async function max(n) {
  const clients = [];
  for (let i = 0; i < n; i++) clients.push(open(url));
  const opened = await Promise.all(clients.map((c) => c.ready));
  check(`${n} clients (the limit) connect`, opened.every(Boolean));
  await waitFor(() => clients.every((c) => c.msgs.length >= 2), 5000);
  const extra = open(url);
  await extra.ready;
  check('one more client gets HTTP 503', extra.status === 503, `status ${extra.status}`);
  clients[0].ws.close();
  await clients[0].closed;
  await sleep(300);
  const again = open(url);
  check('a freed slot is taken by the next client', await again.ready);
  await waitFor(() => again.msgs.length >= 2, 5000);
  check('the new client gets hello and snapshot', again.msgs[1]?.type === 'snapshot');
  for (const c of [...clients, again]) c.ws.terminate();
}

async function hostile() {
  const good = open(`${url}?topics=stats`);
  await good.ready;
  await waitFor(() => good.msgs.length >= 2, 5000);
  const bad = open(url);
  await bad.ready;
  for (const junk of ['garbage', '{"op":', '[1,2,3]', '{"op":42}', '{"op":"launch"}', '{"op":"subscribe","topics":"all"}',
    '{"op":"subscribe"}', '"\u0000\u0001"', '{"op":"resync","op":"ping"}'])
    bad.ws.send(junk);
  bad.ws.send(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]));
  await sleep(300);
  check('garbage client frames do not close the connection', bad.closeCode === null);
  bad.ws.send('x'.repeat(1024 * 1024));
  const code = await Promise.race([bad.closed, sleep(5000).then(() => 'timeout')]);
  check('a 1 MiB frame closes that client (1009)', code === 1009, `close ${code}`);
  // Raw bytes that are not HTTP, and a request line with a huge header.
  await new Promise((resolve) => {
    const u = new URL(url.replace('ws://', 'http://'));
    const s = net.connect(Number(u.port), u.hostname, () => {
      s.write(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) & 255)));
      s.write(`GET /ws HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100000)}\r\n\r\n`);
      setTimeout(() => { s.destroy(); resolve(); }, 500);
    });
    s.on('error', () => resolve());
  });
  const n = good.msgs.length;
  good.ws.send('{"op":"ping"}');
  await waitFor(() => good.msgs.slice(n).some((m) => m.type === 'pong'), 3000);
  await waitFor(() => ofType(good, 'stats').length >= 3, 4000);
  check('the other client still gets pong and stats, seq unbroken',
    good.msgs.slice(n).some((m) => m.type === 'pong') && good.jumps.length === 0 && good.closeCode === null);
  good.ws.close();
}

async function slow(readyFile, seconds) {
  const c = open(url);
  await c.ready;
  await waitFor(() => c.msgs.length >= 2, 5000);
  c.ws._socket.pause();
  writeFileSync(readyFile, 'paused\n');
  await sleep(seconds * 1000);
  c.ws._socket.resume();
  await Promise.race([c.closed, waitFor(() => ofType(c, 'gap').length > 0 && c.msgs.length > 5, 15000)]);
  await sleep(1000);
  const gaps = ofType(c, 'gap');
  console.log(`# slow client: ${c.msgs.length} messages, gaps ${JSON.stringify(gaps.slice(0, 3))}, ` +
    `jumps ${JSON.stringify(c.jumps.slice(0, 3))}, close ${c.closeCode}`);
  const out = { gaps: gaps.length, slowGap: gaps.some((g) => g.reason === 'slow_client'),
    jumps: c.jumps.length, close: c.closeCode, messages: c.msgs.length };
  if (args[2] === 'expect-close') {
    check('a paused client that cannot take an alert is closed with 4008', c.closeCode === 4008, `close ${c.closeCode}`);
  } else {
    check('a paused client gets a slow_client gap', out.slowGap);
    const g = gaps.find((x) => x.reason === 'slow_client');
    const i = c.msgs.indexOf(g);
    check('the gap comes with a seq jump of dropped + 1', g && c.jumps.some(([a, b]) => b - a === g.dropped + 1) ||
      (g && c.msgs[i].seq - c.msgs[i - 1].seq === g.dropped + 1), JSON.stringify(c.jumps.slice(0, 3)));
    check('the paused client is not closed for dropped windows', c.closeCode === null, `close ${c.closeCode}`);
  }
  c.ws.terminate();
}

async function count(readyFile, n) {
  const c = open(`${url}?topics=alerts`);
  await c.ready;
  await waitFor(() => c.msgs.length >= 2, 5000);
  writeFileSync(readyFile, 'ready\n');
  await waitFor(() => ofType(c, 'alert').length >= n, 60000);
  check(`the well-behaved client gets all ${n} alerts without a jump`,
    ofType(c, 'alert').length === n && c.jumps.length === 0 && c.closeCode === null,
    `${ofType(c, 'alert').length} alerts, jumps ${c.jumps.length}, close ${c.closeCode}`);
  c.ws.close();
}

//  A close written to PostgreSQL with its status event (as the query API
//  does) reaches a connected client as an `ack` message, and the next
//  snapshot has it.
async function ack(readyFile, key) {
  const c = open(`${url}?topics=alerts`);
  await c.ready;
  await waitFor(() => c.msgs.length >= 2, 5000);
  writeFileSync(readyFile, 'ready\n');
  await waitFor(() => ofType(c, 'ack').some((m) => m.ack && m.ack.key === key), 15000);
  const m = ofType(c, 'ack').find((x) => x.ack && x.ack.key === key);
  check('a close made elsewhere is pushed to the client (type ack, key, status, time, by)',
    m && m.ack.status === 'closed' && m.ack.acked_by === 'e2e-analyst'
      && /^\d{4}-\d\d-\d\dT/.test(m.ack.acked_at || ''),
    JSON.stringify(m || ofType(c, 'ack').slice(0, 2)));
  check('the ack message keeps the seq continuous', c.jumps.length === 0 || jumpsAnnounced(c));
  const base = c.msgs.length;
  c.ws.send(JSON.stringify({ op: 'resync' }));
  await waitFor(() => c.msgs.slice(base).some((x) => x.type === 'snapshot'), 5000);
  const snap = c.msgs.slice(base).find((x) => x.type === 'snapshot') || {};
  const kept = (snap.alerts || []).find((a) => a.key === key);
  check('a fresh snapshot shows the alert closed (when it is among the recent ones)',
    !kept || (kept.status === 'closed' && kept.acked_by === 'e2e-analyst'), JSON.stringify(kept));
  c.ws.close();
}

// One handshake with what the environment says; expect is its HTTP status.
async function handshake(expect, what) {
  const env = process.env;
  const opts = {};
  if (env.TXW_WS_ORIGIN) opts.origin = env.TXW_WS_ORIGIN;
  if (env.TXW_WS_PROTOCOLS) opts.protocols = env.TXW_WS_PROTOCOLS === '-' ? [] : env.TXW_WS_PROTOCOLS.split(',');
  if (env.TXW_WS_BEARER) { opts.headers = { Authorization: `Bearer ${KEY}` }; opts.key = ''; }
  const c = open(url, null, opts);
  const opened = await Promise.race([c.ready, sleep(10000).then(() => false)]);
  const selected = c.headers ? c.headers['sec-websocket-protocol'] : undefined;
  if (expect === 101) {
    check(`${what}: the handshake is accepted`, opened && c.status === 101, `status ${c.status} ${c.error || ''}`);
    const offered = opts.protocols || keyProtocols(opts.key === undefined ? KEY : opts.key);
    check(`${what}: the selected protocol is txwatch (none when none was offered), never the key`,
      offered.length ? selected === 'txwatch' && c.ws.protocol === 'txwatch' : selected === undefined,
      `selected ${selected}`);
    await waitFor(() => c.msgs.length >= 2, 5000);
    check(`${what}: hello and snapshot arrive`, c.msgs[0]?.type === 'hello' && c.msgs[1]?.type === 'snapshot',
      c.msgs.slice(0, 2).map((m) => m.type).join(','));
    c.ws.close();
    await Promise.race([c.closed, sleep(2000)]);
  } else {
    check(`${what}: the handshake is refused with HTTP ${expect}`, !opened && c.status === expect,
      `status ${c.status} ${c.error || ''}`);
    const h = c.headers || {};
    check(`${what}: the refusal carries nosniff, a CSP and no protocol`,
      h['x-content-type-options'] === 'nosniff' && /frame-ancestors 'none'/.test(h['content-security-policy'] || '') &&
      !h['sec-websocket-protocol'], JSON.stringify(h));
    if (expect === 401)
      check(`${what}: a 401 names the Bearer scheme`, /^Bearer /.test(h['www-authenticate'] || ''));
  }
}

// The per-key cap: n clients of one key, then one too many.
async function keycap(n) {
  const other = process.env.TXW_WS_KEY2;
  const clients = [];
  for (let i = 0; i < n; i++) clients.push(open(url));
  const opened = await Promise.all(clients.map((c) => c.ready));
  check(`${n} clients of one key (its limit) connect`, opened.every(Boolean));
  await waitFor(() => clients.every((c) => c.msgs.length >= 2), 5000);
  const extra = open(url);
  await extra.ready;
  check('one more client of that key gets HTTP 429', extra.status === 429, `status ${extra.status}`);
  const second = open(url, null, { key: other });
  check('a client of another key still connects', await second.ready, `status ${second.status}`);
  clients[0].ws.close();
  await clients[0].closed;
  await sleep(300);
  const again = open(url);
  check('a connection closed frees its slot for the key', await again.ready, `status ${again.status}`);
  for (const c of [...clients, second, again]) c.ws.terminate();
}

async function revoked(readyFile, seconds) {
  const c = open(url);
  check('a client connects with a key about to be revoked', await c.ready, `status ${c.status}`);
  writeFileSync(readyFile, 'ready\n');
  const code = await Promise.race([c.closed, sleep(seconds * 1000).then(() => null)]);
  check(`the gateway closes the connection with 4001 once the key is revoked (${code})`, code === 4001);
  c.ws.terminate();
}

const modes = {
  ack: () => ack(args[0], args[1]),
  live: () => live(Number(args[0] || 8)),
  seeded: () => seeded(),
  topics: () => topics(Number(args[0] || 4)),
  gap: () => gap(args[0], Number(args[1] || 10)),
  max: () => max(Number(args[0] || 3)),
  hostile: () => hostile(),
  slow: () => slow(args[0], Number(args[1] || 5)),
  count: () => count(args[0], Number(args[1])),
  handshake: () => handshake(Number(args[0]), args[1] || 'handshake'),
  keycap: () => keycap(Number(args[0] || 2)),
  revoked: () => revoked(args[0], Number(args[1] || 10)),
};
if (!modes[mode]) { console.error(`unknown mode ${mode}`); process.exit(2); }
const timer = setTimeout(() => { console.log(`not ok - ${mode} finished in time`); process.exit(1); }, 120000);
await modes[mode]();
clearTimeout(timer);
process.exit(failed ? 1 : 0);
