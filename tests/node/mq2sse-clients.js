// Real browser-side clients of mq2sse (tests/integration/mq2sse-clients.sh
// starts the mosquitto broker): the npm eventsource package (the WHATWG
// EventSource for Node) with ?topic= filters, and headless Chromium
// (playwright-core) on the viewer page in mq2sse mode: its topic tree
// (#tree, .node[data-topic] with .value), #state, #count and the .ev rows,
// updating live as mqpub publishes.
//
// Prints the whole TAP stream, plan first; exits 1 on any failure.
//
// Environment: MQ2SSE and MQPUB (the binaries), BROKER_PORT and BROKER_LOG
// (the running mosquitto and its log, for the subscriptions), CHROMIUM
// (default /usr/bin/chromium), CLIENTS_TIMEOUT (global limit in seconds,
// default 80).  Every mq2sse is started here on 127.0.0.1 port 0 and
// stopped by its PID.
'use strict';
const fs = require('fs');
const { spawn } = require('child_process');
const { EventSource } = require('eventsource');
const { chromium } = require('playwright-core');

const MQ2SSE = process.env.MQ2SSE;
const MQPUB = process.env.MQPUB;
const BROKER_PORT = process.env.BROKER_PORT;
const BROKER_LOG = process.env.BROKER_LOG;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LIMIT_S = Number(process.env.CLIENTS_TIMEOUT || 80);
const LIVE_MS = 5000; // a published message must show within this
const PLAN = 24;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- TAP
let n = 0;
let failed = 0;

function report (cond, what, diag) {
  n++;
  if (!cond) failed++;
  process.stdout.write(`${cond ? 'ok' : 'not ok'} ${n} - ${what}\n`);
  if (!cond && diag !== undefined) {
    const text = typeof diag === 'string' ? diag : JSON.stringify(diag, null, 1);
    process.stdout.write(text.split('\n').map((l) => `#   ${l}\n`).join(''));
  }
  return cond;
}

// waitFor(fn, ms): poll fn (maybe async) every 50 ms until it returns a
// truthy value (returned) or ms have passed (then the last value).
async function waitFor (fn, ms) {
  const end = Date.now() + ms;
  let v;
  for (;;) {
    v = await fn();
    if (v || Date.now() >= end) return v;
    await sleep(50);
  }
}

// ---------------------------------------------------------------- processes
const children = new Set();

// Start mq2sse -v -l 127.0.0.1:0 -h 127.0.0.1 -p BROKER_PORT -i ID ARGS;
// resolves to {child, url, err()} once it printed its listening line.
function startMq2sse (id, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(MQ2SSE, ['-v', '-l', '127.0.0.1:0', '-h', '127.0.0.1',
      '-p', BROKER_PORT, '-i', id, ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    let err = '';
    let done = false;
    child.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/^mq2sse: listening on (http:\/\/127\.0\.0\.1:\d+)\/$/m);
      if (m && !done) {
        done = true;
        resolve({ child, url: m[1], err: () => err });
      }
    });
    child.on('error', (e) => {
      children.delete(child);
      if (!done) { done = true; reject(e); }
    });
    child.on('exit', (code, sig) => {
      children.delete(child);
      if (!done) {
        done = true;
        reject(new Error(`mq2sse exited (${code === null ? sig : code}): ${err.trim()}`));
      }
    });
  });
}

async function stopChild (child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  try { process.kill(child.pid, 'SIGTERM'); } catch (e) { return; }
  const t = setTimeout(() => {
    try { process.kill(child.pid, 'SIGKILL'); } catch (e) {}
  }, 5000);
  await gone;
  clearTimeout(t);
}

// The broker logged a subscription of client ID to FILTER since it last
// started (tests/lib/broker.sh writes "--- start" into the log).
function subscribed (id, filter) {
  const log = fs.readFileSync(BROKER_LOG, 'utf8');
  const since = log.slice(log.lastIndexOf('--- start'));
  return since.split('\n').some((l) =>
    [0, 1, 2].some((q) => l.replace(/^\d+: /, '') === `${id} ${q} ${filter}`));
}

// Wait until mq2sse M is connected to the broker and subscribed to FILTER.
async function ready (m, id, filter) {
  return await waitFor(() => /^mq2sse: connected to /m.test(m.err()), 15000) &&
    await waitFor(() => subscribed(id, filter), 10000);
}

function streams (m) {
  return (m.err().match(/: connected, \d+ events of replay$/mg) || []).length;
}

async function metric (m, name) {
  try {
    const r = await fetch(`${m.url}/metrics`);
    const body = await r.text();
    const x = body.match(new RegExp(`^${name} (\\S+)$`, 'm'));
    return x ? x[1] : null;
  } catch (e) {
    return null;
  }
}

// mqpub -q 1 -t TOPIC -s ARGS with PAYLOAD (string or Buffer) on stdin;
// resolves to its exit status.
function pub (topic, payload, args) {
  return new Promise((resolve) => {
    const child = spawn(MQPUB, ['-h', '127.0.0.1', '-p', BROKER_PORT, '-q', '1',
      '-t', topic, '-s', ...(args || [])], { stdio: ['pipe', 'ignore', 'inherit'] });
    children.add(child);
    const t = setTimeout(() => {
      try { process.kill(child.pid, 'SIGKILL'); } catch (e) {}
    }, 20000);
    child.on('error', () => { clearTimeout(t); children.delete(child); resolve(-1); });
    child.on('exit', (code) => { clearTimeout(t); children.delete(child); resolve(code); });
    child.stdin.on('error', () => {});
    child.stdin.end(payload);
  });
}

// ---------------------------------------------------------------- EventSource
// An EventSource that records everything that happens to it.
function esClient (url) {
  const c = { url, events: [], opens: 0, errors: [] };
  c.es = new EventSource(url);
  c.es.onopen = () => { c.opens++; };
  c.es.onerror = (e) => {
    c.errors.push({ code: e.code, message: e.message, state: c.es.readyState });
  };
  c.es.onmessage = (ev) => {
    c.events.push({ type: ev.type, data: ev.data, id: ev.lastEventId });
  };
  return c;
}

// TOPIC=PAYLOAD[ R] of a record (b64:... for a binary payload), or null
// when the data is not an mq2sse JSON record.
function tp (data) {
  let r;
  try { r = JSON.parse(data); } catch (e) { return null; }
  if (typeof r !== 'object' || r === null || typeof r.topic !== 'string') return null;
  const p = 'payload' in r ? r.payload : 'b64:' + r.payload_b64;
  return `${r.topic}=${p}${r.retain ? ' R' : ''}`;
}

async function eventsourcePart () {
  let m;
  try {
    m = await startMq2sse('m2es', ['-t', 'es/#']);
  } catch (e) {
    report(false, 'mq2sse -t es/# started', String(e));
    return;
  }
  const up = await ready(m, 'm2es', 'es/#');
  // a retained value, in mq2sse's cache before the clients connect
  await pub('es/kitchen/temp', '20.0', ['-r']);
  const cached = await waitFor(async () => await metric(m, 'mq2sse_retained_topics') === '1', 10000);
  report(up && cached, 'mq2sse -t es/# connected, subscribed, es/kitchen/temp 20.0 retained in its cache',
    m.err());

  const u = `${m.url}/events`;
  const cs = {
    plus: esClient(`${u}?topic=es/+/temp`),
    hall: esClient(`${u}?topic=es/hall/%23`),
    two: esClient(`${u}?topic=es/kitchen/temp&topic=es/hall/light`),
    all: esClient(u)
  };
  const forbidden = esClient(`${u}?topic=other/%23`);
  const invalid = esClient(`${u}?topic=es/%23/x`);
  const opened = await waitFor(() => Object.values(cs).every((c) => c.opens === 1) &&
    streams(m) === 4, 15000);
  report(opened, 'four EventSource clients open (mq2sse logged four streams)',
    { opens: Object.values(cs).map((c) => c.opens), err: m.err() });
  for (const [c, status, what] of [[forbidden, 403, '?topic=other/%23 (outside --allow)'],
    [invalid, 400, '?topic=es/%23/x (invalid filter)']]) {
    await waitFor(() => c.errors.length > 0, 10000);
    report(c.errors.length === 1 && c.errors[0].code === status && c.opens === 0 &&
      c.es.readyState === EventSource.CLOSED,
    `EventSource ${what}: error event with status ${status}, CLOSED, no retry`,
    { errors: c.errors, opens: c.opens, state: c.es.readyState });
  }

  const msgs = [['es/kitchen/temp', '21.5'], ['es/hall/temp', '19'],
    ['es/hall/light', 'on'], ['es/hall/bin', Buffer.from([0x61, 0, 0x62])],
    ['es/kitchen/temp', '22.0'], ['es/other', 'x']];
  let pubOk = true;
  for (const [t, p] of msgs) pubOk = (await pub(t, p)) === 0 && pubOk;
  const want = {
    plus: ['es/kitchen/temp=20.0 R', 'es/kitchen/temp=21.5', 'es/hall/temp=19',
      'es/kitchen/temp=22.0'],
    hall: ['es/hall/temp=19', 'es/hall/light=on', 'es/hall/bin=b64:YQBi'],
    two: ['es/kitchen/temp=20.0 R', 'es/kitchen/temp=21.5', 'es/hall/light=on',
      'es/kitchen/temp=22.0'],
    all: ['es/kitchen/temp=20.0 R', 'es/kitchen/temp=21.5', 'es/hall/temp=19',
      'es/hall/light=on', 'es/hall/bin=b64:YQBi', 'es/kitchen/temp=22.0', 'es/other=x']
  };
  await waitFor(() => Object.keys(want).every((k) => cs[k].events.length >= want[k].length), 10000);
  // anything that would still come (it should not) has had time to come
  // with the last event of "all", published last
  const what = {
    plus: '?topic=es/+/temp (a literal +)',
    hall: '?topic=es/hall/%23',
    two: '?topic=es/kitchen/temp&topic=es/hall/light',
    all: 'no topic='
  };
  for (const k of Object.keys(want)) {
    const got = cs[k].events.map((e) => tp(e.data));
    report(pubOk && JSON.stringify(got) === JSON.stringify(want[k]),
      `EventSource ${what[k]}: each data parses as a JSON record, the right topics (retained snapshot first)`,
      { want: want[k], got: cs[k].events.map((e) => e.data) });
  }
  const evs = Object.values(cs).flatMap((c) => c.events);
  report(evs.length > 0 && evs.every((e) => e.type === 'message'),
    'every event is of type message (onmessage)', evs.map((e) => e.type));
  // ids: the snapshot's is the newest id when the client connected (the
  // same for all three, nothing happened in between); then strictly
  // increasing, and the same message has the same id for every client
  const byMsg = new Map();
  let idsOk = true;
  const idDiag = {};
  for (const [k, c] of Object.entries(cs)) {
    idDiag[k] = c.events.map((e) => e.id);
    let last = -1n;
    c.events.forEach((e, i) => {
      if (!/^\d+$/.test(e.id)) { idsOk = false; return; }
      const id = BigInt(e.id);
      const snapshot = i === 0 && k !== 'hall';
      if (!snapshot && id <= last) idsOk = false;
      last = id;
      const key = snapshot ? 'snapshot' : e.data;
      if (byMsg.has(key) && byMsg.get(key) !== e.id) idsOk = false;
      byMsg.set(key, e.id);
    });
  }
  report(idsOk, 'lastEventId: decimal ids, increasing, the same for the same message in every client',
    idDiag);

  for (const c of [...Object.values(cs), forbidden, invalid]) c.es.close();
  await stopChild(m.child);
}

// ---------------------------------------------------------------- Chromium
async function viewerPart () {
  let m;
  await pub('home/garage/door', 'closed', ['-r']);
  try {
    m = await startMq2sse('m2vw', ['-t', 'home/#']);
  } catch (e) {
    report(false, 'mq2sse -t home/# started', String(e));
    return;
  }
  const up = await ready(m, 'm2vw', 'home/#') &&
    await waitFor(async () => await metric(m, 'mq2sse_retained_topics') === '1', 10000);
  report(up, 'mq2sse -t home/# connected, subscribed, the retained home/garage/door cached',
    m.err());

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 40000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking']
  });
  try {
    const page = await browser.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));

    const state = (p) => p.evaluate(() => {
      const s = document.getElementById('state');
      return s ? s.textContent.trim() : null;
    });
    const node = (p, topic) => p.evaluate((t) => {
      const rows = [...document.querySelectorAll('#tree .node')]
        .filter((r) => r.getAttribute('data-topic') === t);
      if (rows.length === 0) return null;
      const v = rows[0].querySelector('.value');
      return {
        count: rows.length,
        value: v ? v.textContent : null,
        retained: rows[0].getAttribute('data-retained')
      };
    }, topic);
    const nodeValue = async (p, topic) => {
      const x = await node(p, topic);
      return x ? x.value : null;
    };
    const count = (p) => p.evaluate(() => Number(document.getElementById('count').textContent));
    const rows = (p) => p.evaluate(() => [...document.querySelectorAll('#events .ev')].map((r) => {
      const t = r.querySelector('.ev-topic');
      const d = r.querySelector('.ev-data');
      return `${t ? t.textContent : '-'} ${d ? d.textContent : '-'}`;
    }));

    await page.goto(`${m.url}/`, { timeout: 15000 });
    const live = await waitFor(async () => await state(page) === 'live' && streams(m) === 1, 15000);
    report(live, '#state is "live" once the page has its stream',
      { state: await state(page), err: m.err() });
    report(await page.evaluate(() => document.body.getAttribute('data-mode')) === 'mq2sse',
      'the page is in mq2sse mode (body[data-mode])');
    const door = await waitFor(() => node(page, 'home/garage/door'), 5000);
    report(door && door.value === 'closed' && door.retained === 'true',
      'the tree shows the retained home/garage/door: closed, data-retained="true"', door);

    const count0 = await count(page);
    const steps = [['home/kitchen/temp', '21.5'], ['home/kitchen/temp', '22.0'],
      ['home/hall/light', 'on']];
    for (const [t, p] of steps) {
      const t0 = Date.now();
      const code = await pub(t, p);
      const shown = await waitFor(async () => await nodeValue(page, t) === p, LIVE_MS);
      const x = await node(page, t);
      const extra = t === 'home/kitchen/temp'
        ? await node(page, 'home') && await node(page, 'home/kitchen') : true;
      report(code === 0 && shown && x.count === 1 && extra,
        `mqpub ${t} ${p}: the tree's node for ${t} shows ${p} (${Date.now() - t0} ms)` +
        (p === '22.0' ? ', updated in place' : ''),
        { node: x, home: await node(page, 'home'), kitchen: await node(page, 'home/kitchen') });
    }
    const added = await waitFor(async () => await count(page) - count0 === 3, 5000);
    report(added, '#count went up by 3', { before: count0, after: await count(page) });
    const evRows = await rows(page);
    report(JSON.stringify(evRows.slice(-3)) === JSON.stringify(
      ['home/kitchen/temp 21.5', 'home/kitchen/temp 22.0', 'home/hall/light on']),
    'the last three .ev rows: their topics and payloads, in order', evRows);
    report(evRows.filter((r) => r === 'home/garage/door closed').length === 1,
      'the retained home/garage/door is one row of the stream (the page asks for ?backlog: each message once)',
      evRows);
    report(await state(page) === 'live', '#state is still "live"', await state(page));

    // a page with its own ?topic=, passed on to its stream
    const page2 = await browser.newPage();
    page2.on('pageerror', (e) => pageErrors.push(String(e)));
    await page2.goto(`${m.url}/?topic=home/kitchen/%23`, { timeout: 15000 });
    const live2 = await waitFor(async () => await state(page2) === 'live' && streams(m) === 2, 15000);
    report(live2, 'a page opened with ?topic=home/kitchen/%23 is live', await state(page2));
    await pub('home/hall/light', 'off');
    await pub('home/kitchen/temp', '23');
    const seen2 = await waitFor(async () => await nodeValue(page2, 'home/kitchen/temp') === '23', LIVE_MS);
    const seen1 = await waitFor(async () => await nodeValue(page, 'home/hall/light') === 'off' &&
      await nodeValue(page, 'home/kitchen/temp') === '23', LIVE_MS);
    const hall2 = await node(page2, 'home/hall/light');
    const door2 = await node(page2, 'home/garage/door');
    report(seen1 && seen2 && hall2 === null && door2 === null,
      '... its tree gets home/kitchen/temp 23 but neither home/hall/light nor home/garage/door (the first page gets both)',
      { seen1, seen2, hall2, door2, rows: await rows(page2) });
    report(pageErrors.length === 0, 'no errors in the pages', pageErrors);
  } finally {
    await browser.close().catch(() => {});
    await stopChild(m.child);
  }
}

// ---------------------------------------------------------------- main
async function main () {
  process.stdout.write(`1..${PLAN}\n`);
  for (const [v, what] of [[MQ2SSE, 'MQ2SSE'], [MQPUB, 'MQPUB'], [BROKER_PORT, 'BROKER_PORT'],
    [BROKER_LOG, 'BROKER_LOG']]) {
    if (!v) {
      report(false, `${what} is set`);
      process.exit(1);
    }
  }
  await eventsourcePart();
  await viewerPart();
  if (n !== PLAN) {
    process.stdout.write(`# planned ${PLAN} tests but ran ${n}\n`);
    failed++;
  }
}

const watchdog = setTimeout(async () => {
  process.stdout.write(`Bail out! mq2sse-clients.js still running after ${LIMIT_S} s\n`);
  for (const c of children) {
    try { process.kill(c.pid, 'SIGKILL'); } catch (e) {}
  }
  process.exit(1);
}, LIMIT_S * 1000);

main().then(async () => {
  clearTimeout(watchdog);
  for (const c of [...children]) await stopChild(c);
  process.exit(failed ? 1 : 0);
}, async (e) => {
  report(false, 'no exception', String(e && e.stack ? e.stack : e));
  for (const c of [...children]) await stopChild(c);
  process.exit(1);
});
