/*
 * The viewer page of ssepush and mq2sse (SPEC.md sections 6 and 7).
 *
 * Stable DOM hooks, relied on by the browser tests:
 *   #state       connection state, exactly one of:
 *                connecting | live | reconnecting | closed
 *                (body[data-state] holds the same word)
 *   #reconnects  how many times the page tried to re-establish the stream
 *   #count       events received since the page loaded (Clear keeps it)
 *   #shown       rows in the list that the filter lets through
 *   #events      the list; one element .ev a row, with data-id (the event's
 *                id, "" when it had none) and data-type, holding .ev-time,
 *                .ev-type (hidden for "message"), .ev-id and .ev-data.
 *                mq2sse records also have .ev-topic, .ev-flags (retained,
 *                QoS) and a .ev-json button that shows the raw JSON in a
 *                .ev-raw element; their .ev-data holds the payload and its
 *                title the raw JSON
 *   #pause       pauses/resumes the list (aria-pressed="true" when paused)
 *   #buffered    how many events arrived while paused
 *   #clear       empties the list
 *   #filter      case-insensitive substring filter over type and data
 *                (and topic and payload in mq2sse); other rows get hidden
 *   #jump        "new events" button, shown while scrolled up
 *   #tree        mq2sse topic tree: one .node per topic level, with
 *                data-topic (the topic up to that level), data-retained,
 *                .name, .value (latest payload, "[binary N bytes]" for a
 *                binary one) and .time
 *   #notice      why the stream is not live, when there is something to
 *                say (401: a token is needed; an HTTP error; 204: the
 *                server ended the stream); hidden otherwise
 *
 * The server fills in the mqsse-mode and mqsse-backlog meta elements and
 * the title. Opened as a file, they still hold their "@MQSSE_..." names;
 * the page then takes ?mode= from its URL, or ssepush, and a backlog of 100.
 *
 * The page's own query string is passed on to the stream: token=T as is
 * (and as an Authorization: Bearer header), and in mq2sse each
 * topic=FILTER as is (so a literal "+" stays the MQTT wildcard, SPEC.md
 * section 7). backlog=N overrides the served backlog.
 *
 * The stream is read with fetch() and parsed here (not with EventSource,
 * which delivers an event only to listeners of its type and has no
 * catch-all): every event is shown, whatever its type. The parser and the
 * reconnection follow EventSource (WHATWG HTML, "Server-sent events"):
 * after the stream ends or a network error, the page waits the reconnection
 * time (3 s, or the server's retry:) and reconnects with Last-Event-ID, so
 * the server replays what was missed; only the first stream asks for the
 * ?backlog (a reconnection must not get it again). Unlike EventSource, an
 * HTTP error does not end it all: repeated failures are retried with a
 * doubling delay (at most 30 s, or the server's retry: when longer), back
 * to the reconnection time once an event arrives. A 204 answer stops it.
 * The ?types= parameter of earlier versions is no longer needed and is
 * ignored.
 *
 * Data is only ever put in the DOM through text nodes and textContent:
 * nothing received is parsed as HTML.
 */
(function () {
	'use strict';

	var MAX_ROWS = 5000; /* oldest rows are dropped past this */
	var DEFAULT_BACKLOG = 100;
	var RETRY_DEFAULT = 3000; /* ms before reconnecting (EventSource's 3 s) */
	var BACKOFF_MAX = 30000; /* ms, longest wait between failed attempts */
	var TITLE_MAX = 2000; /* characters of data in a title tooltip */
	var TREE_VALUE_MAX = 200; /* characters of payload in the tree */
	var FLASH_MAX = 64; /* tree nodes highlighted per frame */
	var QUEUE_MAX = 20000; /* events waiting for a frame (background tab) */
	var TYPES_MAX = 20; /* event types listed in the info line */

	function $(id) {
		return document.getElementById(id);
	}

	var ui = {
		body: document.body,
		title: $('title'),
		state: $('state'),
		reconnects: $('reconnects'),
		count: $('count'),
		shown: $('shown'),
		info: $('info'),
		pause: $('pause'),
		buffered: $('buffered'),
		clear: $('clear'),
		filter: $('filter'),
		events: $('events'),
		empty: $('empty'),
		jump: $('jump'),
		notice: $('notice'),
		treePanel: $('tree-panel'),
		treeToggle: $('tree-toggle'),
		tree: $('tree'),
		treeEmpty: $('tree-empty'),
		topics: $('topics'),
		expandAll: $('expand-all'),
		collapseAll: $('collapse-all')
	};

	/* Configuration: served meta values, else the page's query string. */

	function decode(s) {
		try {
			return decodeURIComponent(s);
		} catch (e) {
			return s;
		}
	}

	/* The query string as written: raw keeps each "k=v" undecoded. */
	var params = location.search.replace(/^\?/, '').split('&').filter(
	    function (kv) {
		return kv !== '';
	}).map(function (kv) {
		var i = kv.indexOf('=');
		var k = i < 0 ? kv : kv.slice(0, i);
		return {
			key: decode(k),
			value: i < 0 ? '' : decode(kv.slice(i + 1)),
			raw: kv
		};
	});

	function param(key) {
		for (var i = 0; i < params.length; i++) {
			if (params[i].key === key)
				return params[i].value;
		}
		return null;
	}

	function meta(name) {
		var m = document.querySelector('meta[name="' + name + '"]');
		var v = m ? m.getAttribute('content') || '' : '';
		/* An unsubstituted placeholder: the file opened directly. */
		return v.indexOf('@MQSSE_') === 0 ? '' : v;
	}

	var mode = meta('mqsse-mode') || param('mode') || 'ssepush';
	if (mode !== 'mq2sse')
		mode = 'ssepush';
	var mq = mode === 'mq2sse';

	var backlog = DEFAULT_BACKLOG;
	if (/^\d+$/.test(param('backlog') || ''))
		backlog = Number(param('backlog'));
	else if (/^\d+$/.test(meta('mqsse-backlog')))
		backlog = Number(meta('mqsse-backlog'));

	var title = document.title;
	if (title === '' || title.indexOf('@MQSSE_') === 0)
		title = mode;
	document.title = title;
	ui.title.textContent = title;
	ui.body.setAttribute('data-mode', mode);

	/* The info line: topics (mq2sse) and the event types seen so far. */
	var seenTypes = [];
	var typesInfo = document.createElement('code');
	typesInfo.textContent = '\u2014';
	(function showInfo() {
		if (mq) {
			var topics = params.filter(function (p) {
				return p.key === 'topic';
			}).map(function (p) {
				return p.value;
			});
			ui.info.appendChild(document.createTextNode('topics '));
			var c = document.createElement('code');
			c.textContent = topics.length ? topics.join(' ') :
			    'all allowed';
			ui.info.appendChild(c);
			ui.info.appendChild(document.createTextNode(' \u00b7 '));
			ui.info.title = 'Add ?topic=FILTER to the address to ' +
			    'choose topics';
		}
		ui.info.appendChild(document.createTextNode('types '));
		ui.info.appendChild(typesInfo);
	})();

	function sawType(t) {
		if (seenTypes.length > TYPES_MAX || seenTypes.indexOf(t) >= 0)
			return;
		seenTypes.push(t);
		typesInfo.textContent = seenTypes.length > TYPES_MAX ?
		    seenTypes.slice(0, TYPES_MAX).join(' ') + ' \u2026' :
		    seenTypes.join(' ');
	}

	/* Small helpers. */

	function make(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined)
			e.textContent = text;
		return e;
	}

	function pad(n, w) {
		var s = String(n);
		while (s.length < w)
			s = '0' + s;
		return s;
	}

	/* HH:MM:SS.mmm, local time. */
	function clock(ms) {
		var d = new Date(ms);
		return pad(d.getHours(), 2) + ':' + pad(d.getMinutes(), 2) + ':' +
		    pad(d.getSeconds(), 2) + '.' + pad(d.getMilliseconds(), 3);
	}

	function cap(s, n) {
		return s.length > n ? s.slice(0, n) + '\u2026' : s;
	}

	/*
	 * ANSI escape sequences. One regular expression finds, in order: a CSI
	 * sequence (ESC [ params intermediates final; only SGR, final "m", is
	 * interpreted, the rest such as ESC[K or cursor moves is dropped); an
	 * OSC string (ESC ] ... BEL or ESC \, e.g. hyperlinks: the link text
	 * stays); DCS/SOS/PM/APC strings; any other escape; and any remaining
	 * C0/C1 control character except tab and newline. Everything matched
	 * leaves no trace in the DOM.
	 */
	var CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
	var ESCAPES = new RegExp(
	    '\\x1b\\[([0-?]*)([ -/]*)([@-~])' +
	    '|\\x1b\\][^\\x07\\x1b]*(?:\\x07|\\x1b\\\\)?' +
	    '|\\x1b[PX^_][^\\x1b]*(?:\\x1b\\\\)?' +
	    '|\\x1b[ -/]*[0-~]?' +
	    '|[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]', 'g');

	function plainText(s) {
		return CONTROL.test(s) ? s.replace(ESCAPES, '') : s;
	}

	function sgrReset() {
		return {
			fg: null, bg: null, bold: false, dim: false, italic: false,
			under: false, strike: false, inverse: false
		};
	}

	/* 0-255 for the xterm palette, [r, g, b], or null; else undefined. */
	function extColour(list, i) {
		var kind = Number(list[i]);
		if (kind === 5 && i + 1 < list.length) {
			var n = Number(list[i + 1]);
			return {
				c: n >= 0 && n <= 255 && list[i + 1] !== '' ? n : null,
				used: 2
			};
		}
		if (kind === 2 && i + 3 < list.length) {
			var rgb = [Number(list[i + 1]), Number(list[i + 2]),
			    Number(list[i + 3])];
			var ok = rgb.every(function (v) {
				return v >= 0 && v <= 255;
			});
			return { c: ok ? rgb : null, used: 4 };
		}
		return { c: null, used: list.length };
	}

	function sgrBasic(st, n) {
		if (n === 0) {
			var r = sgrReset();
			for (var k in r)
				st[k] = r[k];
		} else if (n === 1) {
			st.bold = true;
		} else if (n === 2) {
			st.dim = true;
		} else if (n === 3) {
			st.italic = true;
		} else if (n === 4 || n === 21) {
			st.under = true;
		} else if (n === 7) {
			st.inverse = true;
		} else if (n === 9) {
			st.strike = true;
		} else if (n === 22) {
			st.bold = st.dim = false;
		} else if (n === 23) {
			st.italic = false;
		} else if (n === 24) {
			st.under = false;
		} else if (n === 27) {
			st.inverse = false;
		} else if (n === 29) {
			st.strike = false;
		} else if (n >= 30 && n <= 37) {
			st.fg = n - 30;
		} else if (n === 39) {
			st.fg = null;
		} else if (n >= 40 && n <= 47) {
			st.bg = n - 40;
		} else if (n === 49) {
			st.bg = null;
		} else if (n >= 90 && n <= 97) {
			st.fg = n - 90 + 8;
		} else if (n >= 100 && n <= 107) {
			st.bg = n - 100 + 8;
		}
	}

	/* Apply the parameters of one SGR sequence (ESC [ params m). */
	function sgr(st, params) {
		var list = params === '' ? ['0'] : params.split(';');
		for (var i = 0; i < list.length; i++) {
			var p = list[i];
			var n;
			if (p.indexOf(':') >= 0) {
				/* ITU form: 38:5:n, 38:2:[space]:r:g:b, 4:x. */
				var sub = p.split(':');
				n = Number(sub[0]);
				if (n === 38 || n === 48 || n === 58) {
					if (sub[1] === '2' && sub.length >= 6)
						sub.splice(2, 1);
					var x = extColour(sub, 1);
					if (n === 38 && x.c !== null)
						st.fg = x.c;
					else if (n === 48 && x.c !== null)
						st.bg = x.c;
				} else if (n === 4) {
					st.under = sub[1] !== '0';
				}
				continue;
			}
			n = p === '' ? 0 : Number(p);
			if (n === 38 || n === 48 || n === 58) {
				var e = extColour(list, i + 1);
				if (n === 38 && e.c !== null)
					st.fg = e.c;
				else if (n === 48 && e.c !== null)
					st.bg = e.c;
				i += e.used;
				continue;
			}
			sgrBasic(st, n);
		}
	}

	function xterm(n) {
		if (n < 232) {
			var steps = [0, 95, 135, 175, 215, 255];
			n -= 16;
			return 'rgb(' + steps[Math.floor(n / 36)] + ',' +
			    steps[Math.floor(n / 6) % 6] + ',' + steps[n % 6] + ')';
		}
		var g = 8 + (n - 232) * 10;
		return 'rgb(' + g + ',' + g + ',' + g + ')';
	}

	/* The 16 base colours are classes (the theme picks the shade). */
	function paint(span, c, bg) {
		if (c === null)
			return;
		if (c === 'rev') {
			span.classList.add(bg ? 'bg-rev' : 'fg-rev');
			return;
		}
		if (typeof c === 'number' && c < 16) {
			span.classList.add((bg ? 'bg-' : 'fg-') + c);
			return;
		}
		var css = typeof c === 'number' ? xterm(c) :
		    'rgb(' + c.join(',') + ')';
		if (bg)
			span.style.backgroundColor = css;
		else
			span.style.color = css;
	}

	function styled(st) {
		return st.fg !== null || st.bg !== null || st.bold || st.dim ||
		    st.italic || st.under || st.strike || st.inverse;
	}

	function emit(parent, text, st) {
		if (!styled(st)) {
			parent.appendChild(document.createTextNode(text));
			return;
		}
		var s = make('span', 'ansi', text);
		var fg = st.fg;
		var bg = st.bg;
		if (st.inverse) {
			fg = st.bg === null ? 'rev' : st.bg;
			bg = st.fg === null ? 'rev' : st.fg;
		}
		paint(s, fg, false);
		paint(s, bg, true);
		if (st.bold)
			s.classList.add('a-b');
		if (st.dim)
			s.classList.add('a-d');
		if (st.italic)
			s.classList.add('a-i');
		if (st.under)
			s.classList.add('a-u');
		if (st.strike)
			s.classList.add('a-s');
		parent.appendChild(s);
	}

	/*
	 * Append TEXT to PARENT with its SGR colours as spans; returns the text
	 * without any escape or control character (what the filter searches).
	 */
	function renderAnsi(parent, text) {
		if (!CONTROL.test(text)) {
			if (text !== '')
				parent.appendChild(document.createTextNode(text));
			return text;
		}
		var st = sgrReset();
		var plain = '';
		var last = 0;
		var m;
		ESCAPES.lastIndex = 0;
		for (;;) {
			m = ESCAPES.exec(text);
			if (m === null)
				break;
			if (m.index > last) {
				emit(parent, text.slice(last, m.index), st);
				plain += text.slice(last, m.index);
			}
			last = ESCAPES.lastIndex;
			if (m[3] === 'm' && m[2] === '' && !/^[<=>?]/.test(m[1]))
				sgr(st, m[1]);
		}
		if (last < text.length) {
			emit(parent, text.slice(last), st);
			plain += text.slice(last);
		}
		return plain;
	}

	/* mq2sse records: the JSON object of mqsub -j. */

	function b64Length(s) {
		s = s.replace(/\s+/g, '');
		var padding = /==$/.test(s) ? 2 : /=$/.test(s) ? 1 : 0;
		return Math.max(0, Math.floor(s.length / 4) * 3 - padding);
	}

	function parseRecord(data) {
		if (data.charAt(0) !== '{')
			return null;
		var o;
		try {
			o = JSON.parse(data);
		} catch (e) {
			return null;
		}
		if (o === null || typeof o !== 'object' ||
		    typeof o.topic !== 'string')
			return null;
		var rec = {
			topic: o.topic,
			qos: typeof o.qos === 'number' ? o.qos : 0,
			retain: o.retain === true,
			ts: typeof o.ts === 'string' ? o.ts : '',
			json: o,
			text: null,
			size: 0
		};
		if (typeof o.payload === 'string')
			rec.text = o.payload;
		else if (typeof o.payload_b64 === 'string')
			rec.size = b64Length(o.payload_b64);
		else
			return null;
		return rec;
	}

	/* Rows of the event list. */

	var rowText = new WeakMap(); /* row -> lowercased searchable text */
	var rowRaw = new WeakMap(); /* mq2sse row -> its record */
	var rowCount = 0;
	var shownCount = 0;
	var filterText = '';

	function buildRow(ev) {
		var row = make('div', 'ev');
		row.setAttribute('data-id', ev.id);
		row.setAttribute('data-type', ev.type);
		row.appendChild(make('span', 'ev-time', clock(ev.t)));
		var type = make('span', 'ev-type', ev.type);
		type.title = 'event type';
		if (ev.type === 'message')
			type.hidden = true;
		row.appendChild(type);

		var data = make('span', 'ev-data');
		var search = ev.type + '\n';
		var rec = ev.rec;
		if (rec) {
			row.appendChild(make('span', 'ev-topic', rec.topic));
			var flags = [];
			if (rec.retain)
				flags.push('R');
			if (rec.qos > 0)
				flags.push('q' + rec.qos);
			if (flags.length) {
				var f = make('span', 'ev-flags', flags.join(' '));
				f.title = (rec.retain ? 'retained, ' : '') +
				    'QoS ' + rec.qos;
				row.appendChild(f);
			}
			if (rec.text === null) {
				data.textContent = '[binary ' + rec.size + ' bytes]';
				data.classList.add('meta');
			} else if (rec.text === '') {
				data.textContent = '(empty)';
				data.classList.add('meta');
			} else {
				search += renderAnsi(data, rec.text) + '\n';
			}
			search += rec.topic + '\n' + ev.data;
			data.title = cap(ev.data, TITLE_MAX);
			rowRaw.set(row, rec);
		} else if (mq && ev.type === 'binary') {
			/* mq2sse --data payload: base64 of a non-UTF-8 payload. */
			data.textContent = '[binary ' + b64Length(ev.data) +
			    ' bytes]';
			data.classList.add('meta');
			data.title = cap(ev.data, TITLE_MAX);
			search += ev.data;
		} else {
			search += renderAnsi(data, ev.data);
		}
		row.appendChild(data);
		var id = make('span', 'ev-id', ev.id);
		id.title = 'event id';
		row.appendChild(id);
		if (rec) {
			var b = make('button', 'ev-json', '{}');
			b.type = 'button';
			b.setAttribute('aria-label', 'Show raw JSON');
			b.setAttribute('aria-expanded', 'false');
			row.appendChild(b);
		}
		rowText.set(row, search.toLowerCase());
		return row;
	}

	function matches(row) {
		return filterText === '' ||
		    rowText.get(row).indexOf(filterText) >= 0;
	}

	/* Stick to the bottom unless the user scrolled up. */
	var stuck = true;

	function atBottom() {
		var e = ui.events;
		return e.scrollTop + e.clientHeight >= e.scrollHeight - 24;
	}

	function toBottom() {
		ui.events.scrollTop = ui.events.scrollHeight;
		stuck = true;
		ui.jump.hidden = true;
	}

	function updateCounts() {
		ui.count.textContent = String(received);
		ui.shown.textContent = String(shownCount);
		ui.empty.hidden = rowCount > 0;
	}

	function appendRows(items) {
		if (items.length === 0)
			return;
		if (items.length > MAX_ROWS)
			items = items.slice(items.length - MAX_ROWS);
		var frag = document.createDocumentFragment();
		items.forEach(function (ev) {
			var row = buildRow(ev);
			if (matches(row))
				shownCount++;
			else
				row.hidden = true;
			frag.appendChild(row);
		});
		ui.events.appendChild(frag);
		rowCount += items.length;
		while (rowCount > MAX_ROWS) {
			var old = ui.events.firstChild;
			if (!old.hidden)
				shownCount--;
			ui.events.removeChild(old);
			rowCount--;
		}
		if (stuck)
			toBottom();
		else
			ui.jump.hidden = false;
	}

	function applyFilter() {
		filterText = ui.filter.value.toLowerCase();
		var n = 0;
		for (var r = ui.events.firstChild; r !== null; r = r.nextSibling) {
			var ok = matches(r);
			if (r.hidden === ok)
				r.hidden = !ok;
			if (ok)
				n++;
		}
		shownCount = n;
		updateCounts();
		if (stuck)
			toBottom();
	}

	/* The topic tree (mq2sse). */

	var collator = new Intl.Collator(undefined, { numeric: true });
	var treeRoot = { kids: new Map(), keys: [], ul: ui.tree, tog: null };
	var topicCount = 0;
	var flashes = 0;
	var motion = !(window.matchMedia &&
	    window.matchMedia('(prefers-reduced-motion: reduce)').matches);

	function sortedIndex(keys, key) {
		var lo = 0;
		var hi = keys.length;
		while (lo < hi) {
			var mid = (lo + hi) >> 1;
			if (collator.compare(keys[mid], key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo;
	}

	function setExpanded(tog, ul, open) {
		ul.hidden = !open;
		tog.textContent = open ? '\u25be' : '\u25b8';
		tog.setAttribute('aria-expanded', String(open));
		tog.setAttribute('aria-label', (open ? 'Collapse ' : 'Expand ') +
		    tog.parentNode.getAttribute('data-topic'));
	}

	function treeChild(parent, key, path) {
		var li = make('li', 'tn');
		var row = make('div', 'node');
		row.setAttribute('data-topic', path);
		row.setAttribute('data-retained', 'false');
		var tog = make('button', 'toggle');
		tog.type = 'button';
		tog.hidden = true;
		var name = make('button', 'name', key === '' ? '(empty)' : key);
		name.type = 'button';
		if (key === '')
			name.classList.add('blank');
		name.title = 'Filter the stream by ' + path;
		var value = make('span', 'value');
		var ret = make('span', 'ret', 'R');
		ret.title = 'retained';
		ret.hidden = true;
		var time = make('span', 'time');
		row.appendChild(tog);
		row.appendChild(name);
		row.appendChild(value);
		row.appendChild(ret);
		row.appendChild(time);
		li.appendChild(row);
		var node = {
			kids: new Map(), keys: [], li: li, row: row, tog: tog,
			value: value, ret: ret, time: time, ul: null, n: 0
		};
		if (parent.ul === null) {
			parent.ul = make('ul');
			parent.li.appendChild(parent.ul);
			parent.tog.hidden = false;
			setExpanded(parent.tog, parent.ul, true);
		}
		var i = sortedIndex(parent.keys, key);
		parent.keys.splice(i, 0, key);
		parent.kids.set(key, node);
		parent.ul.insertBefore(li, parent.ul.children[i] || null);
		return node;
	}

	function treeUpdate(rec, t) {
		var parts = rec.topic.split('/');
		var node = treeRoot;
		var path = '';
		for (var i = 0; i < parts.length; i++) {
			path = i === 0 ? parts[0] : path + '/' + parts[i];
			var next = node.kids.get(parts[i]);
			if (next === undefined)
				next = treeChild(node, parts[i], path);
			node = next;
		}
		if (node.n === 0) {
			topicCount++;
			ui.topics.textContent = String(topicCount);
			ui.treeEmpty.hidden = true;
		}
		node.n++;
		var text;
		var full;
		if (rec.text === null) {
			text = full = '[binary ' + rec.size + ' bytes]';
		} else if (rec.text === '') {
			text = full = '(empty)';
		} else {
			full = plainText(rec.text);
			text = cap(full.replace(/\n/g, '\u21b5'), TREE_VALUE_MAX);
		}
		node.value.textContent = text;
		node.value.title = cap(full, TITLE_MAX);
		node.value.classList.toggle('meta', rec.text === null ||
		    rec.text === '');
		node.ret.hidden = !rec.retain;
		node.row.setAttribute('data-retained', String(rec.retain));
		var ms = rec.ts ? Date.parse(rec.ts) : NaN;
		node.time.textContent = clock(isNaN(ms) ? t : ms);
		node.time.title = rec.ts || '';
		node.row.title = node.n + (node.n === 1 ? ' message' :
		    ' messages') + ', last QoS ' + rec.qos;
		if (motion && flashes < FLASH_MAX && node.row.animate) {
			flashes++;
			node.row.animate([{ backgroundColor: 'var(--flash)' },
			    { backgroundColor: 'transparent' }], 800);
		}
	}

	/*
	 * Events are queued as they arrive and drawn once per frame: a fast
	 * stream then costs one layout a frame, not one an event. A timer backs
	 * up requestAnimationFrame, which stops in a background tab.
	 */
	var queue = [];
	var scheduled = false;
	var received = 0;
	var paused = false;
	var held = [];
	var heldCount = 0;

	function flush() {
		if (!scheduled)
			return;
		scheduled = false;
		var batch = queue;
		queue = [];
		flashes = 0;
		batch.forEach(function (ev) {
			if (mq) {
				ev.rec = parseRecord(ev.data);
				if (ev.rec)
					treeUpdate(ev.rec, ev.t);
			}
		});
		if (paused) {
			heldCount += batch.length;
			held = held.concat(batch);
			if (held.length > MAX_ROWS)
				held = held.slice(held.length - MAX_ROWS);
			ui.buffered.textContent = heldCount + ' held';
		} else {
			appendRows(batch);
		}
		updateCounts();
	}

	function schedule() {
		if (scheduled)
			return;
		scheduled = true;
		requestAnimationFrame(flush);
		setTimeout(flush, 250);
	}

	function onEvent(type, data, id) {
		received++;
		sawType(type);
		queue.push({
			type: type, id: id, data: data, t: Date.now(), rec: null
		});
		/* A hidden tab gets no frames and slow timers: bound the wait. */
		if (queue.length >= QUEUE_MAX) {
			scheduled = true;
			flush();
		} else {
			schedule();
		}
	}

	/*
	 * The text/event-stream parser (WHATWG HTML, "Parsing an event
	 * stream"), fed decoded text: the TextDecoder has already dropped a
	 * leading BOM and turned invalid UTF-8 into U+FFFD. Lines end at CRLF,
	 * LF or CR, also when a CRLF is split between two reads. An unfinished
	 * line is kept as pieces (joined once complete), so that a long line
	 * arriving in many reads is not copied again at each one. The last
	 * event ID buffer starts as the connection's last event ID (as in
	 * Chromium and Firefox); the event source's last event ID is set from it
	 * at each dispatch. What follows the last blank line when the stream
	 * ends is simply never dispatched.
	 */
	function makeParser(startId, handlers) {
		var pieces = [];
		var skipLF = false;
		var data = '';
		var type = '';
		var idBuf = startId;

		function dispatch() {
			handlers.id(idBuf);
			if (data === '') {
				type = '';
				return;
			}
			var d = data.slice(0, -1); /* the last LF */
			var t = type === '' ? 'message' : type;
			data = '';
			type = '';
			handlers.event(t, d, idBuf);
		}

		function line(l) {
			if (l === '') {
				dispatch();
				return;
			}
			var c = l.indexOf(':');
			if (c === 0)
				return; /* a comment */
			var field = c < 0 ? l : l.slice(0, c);
			var value = c < 0 ? '' : l.slice(c + 1);
			if (value.charCodeAt(0) === 32)
				value = value.slice(1);
			if (field === 'data')
				data += value + '\n';
			else if (field === 'event')
				type = value;
			else if (field === 'id') {
				if (value.indexOf('\0') < 0)
					idBuf = value;
			} else if (field === 'retry') {
				if (/^[0-9]+$/.test(value))
					handlers.retry(Number(value));
			}
		}

		return function feed(text) {
			var n = text.length;
			var pos = 0;
			var lf = -2; /* next LF at or after pos; -1: none; -2: unknown */
			var cr = -2;
			if (skipLF && n > 0) {
				skipLF = false;
				if (text.charCodeAt(0) === 10)
					pos = 1;
			}
			while (pos < n) {
				if (lf !== -1 && lf < pos)
					lf = text.indexOf('\n', pos);
				if (cr !== -1 && cr < pos)
					cr = text.indexOf('\r', pos);
				var end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
				if (end < 0)
					break;
				var l = text.slice(pos, end);
				if (pieces.length > 0) {
					pieces.push(l);
					l = pieces.join('');
					pieces = [];
				}
				pos = end + 1;
				if (end === cr) {
					if (pos === n)
						skipLF = true;
					else if (text.charCodeAt(pos) === 10)
						pos++;
				}
				line(l);
			}
			if (pos < n)
				pieces.push(text.slice(pos));
		};
	}

	/*
	 * The connection: fetch() and a stream reader, reconnecting as
	 * EventSource does (see the top of the file).
	 *
	 *   network error, stream ended  reconnecting; wait; reconnect
	 *   HTTP error, not an event     closed (and #notice); wait; reconnect
	 *   stream
	 *   204                          closed for good
	 *
	 * The wait is the reconnection time, doubled at each attempt that
	 * brings no event, up to BACKOFF_MAX.
	 */
	var lastId = ''; /* the event source's last event ID */
	var retryMs = RETRY_DEFAULT;
	var failures = 0; /* attempts since the last event */
	var reconnects = 0;
	var opened = false; /* a stream was opened: the backlog came with it */
	var controller = null; /* of the current request */
	var timer = null;
	var stopped = false;

	function setState(s) {
		ui.state.textContent = s;
		ui.body.setAttribute('data-state', s);
		ui.reconnects.textContent = String(reconnects);
	}

	function notice(text) {
		ui.notice.textContent = text || '';
		ui.notice.hidden = !text;
	}

	function eventsUrl() {
		var q = opened ? [] : ['backlog=' + backlog];
		params.forEach(function (p) {
			if (p.key === 'token' || (mq && p.key === 'topic'))
				q.push(p.raw);
		});
		return 'events' + (q.length ? '?' + q.join('&') : '');
	}

	/* A header value is bytes: send the ID as UTF-8, as EventSource does. */
	function utf8Bytes(s) {
		return /^[\x20-\x7e]*$/.test(s) ? s :
		    unescape(encodeURIComponent(s));
	}

	function requestHeaders() {
		var h = { 'Accept': 'text/event-stream', 'Cache-Control': 'no-cache' };
		if (lastId !== '')
			h['Last-Event-ID'] = utf8Bytes(lastId);
		var token = param('token');
		if (token !== null && /^[\x21-\x7e]+$/.test(token))
			h.Authorization = 'Bearer ' + token;
		return h;
	}

	function isEventStream(type) {
		return (type || '').split(';')[0].trim().toLowerCase() ===
		    'text/event-stream';
	}

	function seconds(ms) {
		return ms < 1000 ? ms + ' ms' : Math.round(ms / 1000) + ' s';
	}

	/* Wait, then try again; returns the wait in ms. */
	function retryLater() {
		/* (a retry: 0 must not become a busy loop) */
		var delay = failures === 0 ? retryMs : Math.max(retryMs, 100) *
		    Math.pow(2, Math.min(failures, 20));
		delay = Math.min(delay, Math.max(BACKOFF_MAX, retryMs), 0x7fffffff);
		failures++;
		timer = setTimeout(function () {
			timer = null;
			reconnects++;
			setState('reconnecting');
			connect();
		}, delay);
		return delay;
	}

	/* The stream ended or the network failed. */
	function lost(ctl) {
		if (ctl !== controller || stopped)
			return;
		controller = null;
		setState('reconnecting');
		retryLater();
	}

	/* The server answered, but not with an event stream. */
	function refused(res) {
		controller = null;
		if (res.body)
			res.body.cancel().catch(function () {});
		setState('closed');
		if (res.status === 204) {
			notice('The server ended the stream (204 No Content): ' +
			    'reload the page to connect again.');
			return;
		}
		var delay = retryLater();
		var why;
		if (res.status === 401)
			why = '401 Unauthorized: this stream needs a token. ' +
			    'Open the page as ' + location.pathname +
			    '?token=TOKEN.';
		else if (res.status === 200)
			why = 'The server answered with ' +
			    (res.headers.get('Content-Type') || 'no content type') +
			    ', not text/event-stream.';
		else
			why = 'The server answered ' + res.status +
			    (res.statusText ? ' ' + res.statusText : '') + '.';
		notice(why + ' Retrying in ' + seconds(delay) + '.');
	}

	function read(res, ctl) {
		var reader = res.body.getReader();
		var decoder = new TextDecoder('utf-8');
		var feed = makeParser(lastId, {
			id: function (id) {
				lastId = id;
			},
			retry: function (ms) {
				retryMs = ms;
			},
			event: function (type, data, id) {
				failures = 0;
				onEvent(type, data, id);
			}
		});
		/* Not a promise chain: a long stream would keep every link. */
		function pump() {
			reader.read().then(function (r) {
				if (ctl !== controller || stopped) {
					reader.cancel().catch(function () {});
					return;
				}
				if (r.done) {
					/* The unfinished event is discarded. */
					feed(decoder.decode());
					lost(ctl);
					return;
				}
				feed(decoder.decode(r.value, { stream: true }));
				pump();
			}, function () {
				lost(ctl);
			});
		}
		pump();
	}

	function connect() {
		if (location.protocol === 'file:') {
			setState('closed');
			ui.empty.textContent = 'Opened from a file: no event ' +
			    'stream. Serve this page with ssepush or mq2sse.';
			return;
		}
		if (stopped)
			return;
		var ctl = new AbortController();
		controller = ctl;
		var req;
		try {
			req = fetch(eventsUrl(), {
				headers: requestHeaders(),
				cache: 'no-store',
				credentials: 'same-origin',
				signal: ctl.signal
			});
		} catch (err) {
			req = Promise.reject(err);
		}
		req.then(function (res) {
			if (ctl !== controller || stopped)
				return;
			if (res.status !== 200 ||
			    !isEventStream(res.headers.get('Content-Type')) ||
			    !res.body) {
				refused(res);
				return;
			}
			opened = true;
			notice('');
			setState('live');
			read(res, ctl);
		}, function () {
			lost(ctl);
		});
	}

	/* Leaving the page: end the request (back from the cache: resume). */
	window.addEventListener('pagehide', function () {
		stopped = true;
		if (timer !== null) {
			clearTimeout(timer);
			timer = null;
		}
		if (controller !== null) {
			controller.abort();
			controller = null;
		}
	});
	window.addEventListener('pageshow', function (e) {
		if (!e.persisted || !stopped)
			return;
		stopped = false;
		reconnects++;
		setState('reconnecting');
		connect();
	});

	/* Controls. */

	ui.pause.addEventListener('click', function () {
		/* What arrived before the click belongs to the old state. */
		flush();
		paused = !paused;
		ui.pause.setAttribute('aria-pressed', String(paused));
		ui.pause.textContent = paused ? 'Resume' : 'Pause';
		if (paused) {
			heldCount = 0;
			ui.buffered.textContent = '0 held';
			ui.buffered.hidden = false;
		} else {
			ui.buffered.hidden = true;
			var items = held;
			held = [];
			heldCount = 0;
			appendRows(items);
			updateCounts();
		}
	});

	ui.clear.addEventListener('click', function () {
		ui.events.textContent = '';
		rowCount = 0;
		shownCount = 0;
		held = [];
		heldCount = 0;
		ui.buffered.textContent = '0 held';
		toBottom();
		updateCounts();
	});

	var filterPending = false;
	ui.filter.addEventListener('input', function () {
		if (filterPending)
			return;
		filterPending = true;
		requestAnimationFrame(function () {
			filterPending = false;
			applyFilter();
		});
	});
	ui.filter.addEventListener('keydown', function (e) {
		if (e.key === 'Escape' && ui.filter.value !== '') {
			ui.filter.value = '';
			applyFilter();
		}
	});
	document.addEventListener('keydown', function (e) {
		var t = e.target;
		if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey &&
		    t.tagName !== 'INPUT' && t.tagName !== 'TEXTAREA' &&
		    !t.isContentEditable) {
			e.preventDefault();
			ui.filter.focus();
		}
	});

	ui.events.addEventListener('scroll', function () {
		stuck = atBottom();
		if (stuck)
			ui.jump.hidden = true;
	}, { passive: true });
	ui.jump.addEventListener('click', function () {
		toBottom();
	});

	/* The raw JSON of an mq2sse row, shown under it on demand. */
	ui.events.addEventListener('click', function (e) {
		var b = e.target.closest('.ev-json');
		if (b === null)
			return;
		var row = b.parentNode;
		var raw = row.querySelector('.ev-raw');
		if (raw !== null) {
			row.removeChild(raw);
			b.setAttribute('aria-expanded', 'false');
			b.setAttribute('aria-label', 'Show raw JSON');
			return;
		}
		var rec = rowRaw.get(row);
		raw = make('pre', 'ev-raw', JSON.stringify(rec.json, null, 2));
		row.appendChild(raw);
		b.setAttribute('aria-expanded', 'true');
		b.setAttribute('aria-label', 'Hide raw JSON');
	});

	if (mq) {
		ui.treePanel.hidden = false;
		ui.treeToggle.hidden = false;
		ui.treeToggle.addEventListener('click', function () {
			var open = ui.treePanel.hidden;
			ui.treePanel.hidden = !open;
			ui.treeToggle.setAttribute('aria-expanded', String(open));
		});
		ui.tree.addEventListener('click', function (e) {
			var b = e.target.closest('button');
			if (b === null)
				return;
			var row = b.parentNode;
			if (b.classList.contains('toggle')) {
				var ul = row.parentNode.querySelector(':scope > ul');
				setExpanded(b, ul, ul.hidden);
			} else if (b.classList.contains('name')) {
				ui.filter.value = row.getAttribute('data-topic');
				applyFilter();
			}
		});
		var all = function (open) {
			ui.tree.querySelectorAll('.toggle:not([hidden])').forEach(
			    function (tog) {
				var ul = tog.parentNode.parentNode.querySelector(
				    ':scope > ul');
				setExpanded(tog, ul, open);
			});
		};
		ui.expandAll.addEventListener('click', function () {
			all(true);
		});
		ui.collapseAll.addEventListener('click', function () {
			all(false);
		});
	}

	setState('connecting');
	updateCounts();
	connect();
})();
