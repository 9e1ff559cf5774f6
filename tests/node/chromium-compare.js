// Differential test of ssecat's text/event-stream parser against Chromium's
// EventSource (the reference). Every stream case is served, in several
// chunkings, once to an EventSource in headless Chromium (driven by
// playwright-core) and once to `ssecat --no-reconnect -j`; the events each
// saw, as {type, data, lastEventId}, must be identical. Prints the whole TAP
// stream, plan first; exits 1 on any failure.
//
// Environment: SSECAT (the ssecat binary, required), CHROMIUM (default
// /usr/bin/chromium), COMPARE_TIMEOUT (global limit in seconds, default 100).
//
// The server is a bare TCP server speaking just enough HTTP/1.1, so that
// each response carries exactly the bytes given, chunk by chunk: a stream
// path is served once (200 text/event-stream, the bytes, then the
// connection closed); any later request for it (Chromium reconnecting) gets
// 204, which makes Chromium close the EventSource (readyState CLOSED).
'use strict';
const net = require('net');
const { spawn } = require('child_process');
const { chromium } = require('playwright-core');

const SSECAT = process.env.SSECAT;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LIMIT_S = Number(process.env.COMPARE_TIMEOUT || 100);
const SSECAT_JOBS = 8;

// ---------------------------------------------------------------- cases
// b(...parts): a Buffer of UTF-8 strings and byte arrays.
function b (...parts) {
  return Buffer.concat(parts.map((p) =>
    typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)));
}
const BOM = [0xef, 0xbb, 0xbf];
const ev = (data, extra = '') => `${extra}data: ${data}\n\n`;

// n: the number of events Chromium should see (a check of the harness: a
// case where both sides see nothing because of a broken server must fail).
const CASES = [
  { name: 'LF line ends', n: 2, bytes: b('data: a\n\ndata: b\n\n') },
  { name: 'CR line ends', n: 2, bytes: b('data: a\r\rdata: b\r\r') },
  { name: 'CRLF line ends', n: 2, bytes: b('data: a\r\n\r\ndata: b\r\n\r\n') },
  {
    name: 'mixed line ends',
    n: 2,
    bytes: b('data: a\r\ndata: b\rdata: c\n\r\nevent: t\rdata: d\n\r')
  },
  { name: 'LF then CR are two line ends', n: 2, bytes: b('data: a\n\rdata: b\n\r') },
  { name: 'CR CRLF', n: 2, bytes: b('data: a\r\r\ndata: b\r\n\r\n') },
  { name: 'stream ends with CR CR', n: 1, bytes: b('data: a\r\r') },
  { name: 'blank lines only', n: 0, bytes: b('\n\n\r\n\r\r\n') },
  { name: 'empty stream', n: 0, bytes: b('') },
  {
    // (Chromium, unlike the WHATWG rules, fails a stream whose charset is
    // not UTF-8: charset=ISO-8859-1 would compare nothing.)
    name: 'Content-Type charset=utf-8 parameter',
    n: 1,
    ctype: 'text/event-stream;charset=utf-8',
    bytes: b('data: \u00e9', [0xe9], '\n\n')
  },
  {
    name: 'Content-Type in upper case, spaced parameters',
    n: 1,
    ctype: 'Text/Event-Stream ; charset="UTF-8"',
    bytes: b('data: a\n\n')
  },
  { name: 'BOM at start', n: 1, bytes: b(BOM, 'data: a\n\n') },
  { name: 'BOM twice', n: 1, bytes: b(BOM, BOM, 'data: a\n\ndata: b\n\n') },
  { name: 'BOM after the start', n: 2, bytes: b('data: a\n\n', BOM, 'data: b\n\ndata: c\n\n') },
  { name: 'truncated BOM', n: 1, bytes: b([0xef, 0xbb], 'data: a\n\ndata: b\n\n') },
  {
    name: 'leading space rules',
    n: 5,
    bytes: b('data:x\n\ndata: x\n\ndata:  x\n\ndata:\tx\n\ndata: \n\n')
  },
  {
    name: 'field name exact',
    n: 1,
    bytes: b(' data: a\n\ndata : b\n\nDATA: c\nData: d\n\ndata: e\n\n')
  },
  {
    name: 'comments',
    n: 2,
    bytes: b(': comment\n:\n:data: no\ndata: a\n: mid\ndata: b\n\n: x\n\n: y\r\ndata: c\r\n\r\n')
  },
  { name: 'multi-line data', n: 1, bytes: b('data: a\ndata: b\ndata:\ndata: c\n\n') },
  { name: 'bare data', n: 1, bytes: b('data\n\n') },
  { name: 'data colon empty', n: 1, bytes: b('data:\n\n') },
  { name: 'two bare data lines', n: 1, bytes: b('data\ndata\n\n') },
  { name: 'data ending with an empty line', n: 1, bytes: b('data: a\ndata:\n\n') },
  { name: 'colons in the value', n: 1, bytes: b('data: a: b\ndata::c\ndata:: \n\n') },
  {
    name: 'event type set and reset',
    n: 5,
    bytes: b('event: foo\ndata: 1\n\ndata: 2\n\nevent: bar\ndata: 3\n\n' +
      'event\ndata: 4\n\nevent:\ndata: 5\n\n')
  },
  { name: 'event with no data', n: 1, bytes: b('event: foo\n\ndata: x\n\n') },
  { name: 'last event field wins', n: 1, bytes: b('event: a\nevent: b\ndata: x\n\n') },
  {
    name: 'odd event types',
    n: 5,
    bytes: b('event: error\ndata: e\n\nevent: open\ndata: o\n\n' +
      'event:  sp\ndata: s\n\nevent: message\ndata: m\n\nevent: a b:c\ndata: t\n\n')
  },
  { name: 'id persists', n: 3, bytes: b('id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n') },
  { name: 'id with NUL ignored', n: 2, bytes: b('id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\nid: \0\n\n') },
  {
    name: 'empty id resets',
    n: 4,
    bytes: b('id: 1\ndata: a\n\nid\ndata: b\n\nid: 3\ndata: c\n\nid:\ndata: d\n\n')
  },
  { name: 'id-only block then event', n: 1, bytes: b('id: 7\n\ndata: a\n\n') },
  { name: 'id after data in a block', n: 1, bytes: b('data: a\nid: 5\n\n') },
  { name: 'id spaces kept', n: 1, bytes: b('id:  x \ndata: a\n\n') },
  { name: 'id in a discarded unfinished event', n: 1, bytes: b('id: 1\ndata: a\n\nid: 2\ndata: b') },
  {
    name: 'retry valid',
    n: 2,
    bytes: b('retry: 10\ndata: a\n\nretry: 0\ndata: b\n\nretry: 20\n')
  },
  {
    name: 'retry invalid',
    n: 6,
    bytes: b('retry: 1x\ndata: a\n\nretry: -5\ndata: b\n\nretry:\ndata: c\n\n' +
      'retry: 12.5\ndata: d\n\nretry:  10\ndata: e\n\n' +
      'retry: 99999999999999999999999999\ndata: f\n\nretry: 15\n\n')
  },
  {
    name: 'unknown fields',
    n: 1,
    bytes: b('foo: bar\ndata: a\nfoo\nbar:\nretryx: 1\nevents: x\nids: 9\n\n')
  },
  { name: 'fields without colon', n: 1, bytes: b('id: 3\n\ndata\nevent\nid\nretry\nx\n\n') },
  { name: 'unfinished event at EOF (LF)', n: 1, bytes: b('data: a\n\ndata: b\n') },
  { name: 'unfinished event at EOF (no LF)', n: 1, bytes: b('data: a\n\ndata: b') },
  { name: 'unfinished event at EOF (CR)', n: 1, bytes: b('data: a\n\ndata: b\r') },
  { name: 'NUL in data', n: 2, bytes: b('data: a\0b\n\ndata: \0\n\n') },
  { name: 'NUL in event type', n: 1, bytes: b('event: a\0b\ndata: x\n\n') },
  { name: 'blank-looking lines are not blank', n: 1, bytes: b('data: a\n \n\t\ndata: b  \n\n') },
  { name: 'many data lines', n: 1, bytes: b('data: x\n'.repeat(1000), '\n') },
  {
    name: 'control characters in data',
    n: 1,
    bytes: b('data: ', [1, 0x1f, 0x7f, 9, 0x0b, 0x0c, 0x1b], '"\\/\n\n')
  },
  { name: 'Unicode separators are not line ends', n: 1, bytes: b('data: a\u2028b\u2029c\u0085d\n\n') },
  { name: 'valid 2/3/4-byte characters', n: 2, bytes: b('data: é € 😀 ü\n\nevent: ünï\nid: ☃\ndata: 𝄞x\n\n') },
  { name: 'invalid UTF-8: lone continuation bytes', n: 1, bytes: b('data: a', [0x80], 'b', [0x80, 0xbf], 'c\n\n') },
  {
    name: 'invalid UTF-8: truncated sequences',
    n: 1,
    bytes: b('data: a', [0xc3], 'b', [0xe2, 0x82], 'c', [0xf0, 0x9f, 0x98], 'd', [0xe2], '\n\n')
  },
  {
    name: 'invalid UTF-8: truncated before the line end',
    n: 2,
    bytes: b('data: ', [0xf0, 0x9f], '\r\n\r\ndata: ', [0xc3], '\r\r')
  },
  {
    name: 'invalid UTF-8: overlong forms',
    n: 1,
    bytes: b('data: ', [0xc0, 0x80], '|', [0xc1, 0xbf], '|', [0xe0, 0x80, 0x80], '|',
      [0xf0, 0x80, 0x80, 0x80], '|', [0xe0, 0x9f, 0xbf], '\n\n')
  },
  {
    name: 'invalid UTF-8: surrogates',
    n: 1,
    bytes: b('data: ', [0xed, 0xa0, 0x80], '|', [0xed, 0xbf, 0xbf], '|',
      [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], '\n\n')
  },
  {
    name: 'invalid UTF-8: F5 to FF and above U+10FFFF',
    n: 1,
    bytes: b('data: ', [0xf5, 0x80], '|', [0xf8, 0x88, 0x80, 0x80, 0x80], '|', [0xfe, 0xff], '|',
      [0xf4, 0x90, 0x80, 0x80], '|', [0xf4, 0x8f, 0xbf, 0xbf], '\n\n')
  },
  {
    name: 'invalid UTF-8 in event type and id',
    n: 1,
    bytes: b('event: t', [0xff], '\nid: i', [0xc3], '\ndata: x', [0xa9], '\n\n')
  },
  {
    name: 'invalid UTF-8 in a field name',
    n: 1,
    bytes: b('dat', [0xe1], 'a: x\n\nd', [0xc3, 0xa1], 'ta: y\n\ndata: z\n\n')
  },
  { name: 'truncated UTF-8 at EOF', n: 1, bytes: b('data: a\n\ndata: ', [0xe2, 0x82]) },
  { name: 'very long line (100 KB)', n: 2, bytes: b('data: ', '0123456789'.repeat(10000), '\n\ndata: end\n\n') },
  {
    name: 'very long multi-byte line',
    n: 1,
    bytes: b('data: ', 'é€😀'.repeat(8000), '\r\n\r\n')
  },
  {
    name: '1000 events in one chunk',
    n: 1000,
    bytes: b(Array.from({ length: 1000 }, (_, i) =>
      ev(`event ${i}`, i % 3 === 0 ? `id: ${i}\n` : '') +
      (i % 7 === 0 ? 'event: seven\n' : '')).join(''))
  }
];

// ------------------------------------------------------------- chunkings
// Awkward split points: after every CR (a CRLF split between two reads, or
// a lone CR at the end of a read), after every ':', and before every UTF-8
// continuation byte (inside a multi-byte character or the BOM). At most
// MAX_PIECES pieces: the rest goes in the last one.
const MAX_PIECES = 64;
function awkward (buf) {
  const cuts = [];
  for (let i = 1; i < buf.length; i++) {
    const p = buf[i - 1];
    const c = buf[i];
    if (p === 0x0d || p === 0x3a || (c & 0xc0) === 0x80) cuts.push(i);
  }
  return cutAt(buf, cuts.slice(0, MAX_PIECES - 1));
}
function cutAt (buf, cuts) {
  const out = [];
  let prev = 0;
  for (const c of cuts) { out.push(buf.subarray(prev, c)); prev = c; }
  out.push(buf.subarray(prev));
  return out;
}
function bytewise (buf) {
  return cutAt(buf, Array.from({ length: buf.length - 1 }, (_, i) => i + 1));
}

// Variants: whole (one write, end of stream = connection close), awkward
// (pieces as separate HTTP chunks with a pause between them), bytewise
// (one byte per write, close-delimited; small streams only).
const VARIANTS = [];
CASES.forEach((c, ci) => {
  VARIANTS.push({ ci, tag: 'whole', pieces: [c.bytes], chunked: false });
  const aw = awkward(c.bytes);
  if (aw.length > 1) VARIANTS.push({ ci, tag: 'awkward splits', pieces: aw, chunked: true });
  if (c.bytes.length > 1 && c.bytes.length <= 300) {
    VARIANTS.push({ ci, tag: 'byte by byte', pieces: bytewise(c.bytes), chunked: false });
  }
});

// Event types to listen to in the page: those named in the stream (decoded
// as the parser does) and "message".
function eventTypes (buf) {
  const text = new TextDecoder('utf-8').decode(buf);
  const types = new Set(['message']);
  for (const line of text.split(/\r\n|\r|\n/)) {
    const m = /^event(?::(.*))?$/s.exec(line);
    if (m && m[1] !== undefined) types.add(m[1].startsWith(' ') ? m[1].slice(1) : m[1]);
  }
  types.delete('');
  return [...types];
}

// ---------------------------------------------------------------- server
const served = new Map(); // path -> number of requests
const sockets = new Set();
const timers = new Set();
function later (ms, fn) {
  const t = setTimeout(() => { timers.delete(t); fn(); }, ms);
  timers.add(t);
}
const PAGE = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>sse</title></head><body></body></html>';

function respond (sock, path) {
  const m = /^\/s\/(\d+)\/(chromium|ssecat)$/.exec(path);
  if (path === '/') {
    sock.end('HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(PAGE)}\r\nConnection: close\r\n\r\n${PAGE}`);
    return;
  }
  if (!m || !VARIANTS[m[1]]) {
    sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  const count = (served.get(path) || 0) + 1;
  served.set(path, count);
  if (count > 1) {
    sock.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
    return;
  }
  const v = VARIANTS[m[1]];
  sock.write('HTTP/1.1 200 OK\r\n' +
    `Content-Type: ${CASES[v.ci].ctype || 'text/event-stream'}\r\n` +
    'Cache-Control: no-cache\r\nConnection: close\r\n' +
    (v.chunked ? 'Transfer-Encoding: chunked\r\n' : '') + '\r\n');
  const frame = (p) => v.chunked
    ? Buffer.concat([Buffer.from(p.length.toString(16) + '\r\n'), p, Buffer.from('\r\n')])
    : p;
  if (v.pieces.length === 1) {
    if (v.pieces[0].length) sock.write(frame(v.pieces[0]));
    sock.end(v.chunked ? '0\r\n\r\n' : undefined);
    return;
  }
  let i = 0;
  const next = () => {
    if (sock.destroyed) return;
    if (i < v.pieces.length) {
      sock.write(frame(v.pieces[i++]));
      later(2, next);
    } else {
      sock.end(v.chunked ? '0\r\n\r\n' : undefined);
    }
  };
  next();
}

const server = net.createServer({ noDelay: true }, (sock) => {
  sockets.add(sock);
  sock.on('close', () => sockets.delete(sock));
  sock.on('error', () => {});
  let head = '';
  let done = false;
  sock.on('data', (d) => {
    if (done) return; // (keep reading: unread input would turn FIN into RST)
    head += d.toString('latin1');
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    done = true;
    const m = /^GET (\S+) HTTP\/1\.[01]\r\n/.exec(head);
    if (!m) {
      sock.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    respond(sock, m[1]);
  });
});

// ------------------------------------------------------------- the clients
// In the page: one EventSource per variant, all at once; resolves with a
// JSON string (which keeps U+0000 and any lone surrogate intact).
function pageRun (jobs) {
  /* global EventSource */
  return Promise.all(jobs.map((job) => new Promise((resolve) => {
    const events = [];
    const es = new EventSource(job.url);
    let errors = 0;
    const finish = (why) => {
      clearTimeout(timer);
      es.close();
      resolve({ events, why, errors });
    };
    const timer = setTimeout(() => finish('timeout'), job.timeout);
    const onEvent = (e) => {
      if (e instanceof MessageEvent) {
        events.push({ type: e.type, data: e.data, lastEventId: e.lastEventId });
      } else if (e.type === 'error') {
        errors++;
        if (es.readyState === EventSource.CLOSED) finish('closed');
      }
    };
    const types = new Set(job.types);
    types.add('error');
    for (const t of types) es.addEventListener(t, onEvent);
  }))).then((r) => JSON.stringify(r));
}

const children = new Set();
function runSsecat (url) {
  return new Promise((resolve) => {
    const out = [];
    const err = [];
    const child = spawn(SSECAT, ['--no-reconnect', '-j', url],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const t = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (e) => err.push(Buffer.from(String(e))));
    child.on('close', (code, signal) => {
      clearTimeout(t);
      children.delete(child);
      resolve({ out: Buffer.concat(out), err: Buffer.concat(err).toString(), code, signal });
    });
  });
}

function parseSsecat (r) {
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(r.out);
  } catch (e) {
    return { error: 'output is not valid UTF-8' };
  }
  const events = [];
  const lines = text.split('\n');
  if (lines.pop() !== '') return { error: 'output does not end with a newline' };
  for (const line of lines) {
    let o;
    try { o = JSON.parse(line); } catch (e) { return { error: `not JSON: ${short(line)}` }; }
    if (typeof o !== 'object' || o === null || typeof o.event !== 'string' ||
      typeof o.data !== 'string' || (o.id !== undefined && typeof o.id !== 'string')) {
      return { error: `unexpected JSON: ${short(line)}` };
    }
    events.push({ type: o.event, data: o.data, lastEventId: o.id === undefined ? '' : o.id });
  }
  return { events };
}

async function pool (items, n, fn) {
  const res = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      res[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return res;
}

// ------------------------------------------------------------------ output
// JSON with everything outside printable ASCII escaped.
function short (s, max = 120) {
  const j = JSON.stringify(s).replace(/[^\x20-\x7e]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  return j.length > max ? `${j.slice(0, max)}... (${s.length} chars)` : j;
}
function showEvent (e) {
  return e ? `{type: ${short(e.type, 40)}, data: ${short(e.data)}, lastEventId: ${short(e.lastEventId, 40)}}` : '(none)';
}
function showBytes (buf, max = 200) {
  let s = '';
  for (const c of buf.subarray(0, max)) {
    if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (c === 0x5c) s += '\\\\';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\x' + c.toString(16).padStart(2, '0');
  }
  return buf.length > max ? `${s}... (${buf.length} bytes)` : s;
}
function same (a, b) {
  return a.type === b.type && a.data === b.data && a.lastEventId === b.lastEventId;
}

let n = 0;
let failed = 0;
function report (good, desc, diag = []) {
  n++;
  if (!good) failed++;
  process.stdout.write(`${good ? 'ok' : 'not ok'} ${n} - ${desc}\n`);
  for (const d of diag) process.stdout.write(`# ${d}\n`);
}

function compare (v, chrome, ssecat) {
  const c = CASES[v.ci];
  const desc = `${c.name} [${v.tag}]`;
  const diag = [];
  if (!chrome || chrome.why !== 'closed') {
    diag.push(`Chromium did not finish (${chrome ? chrome.why : 'no result'})`);
  } else if (chrome.events.length !== c.n) {
    diag.push(`harness: Chromium saw ${chrome.events.length} events, the case expects ${c.n}`);
  }
  if (ssecat.signal || ssecat.code !== 0) {
    diag.push(`ssecat exit ${ssecat.signal || ssecat.code}` +
      (ssecat.err ? `: ${short(ssecat.err.trim(), 300)}` : ''));
  }
  const p = parseSsecat(ssecat);
  if (p.error) diag.push(`ssecat: ${p.error}`);
  if (chrome && p.events) {
    const a = chrome.events;
    const s = p.events;
    let i = 0;
    while (i < a.length && i < s.length && same(a[i], s[i])) i++;
    if (i < a.length || i < s.length) {
      diag.push(`${a.length} events from Chromium, ${s.length} from ssecat; first difference at event ${i}:`);
      diag.push(`  Chromium: ${showEvent(a[i])}`);
      diag.push(`  ssecat:   ${showEvent(s[i])}`);
    }
  }
  if (diag.length) diag.push(`stream: ${showBytes(c.bytes)}`);
  report(diag.length === 0, desc, diag);
}

// -------------------------------------------------------------------- main
let browser = null;
let finished = false;

async function main () {
  process.stdout.write(`1..${VARIANTS.length}\n`);
  if (!SSECAT) throw new Error('SSECAT is not set');
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const base = `http://127.0.0.1:${server.address().port}`;

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 40000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking']
  });
  const page = await browser.newPage();
  await page.goto(`${base}/`);
  const jobs = VARIANTS.map((v, i) => ({
    url: `${base}/s/${i}/chromium`,
    types: eventTypes(CASES[v.ci].bytes),
    timeout: 40000
  }));
  const [chromeJson, ssecatRes] = await Promise.all([
    page.evaluate(pageRun, jobs),
    pool(VARIANTS, SSECAT_JOBS, (v, i) => runSsecat(`${base}/s/${i}/ssecat`))
  ]);
  const chrome = JSON.parse(chromeJson);
  VARIANTS.forEach((v, i) => compare(v, chrome[i], ssecatRes[i]));
}

async function shutdown () {
  for (const t of timers) clearTimeout(t);
  for (const child of children) child.kill('SIGKILL');
  for (const s of sockets) s.destroy();
  server.close();
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
  while (n < VARIANTS.length) report(false, `${CASES[VARIANTS[n].ci].name} [${VARIANTS[n].tag}]`, ['timed out']);
  process.stdout.write(`# chromium-compare: gave up after ${LIMIT_S} s\n`);
  await shutdown();
  process.exit(1);
}, LIMIT_S * 1000);

main().then(() => {
  if (finished) return;
  if (n !== VARIANTS.length) report(false, 'all variants compared');
}, (e) => {
  if (finished) return;
  process.stdout.write(`# ${String(e && e.stack ? e.stack : e).split('\n').join('\n# ')}\n`);
  while (n < VARIANTS.length) report(false, `${CASES[VARIANTS[n].ci].name} [${VARIANTS[n].tag}]`, n === 0 ? ['not run'] : []);
}).finally(async () => {
  if (finished) return;
  finished = true;
  clearTimeout(watchdog);
  await shutdown();
  process.exit(failed ? 1 : 0);
});
