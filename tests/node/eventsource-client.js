// An SSE client built on the npm eventsource package (3.x, the WHATWG
// EventSource for Node), for the ssepush tests.
//
//   node eventsource-client.js URL [--type TYPE]...
//
// Listens with onmessage and with addEventListener(TYPE) for each --type,
// and writes one JSON line per happening on stdout (synchronously, so that
// a test can wait for a line):
//
//   {"request":N,"last_event_id":V}  the Nth HTTP request is about to be
//                                    made (V: its Last-Event-ID header, or
//                                    null)
//   {"open":N}                       the Nth connection is open
//   {"via":L,"type":T,"data":D,"lastEventId":I}
//                                    an event, received by the listener L
//                                    ("message" for onmessage, else TYPE)
//   {"error":S}                      an error event (S: the readyState
//                                    name); the client reconnects
//
// Runs until SIGTERM or SIGINT.
'use strict';
const fs = require('fs');
const { EventSource } = require('eventsource');

function out (obj) {
  fs.writeSync(1, JSON.stringify(obj) + '\n');
}

const argv = process.argv.slice(2);
let url = null;
const types = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--type') {
    types.push(argv[++i]);
  } else if (url === null) {
    url = argv[i];
  } else {
    process.stderr.write(`eventsource-client: unexpected argument ${argv[i]}\n`);
    process.exit(2);
  }
}
if (url === null) {
  process.stderr.write('usage: eventsource-client.js URL [--type TYPE]...\n');
  process.exit(2);
}

let requests = 0;
let opens = 0;
const es = new EventSource(url, {
  // the package's own fetch, wrapped to record the request headers
  fetch: (input, init) => {
    const h = new Headers((init && init.headers) || {});
    out({ request: ++requests, last_event_id: h.get('last-event-id') });
    return fetch(input, init);
  }
});
const names = ['CONNECTING', 'OPEN', 'CLOSED'];

es.onopen = () => out({ open: ++opens });
es.onerror = () => out({ error: names[es.readyState] || String(es.readyState) });
es.onmessage = (ev) => out({
  via: 'message', type: ev.type, data: ev.data, lastEventId: ev.lastEventId
});
for (const t of types) {
  es.addEventListener(t, (ev) => out({
    via: t, type: ev.type, data: ev.data, lastEventId: ev.lastEventId
  }));
}

function stop () {
  es.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
