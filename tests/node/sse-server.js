// A scriptable HTTP/HTTPS server for the ssecat tests (plain Node 20, no
// npm packages).
//
//   node sse-server.js --script FILE --log FILE [--port N]
//                      [--tls-cert F --tls-key F [--client-ca F]]
//
// Listens on 127.0.0.1 (port 0: a free one) and prints "listening PORT" on
// stdout once ready. Stops on SIGTERM or SIGINT.
//
// The script is a JSON object mapping a request path to a list of
// responses. The Nth request of a path gets the Nth response; once the
// list is used up its last response repeats. A request whose full URL
// (with the query) is a key uses that key, else its path without the
// query does; a path not in the script gets a 404 "no script". Each
// response is an object with these keys, all optional:
//
//   status      HTTP status (200)
//   headers     {name: value}; a 200 without a content type gets
//               Content-Type: text/event-stream (a null value omits a
//               header: {"Content-Type": null} sends none)
//   wait_ms     delay before the status line and headers are sent
//   body        a string written at once after the headers (UTF-8; may
//               hold \r and \u0000), or
//   body_b64    raw bytes in base64, or
//   body_file   the bytes of this file, read when the request arrives
//   chunks      [{data | data_b64, delay_ms}]: written one after another,
//               each delay_ms after the previous one
//   every       {data, every_ms}: after the chunks, written every
//               every_ms while the response is open (keep-alive comments)
//   close       true (default): end the response after the chunks and
//               hold_ms; false: keep it open until the client goes
//   hold_ms     with close: wait this long before ending (0)
//   abort       with close: destroy the connection instead of ending the
//               response properly (a broken stream)
//   drop        true: send nothing at all, close the connection at once (a
//               failed connection attempt that the log still records)
//
// Every request is appended to the log file as one JSON line, written
// (synchronously) as soon as its body is complete:
//   {"t_ms":ARRIVAL_EPOCH_MS,"n":N,"method":"GET","path":"/x?q",
//    "headers":{lower-case names},"body":"utf-8 text","body_b64":"..."}
// where N counts the requests of that script key (1, 2, ...).
//
// Besides "listening PORT", stdout gets one line per chunk written,
//   sent PATH N INDEX EPOCH_MS
// and one when a response ends or its client goes away,
//   ended PATH N EPOCH_MS        (the server ended it)
//   dropped PATH N EPOCH_MS      (drop: closed without a response)
//   gone PATH N EPOCH_MS         (the client closed the connection first)
// so that a test can wait for these moments instead of sleeping.
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');

function usage (msg) {
  process.stderr.write(`sse-server: ${msg}\n`);
  process.exit(2);
}

const opts = { port: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const v = argv[i + 1];
  switch (a) {
    case '--script': opts.script = v; i++; break;
    case '--log': opts.log = v; i++; break;
    case '--port': opts.port = Number(v); i++; break;
    case '--tls-cert': opts.cert = v; i++; break;
    case '--tls-key': opts.key = v; i++; break;
    case '--client-ca': opts.clientCa = v; i++; break;
    default: usage(`unknown argument ${a}`);
  }
}
if (!opts.script || !opts.log) usage('--script FILE and --log FILE are needed');
if (!!opts.cert !== !!opts.key) usage('--tls-cert and --tls-key go together');
if (opts.clientCa && !opts.cert) usage('--client-ca needs --tls-cert');

const script = JSON.parse(fs.readFileSync(opts.script, 'utf8'));
const logFd = fs.openSync(opts.log, 'a');
const counts = new Map();

function out (line) {
  // stdout is a file or a pipe read by the test: write it at once
  fs.writeSync(1, line + '\n');
}

function bytesOf (obj, textKey, b64Key) {
  if (obj[b64Key] !== undefined) return Buffer.from(obj[b64Key], 'base64');
  if (obj[textKey] !== undefined) return Buffer.from(String(obj[textKey]), 'utf8');
  return null;
}

function pickResponse (req) {
  const url = req.url;
  const path = url.split('?')[0];
  let key = null;
  if (Object.prototype.hasOwnProperty.call(script, url)) key = url;
  else if (Object.prototype.hasOwnProperty.call(script, path)) key = path;
  const n = (counts.get(key) || 0) + 1;
  counts.set(key, n);
  if (key === null) {
    return { key: path, n, resp: { status: 404, headers: { 'Content-Type': 'text/plain' }, body: 'no script\n' } };
  }
  const list = Array.isArray(script[key]) ? script[key] : [script[key]];
  return { key, n, resp: list[Math.min(n, list.length) - 1] || {} };
}

function respond (req, res, key, n, r) {
  const timers = [];
  let finished = false;
  const later = (ms, fn) => { timers.push(setTimeout(fn, ms || 0)); };
  const stop = () => { finished = true; timers.forEach(clearTimeout); };

  if (r.drop) {
    finished = true;
    out(`dropped ${key} ${n} ${Date.now()}`);
    req.socket.destroy();
    return;
  }
  res.on('close', () => {
    if (!finished) out(`gone ${key} ${n} ${Date.now()}`);
    stop();
  });

  const status = r.status === undefined ? 200 : r.status;
  const headers = {};
  let hasType = false;
  for (const [name, value] of Object.entries(r.headers || {})) {
    if (name.toLowerCase() === 'content-type') hasType = true;
    if (value !== null) headers[name] = value;
  }
  if (status === 200 && !hasType) headers['Content-Type'] = 'text/event-stream';

  const finish = () => {
    if (finished) return;
    if (r.close === false) {
      if (r.every) {
        const tick = () => {
          if (finished) return;
          res.write(String(r.every.data));
          later(r.every.every_ms, tick);
        };
        later(r.every.every_ms, tick);
      }
      return;
    }
    later(r.hold_ms, () => {
      if (finished) return;
      finished = true;
      out(`ended ${key} ${n} ${Date.now()}`);
      if (r.abort) res.socket.destroy();
      else res.end();
    });
  };

  const chunks = r.chunks || [];
  const sendChunk = (i) => {
    if (finished) return;
    if (i >= chunks.length) { finish(); return; }
    later(chunks[i].delay_ms, () => {
      if (finished) return;
      const data = bytesOf(chunks[i], 'data', 'data_b64') || Buffer.alloc(0);
      res.write(data);
      out(`sent ${key} ${n} ${i} ${Date.now()}`);
      sendChunk(i + 1);
    });
  };

  later(r.wait_ms, () => {
    if (finished) return;
    res.writeHead(status, headers);
    let body = bytesOf(r, 'body', 'body_b64');
    if (body === null && r.body_file !== undefined) body = fs.readFileSync(r.body_file);
    if (body !== null && body.length > 0) res.write(body);
    else res.flushHeaders();
    sendChunk(0);
  });
}

function handler (req, res) {
  const t = Date.now();
  req.socket.setNoDelay(true);
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('error', () => {});
  req.on('end', () => {
    const body = Buffer.concat(parts);
    const { key, n, resp } = pickResponse(req);
    fs.writeSync(logFd, JSON.stringify({
      t_ms: t,
      n,
      method: req.method,
      path: req.url,
      headers: req.headers,
      body: body.toString('utf8'),
      body_b64: body.toString('base64')
    }) + '\n');
    respond(req, res, key, n, resp);
  });
}

let server;
if (opts.cert) {
  const tlsOpts = {
    cert: fs.readFileSync(opts.cert),
    key: fs.readFileSync(opts.key)
  };
  if (opts.clientCa) {
    tlsOpts.ca = fs.readFileSync(opts.clientCa);
    tlsOpts.requestCert = true;
    tlsOpts.rejectUnauthorized = true;
  }
  server = https.createServer(tlsOpts, handler);
  server.on('tlsClientError', (e) => {
    out(`tls-error ${Date.now()} ${String(e.code || e.message).replace(/\s+/g, '_')}`);
  });
} else {
  server = http.createServer(handler);
}
server.keepAliveTimeout = 1000;
server.requestTimeout = 0;
server.on('clientError', (e, socket) => { socket.destroy(); });
server.listen(opts.port, '127.0.0.1', () => {
  out(`listening ${server.address().port}`);
});
server.on('error', (e) => {
  process.stderr.write(`sse-server: ${e.message}\n`);
  process.exit(1);
});
const quit = () => process.exit(0);
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
