// Browser test of the viewer page (GET /) served by the real ssepush: lines
// written to ssepush's stdin must show in headless Chromium (driven by
// playwright-core) as rows with their time, type and data, ANSI colours
// rendered, typed events included; the --backlog on load; pause, clear and
// filter; reconnection, with higher ids, to an ssepush restarted on the
// same port (for the page and for a plain EventSource); --token. A local
// server also plays awkward text/event-stream bytes to the page, to check
// its own SSE parser and its reconnection (retry:, Last-Event-ID).
//
// Prints the whole TAP stream, plan first; exits 1 on any failure.
//
// Environment: SSEPUSH (the ssepush binary, required), CHROMIUM (default
// /usr/bin/chromium), VIEWER_TIMEOUT (global limit in seconds, default 100).
// Every ssepush is started here, as a child with stdin a pipe, on port 0
// (the restarted one on the port of the first), and killed by its PID.
'use strict';
const http = require('http');
const { spawn } = require('child_process');
const { chromium } = require('playwright-core');

const SSEPUSH = process.env.SSEPUSH;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LIMIT_S = Number(process.env.VIEWER_TIMEOUT || 100);
const LIVE_MS = 2000; // a line written must be shown within this
const TOKEN = 'T0k3n-s3cret';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- TAP
let n = 0;
let failed = 0;
let finished = false;

function report (cond, what, diag) {
  n++;
  if (!cond) failed++;
  process.stdout.write(`${cond ? 'ok' : 'not ok'} ${n} - ${what}\n`);
  if (!cond && diag !== undefined) {
    const text = typeof diag === 'string' ? diag : JSON.stringify(diag);
    process.stdout.write(text.split('\n').map((l) => `#   ${l}\n`).join(''));
  }
}

// ---------------------------------------------------------------- ssepush
const children = new Set();

// Start ssepush listening on 127.0.0.1:PORT; resolves to {child, port,
// stderr()} once it printed its "listening on" line, rejects if it exits
// first (with its stderr).
function startSsepush (port, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(SSEPUSH, ['-l', `127.0.0.1:${port}`, ...args],
      { stdio: ['pipe', 'ignore', 'pipe'] });
    children.add(child);
    let err = '';
    let done = false;
    child.stdin.on('error', () => {});
    child.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/^ssepush: listening on http:\/\/127\.0\.0\.1:(\d+)\/$/m);
      if (m && !done) {
        done = true;
        resolve({ child, port: Number(m[1]), stderr: () => err });
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
        const e = new Error(`ssepush exited (${code === null ? sig : code}): ${err.trim()}`);
        e.stderr = err;
        reject(e);
      }
    });
  });
}

// Kill one ssepush by its PID and wait for it to be gone.
async function stopSsepush (sp) {
  const child = sp.child;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch (e) {
    return;
  }
  const t = setTimeout(() => {
    try { process.kill(child.pid, 'SIGKILL'); } catch (e) {}
  }, 3000);
  await gone;
  clearTimeout(t);
}

function write (sp, line) {
  sp.child.stdin.write(line + '\n');
}

function httpGet (url, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: headers || {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

// Poll /metrics until ssepush has read N events of input.
async function waitEventsIn (sp, count) {
  for (let i = 0; i < 100; i++) {
    const r = await httpGet(`http://127.0.0.1:${sp.port}/metrics`);
    const m = r.body.match(/^ssepush_events_in_total (\d+)/m);
    if (m && Number(m[1]) >= count) return true;
    await sleep(50);
  }
  return false;
}

// ---------------------------------------------------------------- page helpers
const pageErrors = [];
const foreign = [];
let browser = null;

async function newPage (origin) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:')) foreign.push(u);
  });
  return page;
}

async function waitFor (page, fn, arg, ms) {
  try {
    await page.waitForFunction(fn, arg, { timeout: ms || 5000, polling: 20 });
    return true;
  } catch (e) {
    return false;
  }
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent).catch(() => null);
const count = async (page) => Number(await text(page, '#count'));
const rowData = (page) => page.$$eval('#events .ev', (rows) => rows.map((r) =>
  r.querySelector('.ev-data').textContent));
const lastRow = (page) => page.$eval('#events .ev:last-child', (r) => ({
  id: r.getAttribute('data-id'),
  type: r.getAttribute('data-type'),
  data: r.querySelector('.ev-data').textContent,
  badge: r.querySelector('.ev-type').textContent,
  badgeShown: !r.querySelector('.ev-type').hidden &&
    getComputedStyle(r.querySelector('.ev-type')).display !== 'none'
})).catch(() => null);

// Write LINE and wait (at most LIVE_MS) until the page counted one more
// event; returns the time taken in ms, or -1.
async function sendAndWait (page, sp, line) {
  const before = await count(page);
  const t0 = Date.now();
  write(sp, line);
  const ok = await waitFor(page, (c) =>
    Number(document.querySelector('#count').textContent) > c, before, LIVE_MS);
  return ok ? Date.now() - t0 : -1;
}

// Record every #state the page goes through (from now on).
function watchStates (page) {
  return page.evaluate(() => {
    window.__states = [document.querySelector('#state').textContent];
    new MutationObserver(() => {
      const s = document.querySelector('#state').textContent;
      if (window.__states[window.__states.length - 1] !== s) window.__states.push(s);
    }).observe(document.querySelector('#state'), { childList: true, characterData: true, subtree: true });
  });
}

// Does SEQ hold the items of WANT in this order (not necessarily adjacent)?
function inOrder (seq, want) {
  let i = 0;
  for (const s of seq) if (s === want[i]) i++;
  return i === want.length;
}

// ---------------------------------------------------------------- sections
// Each section reports exactly `checks` results: those it did not reach
// (an exception) are reported as failures, so the plan always holds.
const ctx = {};

const SECTIONS = [
  {
    name: 'backlog on load (d)',
    checks: 5,
    async run (ok) {
      // --retry 200: EventSources (and the page) reconnect fast in (f)/(g).
      ctx.args = ['--retry', '200', '--backlog', '3'];
      ctx.a = await startSsepush(0, ctx.args);
      ctx.port = ctx.a.port;
      ctx.origin = `http://127.0.0.1:${ctx.port}`;
      for (let i = 1; i <= 5; i++) write(ctx.a, `early ${i}`);
      ok(await waitEventsIn(ctx.a, 5), 'ssepush read the 5 early lines');
      const page = ctx.page = await newPage(ctx.origin);
      ctx.requests = [];
      page.on('request', (r) => {
        // (the viewer's own requests: not the EventSource of (g))
        if (/\/events(\?|$)/.test(r.url()) && r.resourceType() === 'fetch') {
          ctx.requests.push({ url: r.url(), headers: r.headers(), t: Date.now() });
        }
      });
      const res = await page.goto(`${ctx.origin}/`);
      ok(res.status() === 200, 'GET / answers 200', res.status());
      ok(await waitFor(page, () => document.querySelector('#state').textContent === 'live'),
        '#state is "live"', await text(page, '#state'));
      await waitFor(page, () => document.querySelectorAll('#events .ev').length >= 3);
      await sleep(200); // nothing more may come
      const rows = await rowData(page);
      ok(JSON.stringify(rows) === JSON.stringify(['early 3', 'early 4', 'early 5']),
        'the last --backlog 3 lines are shown on load', rows);
      const first = ctx.requests[0];
      ok(first && /\/events\?backlog=3$/.test(first.url),
        'the first stream request asks for ?backlog=3', ctx.requests.map((r) => r.url));
    }
  },
  {
    name: 'live lines (a)',
    checks: 4,
    async run (ok) {
      const page = ctx.page;
      const c0 = await count(page);
      const times = [];
      const got = [];
      for (let i = 1; i <= 3; i++) {
        const line = `live line ${i} <b>&amp;</b>  two  spaces`;
        times.push(await sendAndWait(page, ctx.a, line));
        got.push(await lastRow(page));
      }
      ok(times.every((t) => t >= 0), `each line shows within ${LIVE_MS} ms`, times);
      ok(await count(page) === c0 + 3, '#count went up by one a line', await text(page, '#count'));
      ok(got.every((r, i) => r && r.data === `live line ${i + 1} <b>&amp;</b>  two  spaces` &&
        r.type === 'message' && !r.badgeShown),
      '.ev-data text equals the line (type message, no badge)', got);
      const ids = got.map((r) => (r && /^\d+$/.test(r.id) ? BigInt(r.id) : -1n));
      ok(ids[0] > 0n && ids[1] > ids[0] && ids[2] > ids[1], 'data-id holds increasing ids', ids.map(String));
    }
  },
  {
    name: 'ANSI colours (b)',
    checks: 4,
    async run (ok) {
      const page = ctx.page;
      const t = await sendAndWait(page, ctx.a,
        'x \x1b[31mred \x1b[0m and \x1b[1;32m bold green \x1b[0m\x1b[K end');
      ok(t >= 0, 'the coloured line shows', t);
      const spans = await page.$$eval('#events .ev:last-child .ev-data span', (s) =>
        s.map((e) => [e.className, e.textContent]));
      ok(spans.some(([c, s]) => c.split(' ').includes('fg-1') && s === 'red '),
        'ESC[31m gives a span.fg-1 holding "red "', spans);
      ok(spans.some(([c, s]) => c.split(' ').includes('fg-2') && c.split(' ').includes('a-b') &&
        s === ' bold green '), 'ESC[1;32m gives a bold span.fg-2', spans);
      const body = await page.evaluate(() => document.body.innerText);
      const data = (await lastRow(page) || {}).data;
      ok(!body.includes('\x1b') && data === 'x red  and  bold green  end',
        'no ESC in document.body.innerText; the text is kept', data);
    }
  },
  {
    name: 'pause, clear, filter (e)',
    checks: 9,
    async run (ok) {
      const page = ctx.page;
      // filter
      await page.fill('#filter', 'NEEDLE');
      await sleep(100);
      const c0 = await count(page);
      write(ctx.a, 'haystack one');
      write(ctx.a, 'hay with a needle in it');
      write(ctx.a, 'haystack two');
      ok(await waitFor(page, (c) => Number(document.querySelector('#count').textContent) === c + 3, c0),
        'filter: the 3 lines arrive');
      await sleep(300);
      const shown = await page.$$eval('#events .ev:not([hidden]) .ev-data', (r) => r.map((e) => e.textContent));
      ok(JSON.stringify(shown) === JSON.stringify(['hay with a needle in it']),
        'filter (case-insensitive) lets only the matching live row through', shown);
      ok(await text(page, '#shown') === '1', '#shown is 1', await text(page, '#shown'));
      await page.fill('#filter', '');
      await sleep(100);
      const all = await page.$$eval('#events .ev:not([hidden])', (r) => r.length);
      ok(all === await page.$$eval('#events .ev', (r) => r.length) && all > 3,
        'emptying the filter shows every row again', all);
      // pause
      await page.click('#pause');
      const rows0 = await page.$$eval('#events .ev', (r) => r.length);
      const c1 = await count(page);
      write(ctx.a, 'while paused 1');
      write(ctx.a, 'while paused 2');
      await waitFor(page, (c) => Number(document.querySelector('#count').textContent) === c + 2, c1);
      await sleep(300);
      const rows1 = await page.$$eval('#events .ev', (r) => r.length);
      ok(rows1 === rows0 && await text(page, '#buffered') === '2 held' &&
        await page.getAttribute('#pause', 'aria-pressed') === 'true',
      'paused: #count goes on, no row added, "2 held"', [rows0, rows1, await text(page, '#buffered')]);
      await page.click('#pause');
      const tail = (await rowData(page)).slice(-2);
      ok(JSON.stringify(tail) === JSON.stringify(['while paused 1', 'while paused 2']),
        'resume adds the held rows in order', tail);
      // clear
      const c2 = await count(page);
      await page.click('#clear');
      ok(await page.$$eval('#events .ev', (r) => r.length) === 0, 'clear empties the list');
      ok(await count(page) === c2, '#count is kept by clear', await text(page, '#count'));
      const t = await sendAndWait(page, ctx.a, 'after clear');
      const rows = await rowData(page);
      ok(t >= 0 && JSON.stringify(rows) === JSON.stringify(['after clear']),
        'after clear, new lines are shown again', rows);
    }
  },
  {
    name: 'restart on the same port (f, g)',
    checks: 10,
    async run (ok) {
      const page = ctx.page;
      // (g) a plain EventSource in the page, next to the viewer's stream.
      await page.evaluate(() => {
        window.__es = [];
        window.__esOpens = 0;
        const es = new EventSource('/events');
        es.onopen = () => { window.__esOpens++; };
        es.onmessage = (e) => window.__es.push({ id: e.lastEventId, data: e.data });
      });
      await waitFor(page, () => window.__esOpens === 1);
      const t = await sendAndWait(page, ctx.a, 'before restart');
      await waitFor(page, () => window.__es.length > 0);
      const before = await lastRow(page);
      const esBefore = await page.evaluate(() => window.__es.slice());
      ok(t >= 0 && before && before.data === 'before restart' &&
        esBefore.length === 1 && esBefore[0].data === 'before restart' &&
        esBefore[0].id === before.id,
      'before the restart: the page and the EventSource got the line, same id', [before, esBefore]);
      await watchStates(page);
      const reqsBefore = ctx.requests.length;

      await stopSsepush(ctx.a);
      ok(await waitFor(page, () => document.querySelector('#state').textContent === 'reconnecting'),
        'ssepush killed: #state is "reconnecting"', await text(page, '#state'));

      // Restart on the same port, retrying while the port is not free.
      let b = null;
      let lastErr = '';
      const t0 = Date.now();
      while (b === null && Date.now() - t0 < 10000) {
        try {
          b = await startSsepush(ctx.port, ctx.args);
        } catch (e) {
          lastErr = e.message;
          await sleep(100);
        }
      }
      ctx.a = b;
      ok(b !== null, `ssepush restarted on port ${ctx.port} (within 10 s)`, lastErr);
      if (b === null) return;

      ok(await waitFor(page, () => document.querySelector('#state').textContent === 'live', null, 10000),
        'the page is "live" again', await text(page, '#state'));
      const states = await page.evaluate(() => window.__states);
      ok(inOrder(states, ['live', 'reconnecting', 'live']) && Number(await text(page, '#reconnects')) >= 1,
        'states went live -> reconnecting -> live; #reconnects counts', [states, await text(page, '#reconnects')]);
      const again = ctx.requests.slice(reqsBefore);
      ok(again.length > 0 && again.every((r) => !/backlog=/.test(r.url) &&
        r.headers['last-event-id'] === before.id),
      'each reconnection attempt sends Last-Event-ID, and asks for no backlog',
        again.map((r) => [r.url, r.headers['last-event-id']]));

      // (g) the EventSource reconnects by itself (retry: 200).
      const esOpen = await waitFor(page, () => window.__esOpens >= 2, null, 10000);
      const t2 = await sendAndWait(page, b, 'after restart');
      const after = await lastRow(page);
      ok(t2 >= 0 && after && after.data === 'after restart',
        'the page keeps receiving new lines', after);
      ok(after && /^\d+$/.test(after.id) && BigInt(after.id) > BigInt(before.id),
        '... with a higher data-id than before the restart', [before && before.id, after && after.id]);
      await waitFor(page, () => window.__es.some((e) => e.data === 'after restart'), null, LIVE_MS);
      const es = await page.evaluate(() => window.__es.slice());
      const esAfter = es.find((e) => e.data === 'after restart');
      ok(esOpen && esAfter !== undefined,
        'a plain EventSource keeps receiving after the restart', es);
      ok(esAfter && /^\d+$/.test(esAfter.id) && BigInt(esAfter.id) > BigInt(esBefore[0].id),
        '... with a higher lastEventId', es);
      await page.evaluate(() => { window.__es = null; });
    }
  },
  {
    name: 'typed events (c)',
    checks: 5,
    async run (ok) {
      const j = ctx.j = await startSsepush(0, ['-j']);
      const origin = `http://127.0.0.1:${j.port}`;
      const page = ctx.pageJ = await newPage(origin);
      await page.goto(`${origin}/`);
      ok(await waitFor(page, () => document.querySelector('#state').textContent === 'live'),
        'ssepush -j: #state is "live"', await text(page, '#state'));
      write(j, '{"data":"x","event":"deploy"}');
      write(j, '{"data":"plain"}');
      write(j, '{"data":{"a":[1,2]},"event":"json-data"}');
      write(j, '{"event":"multi","data":"one\\ntwo"}');
      await waitFor(page, () => document.querySelectorAll('#events .ev').length >= 4, null, LIVE_MS);
      const rows = await page.$$eval('#events .ev', (rs) => rs.map((r) => {
        const b = r.querySelector('.ev-type');
        return [r.getAttribute('data-type'), b.textContent,
          !b.hidden && getComputedStyle(b).display !== 'none',
          r.querySelector('.ev-data').textContent];
      }));
      ok(rows.length === 4, 'every event is shown, whatever its type', rows);
      ok(JSON.stringify(rows[0]) === JSON.stringify(['deploy', 'deploy', true, 'x']),
        '{"data":"x","event":"deploy"}: a row with a visible "deploy" badge and data x', rows[0]);
      ok(JSON.stringify(rows[1]) === JSON.stringify(['message', 'message', false, 'plain']),
        'no "event": type message, badge hidden', rows[1]);
      ok(JSON.stringify(rows.slice(2)) === JSON.stringify([
        ['json-data', 'json-data', true, '{"a":[1,2]}'],
        ['multi', 'multi', true, 'one\ntwo']]),
      'other types, JSON data and multi-line data', rows.slice(2));
      await page.close();
      await stopSsepush(j);
    }
  },
  {
    name: 'token (h)',
    checks: 6,
    async run (ok) {
      const s = await startSsepush(0, ['--token', TOKEN]);
      ctx.tok = s;
      const origin = `http://127.0.0.1:${s.port}`;
      const noTok = await httpGet(`${origin}/`);
      ok(noTok.status === 401, 'GET / without the token: 401', noTok.status);

      const page = await newPage(origin);
      const evReqs = [];
      page.on('request', (r) => { if (/\/events/.test(r.url())) evReqs.push(r); });
      const res = await page.goto(`${origin}/?token=${TOKEN}`);
      ok(res.status() === 200 &&
        await waitFor(page, () => document.querySelector('#state').textContent === 'live'),
      'the page opened with ?token= is "live"', [res.status(), await text(page, '#state')]);
      const t = await sendAndWait(page, s, 'secret line');
      ok(t >= 0 && (await lastRow(page) || {}).data === 'secret line', '... and shows lines', t);
      const r0 = evReqs[0];
      ok(r0 && r0.url().endsWith(`/events?backlog=100&token=${TOKEN}`) &&
        r0.headers().authorization === `Bearer ${TOKEN}`,
      'the token goes on to /events as ?token= and as Authorization: Bearer',
      r0 && [r0.url(), r0.headers().authorization]);
      await page.close();

      // The page itself fetched with the token in a header only: its
      // stream request has none, and gets 401.
      const p2 = await newPage(origin);
      await p2.route(`${origin}/`, (route) => route.continue({
        headers: { ...route.request().headers(), authorization: `Bearer ${TOKEN}` }
      }));
      const r2 = await p2.goto(`${origin}/`);
      const closed = await waitFor(p2, () => document.querySelector('#state').textContent === 'closed');
      const notice = await p2.$eval('#notice', (e) => (e.hidden ? '(hidden)' : e.textContent)).catch((e) => String(e));
      ok(r2.status() === 200 && closed, 'stream answered 401: #state is "closed"',
        [r2.status(), await text(p2, '#state')]);
      ok(/401/.test(notice) && /token/i.test(notice), '... and #notice says a token is needed', notice);
      await p2.close();
      await stopSsepush(s);
    }
  },
  {
    name: 'SSE parsing and reconnection (local server)',
    checks: 6,
    async run (ok) {
      // The served page (from the restarted ssepush: mode ssepush, backlog 3).
      const html = (await httpGet(`${ctx.origin}/`)).body;
      const reqs = [];
      const chunks = [
        Buffer.from([0xef, 0xbb, 0xbf]), 'data: a\r', '\ndata: b\r\n', '\r\n',
        ': a comment\n', 'event: deploy\ndata:  two spaces\n\n',
        'id: 7\nda', 'ta: x\n\n',
        'id: 8\0z\ndata: y\n\n',
        'data: c\rdata: d\r', '\r',
        'data\n\nevent: e\n\n',
        'retry: 1x\nretry: 300\n',
        'data: caf', Buffer.from([0xc3]), Buffer.from([0xa9, 0x0a, 0x0a]),
        'id: 9\ndata: unfinished\n'
      ];
      const server = http.createServer(async (req, res) => {
        const u = new URL(req.url, 'http://x');
        if (u.pathname === '/p/') {
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
          res.end(html);
          return;
        }
        if (u.pathname !== '/p/events') {
          res.writeHead(404);
          res.end();
          return;
        }
        reqs.push({ url: req.url, lei: req.headers['last-event-id'], t: Date.now() });
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        if (reqs.length === 1) {
          // Pauses, so that the page reads the chunks one by one (the
          // first pause lets it settle after its load).
          for (const c of chunks) {
            res.write(c);
            await sleep(c === chunks[0] ? 300 : 40);
          }
          res.end();
          reqs[0].end = Date.now();
        } else if (reqs.length === 2) {
          res.write('data: second\n\n');
        } else {
          res.end();
        }
      });
      ctx.server = server;
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const origin = `http://127.0.0.1:${server.address().port}`;
      const page = await newPage(origin);
      await page.goto(`${origin}/p/`);
      await waitFor(page, () => [...document.querySelectorAll('#events .ev-data')]
        .some((e) => e.textContent === 'second'), null, 8000);
      const rows = await page.$$eval('#events .ev', (rs) => rs.map((r) =>
        [r.getAttribute('data-type'), r.getAttribute('data-id'), r.querySelector('.ev-data').textContent]));
      const want = [
        ['message', '', 'a\nb'],
        ['deploy', '', ' two spaces'],
        ['message', '7', 'x'],
        ['message', '7', 'y'],
        ['message', '7', 'c\nd'],
        ['message', '7', ''],
        ['message', '7', 'caf\u00e9'],
        ['message', '7', 'second']
      ];
      ok(JSON.stringify(rows.slice(0, 5)) === JSON.stringify(want.slice(0, 5)),
        'BOM, CRLF split between reads, CR, comment, one leading space, id, id with NUL ignored', rows.slice(0, 5));
      ok(JSON.stringify(rows.slice(5, 7)) === JSON.stringify(want.slice(5, 7)),
        'bare "data" line; event with no data not dispatched; UTF-8 split between reads', rows.slice(5, 7));
      ok(JSON.stringify(rows) === JSON.stringify(want),
        'the unfinished event at the end is discarded; then the next stream', rows);
      const r1 = reqs[1];
      ok(reqs[0] && /^\/p\/events\?backlog=3$/.test(reqs[0].url) && r1 && r1.url === '/p/events',
        'only the first request asks for the backlog', reqs);
      ok(r1 && r1.lei === '7', 'the reconnection sends Last-Event-ID: 7 (not the unfinished event\'s 9)', reqs);
      const wait = r1 && reqs[0].end ? r1.t - reqs[0].end : -1;
      ok(wait >= 250 && wait < 2000, 'it waits retry: 300 ms (not the 3 s default) before reconnecting', wait);
      await page.close();
      server.close();
    }
  }
];

const PLAN = SECTIONS.reduce((a, s) => a + s.checks, 0) + 2;

async function main () {
  process.stdout.write(`1..${PLAN}\n`);
  if (!SSEPUSH) throw new Error('SSEPUSH is not set');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 40000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking']
  });
  for (const s of SECTIONS) {
    const start = n;
    let reason = '';
    try {
      await s.run((cond, what, diag) => {
        if (n - start < s.checks) report(cond, `${s.name}: ${what}`, diag);
        else report(false, `${s.name}: more checks than planned: ${what}`);
      });
    } catch (e) {
      reason = String(e && e.stack ? e.stack : e);
    }
    if (reason !== '') process.stdout.write(`# ${s.name}: ${reason.split('\n').join('\n# ')}\n`);
    while (n - start < s.checks) report(false, `${s.name}: not reached`);
  }
  report(pageErrors.length === 0, 'no errors in the pages', pageErrors);
  report(foreign.length === 0, 'no request leaves the server', foreign);
}

async function shutdown () {
  for (const child of children) {
    try { process.kill(child.pid, 'SIGKILL'); } catch (e) {}
  }
  if (ctx.server) ctx.server.close();
  if (browser) {
    const b = browser;
    browser = null;
    await Promise.race([b.close().catch(() => {}),
      new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  }
}

const watchdog = setTimeout(async () => {
  if (finished) return;
  finished = true;
  process.stdout.write(`# viewer-test: gave up after ${LIMIT_S} s\n`);
  while (n < PLAN) report(false, 'timed out');
  await shutdown();
  process.exit(1);
}, LIMIT_S * 1000);

main().catch((e) => {
  if (finished) return;
  process.stdout.write(`# ${String(e && e.stack ? e.stack : e).split('\n').join('\n# ')}\n`);
}).finally(async () => {
  if (finished) return;
  finished = true;
  clearTimeout(watchdog);
  while (n < PLAN) report(false, 'not run');
  await shutdown();
  process.exit(failed ? 1 : 0);
});
