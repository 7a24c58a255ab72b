/*
 * Parley agent console: the queue of handed-off conversations, their
 * transcripts followed live, replies, hand back and close, and analytics.
 * Talks to the HTTP API of docs/http-api.md with an agent key taken from
 * the URL fragment (#key=...) or a sign-in form and kept in sessionStorage.
 */
(function () {
  'use strict';

  var API = location.origin;
  var KEY_STORE = 'parley.agentKey';
  var QUEUE_EVERY_MS = 2500;

  var REASONS = {
    customer_request: 'Customer asked for a person',
    misunderstood: 'Misunderstood three times',
    loop: 'Flow went round in circles',
    no_answer: 'No answer in the knowledge base',
    identity_failed: 'Identity check failed',
    backend_failed: 'Backend failed',
    flow: 'Handed off by the flow'
  };
  function reasonLabel(r) {
    if (!r) return 'hand-off';
    if (REASONS[r]) return REASONS[r];
    if (r.indexOf('flow:') === 0) return REASONS.flow + ' (' + r.slice(5) + ')';
    return r;
  }
  var LANGUAGES = { en: 'English', fr: 'French', es: 'Spanish', de: 'German' };

  var key = null;
  var queue = [];
  var selected = null;       // conversation id
  var selectedInfo = null;   // its queue entry (or null once it left the queue)
  var transcript = null;     // GET /v1/conversations/{id}
  var seen = {};             // seq -> true in the open transcript
  var lastSeq = 0;
  var stream = null;         // AbortController of the open stream
  var queueTimer = null;
  var tickTimer = null;

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'text') e.textContent = v;
        else if (k === 'className') e.className = v;
        else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? '' : v);
      });
    }
    (children || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  /* ---------- errors ---------- */

  function describe(err) {
    if (!err || err.status === undefined) return 'Cannot reach the Parley server. Check the connection; retrying.';
    if (err.status === 401) return 'The agent key was refused (401). Sign in again.';
    if (err.status === 403) return 'This key may not use the agent console (403).';
    if (err.status === 429) return 'Too many requests; retry in ' + (err.retryAfter || 1) + ' s.';
    if (err.status === 409) return 'Not possible in the conversation\'s current state' + (err.message ? ': ' + err.message : '.');
    if (err.status === 503) return 'The server is unavailable (503)' + (err.message ? ': ' + err.message : '.');
    return 'Request failed (' + err.status + (err.code ? ' ' + err.code : '') + ')' + (err.message ? ': ' + err.message : '');
  }

  function showError(err) {
    $('alert-text').textContent = typeof err === 'string' ? err : describe(err);
    $('alert').hidden = false;
    if (err && err.status === 401) signOut(true);
  }
  function clearError() { $('alert').hidden = true; $('alert-text').textContent = ''; }

  /* ---------- HTTP ---------- */

  function request(method, path, body) {
    var headers = { Authorization: 'Bearer ' + key, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(API + path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (res) {
        return res.text().then(function (txt) {
          var data = null;
          try { data = txt ? JSON.parse(txt) : null; } catch (e) { data = null; }
          if (res.ok) return data || {};
          var e = data && data.error ? data.error : {};
          var ra = parseInt(res.headers.get('Retry-After') || '', 10);
          throw { status: res.status, code: e.code, message: e.message, retryAfter: isNaN(ra) ? null : ra };
        });
      }, function () { throw { network: true }; });
  }

  /* ---------- time ---------- */

  function waited(since) {
    var t = Date.parse(since);
    if (isNaN(t)) return '';
    var s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + (s % 60) + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }

  function clock(iso) {
    var t = new Date(iso);
    return isNaN(t) ? '' : t.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  /* ---------- sign in ---------- */

  function signIn(k) {
    key = k;
    try { sessionStorage.setItem(KEY_STORE, k); } catch (e) { /* ignore */ }
    $('login').hidden = true;
    $('tabs').hidden = false;
    $('sign-out').hidden = false;
    showTab('queue');
    refreshQueue();
    queueTimer = setInterval(refreshQueue, QUEUE_EVERY_MS);
    tickTimer = setInterval(tick, 1000);
  }

  function signOut(keepError) {
    key = null;
    try { sessionStorage.removeItem(KEY_STORE); } catch (e) { /* ignore */ }
    clearInterval(queueTimer); clearInterval(tickTimer);
    closeStream();
    selected = null;
    $('tabs').hidden = true; $('sign-out').hidden = true;
    $('panel-queue').hidden = true; $('panel-analytics').hidden = true;
    $('login').hidden = false;
    if (!keepError) clearError();
    $('login-key').focus();
  }

  /* ---------- tabs ---------- */

  function showTab(name) {
    ['queue', 'review', 'analytics'].forEach(function (n) {
      var tab = $('tab-' + n), on = n === name;
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      $('panel-' + n).hidden = !on;
    });
    if (name === 'analytics') loadAnalytics();
    if (name === 'review') refreshReview();
  }

  function initTabs() {
    var tabs = [$('tab-queue'), $('tab-review'), $('tab-analytics')];
    tabs.forEach(function (t, i) {
      t.addEventListener('click', function () { showTab(t.id.slice(4)); });
      t.addEventListener('keydown', function (e) {
        var j = null;
        if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
        else if (e.key === 'ArrowLeft') j = (i + tabs.length - 1) % tabs.length;
        else if (e.key === 'Home') j = 0;
        else if (e.key === 'End') j = tabs.length - 1;
        if (j === null) return;
        e.preventDefault();
        tabs[j].focus();
        showTab(tabs[j].id.slice(4));
      });
    });
  }

  /* ---------- review: label what the bot did not understand ---------- */

  var REVIEW_REASONS = {
    out_of_scope: 'Out of scope', clarify: 'Asked which one', not_understood: 'Not understood',
    handoff: 'Handed off'
  };

  function refreshReview() {
    request('GET', '/v1/review?status=open&limit=100').then(function (res) {
      renderReview(res.items || [], res.intents || []);
    }, showError);
  }

  function renderReview(items, intents) {
    var list = $('review-list');
    list.textContent = '';
    $('review-count').textContent = items.length ? String(items.length) : '';
    $('review-empty').hidden = items.length > 0;
    items.forEach(function (it) {
      var sel = el('select', { id: 'review-intent-' + it.id, 'aria-label': 'Intent for message ' + it.id },
        [el('option', { value: '' }, ['Choose the intent…'])].concat(intents.map(function (n) {
          var o = el('option', { value: n }, [n]);
          if (n === it.predicted) o.selected = true;
          return o;
        })));
      function send(body) {
        request('POST', '/v1/review/' + it.id, body).then(function () {
          clearError();
          refreshReview();
        }, showError);
      }
      list.appendChild(el('li', { class: 'review-item', id: 'review-' + it.id }, [
        el('p', { class: 'review-text' }, [it.text]),
        el('p', { class: 'muted' }, [(REVIEW_REASONS[it.reason] || it.reason) + ' · ' + it.language +
          (it.predicted ? ' · bot leaned to ' + it.predicted + ' (' + Math.round(it.confidence * 100) + '%)' : '') +
          (it.verified ? '' : ' · customer not verified: learnable only with their consent')]),
        el('div', { class: 'review-actions' }, [sel,
          el('button', { type: 'button', class: 'primary', onclick: function () {
            if (!sel.value) { showError('Choose the intent first.'); return; }
            send({ intent: sel.value });
          } }, ['Label']),
          el('button', { type: 'button', onclick: function () { send({ dismiss: true }); } }, ['Dismiss'])])
      ]));
    });
  }

  /* ---------- queue ---------- */

  function refreshQueue() {
    if (!key) return;
    request('GET', '/v1/handoffs').then(function (res) {
      queue = res.handoffs || [];
      if ($('alert-text').getAttribute('data-from') === 'queue') clearError();
      renderQueue();
      $('queue-updated').textContent = 'Updated ' + new Date().toLocaleTimeString();
    }, function (err) {
      showError(err);
      $('alert-text').setAttribute('data-from', 'queue');
    });
  }

  function renderQueue() {
    var list = $('queue-list');
    var focusedId = document.activeElement && document.activeElement.getAttribute('data-conversation');
    list.textContent = '';
    $('queue-empty').hidden = queue.length > 0;
    $('queue-count').textContent = queue.length ? String(queue.length) : '';
    queue.forEach(function (h) {
      var b = el('button', {
        type: 'button', 'data-conversation': h.conversation_id, 'aria-current': h.conversation_id === selected ? 'true' : 'false',
        onclick: function () { select(h.conversation_id); }
      }, [
        el('span', { className: 'q-top' }, [
          el('span', { className: 'badge reason', text: reasonLabel(h.reason) }),
          el('span', { className: 'badge', title: 'language', text: (h.language || '?').toUpperCase() }),
          h.intent ? el('span', { className: 'badge', title: 'intent', text: h.intent }) : null,
          el('span', { className: 'q-wait', 'data-since': h.since, text: waited(h.since) })
        ]),
        el('span', { className: 'q-summary', text: h.summary || '(no summary)' })
      ]);
      list.appendChild(el('li', null, [b]));
      if (focusedId === h.conversation_id) b.focus();
    });
    if (selected) {
      var info = null;
      queue.forEach(function (h) { if (h.conversation_id === selected) info = h; });
      if (info) { selectedInfo = info; renderFacts(); }
    }
  }

  function tick() {
    var w = document.querySelectorAll('.q-wait');
    for (var i = 0; i < w.length; i++) w[i].textContent = waited(w[i].getAttribute('data-since'));
    if (selectedInfo && transcript && transcript.state === 'handed_off') $('d-waiting').textContent = waited(selectedInfo.since);
  }

  /* ---------- one conversation ---------- */

  function select(id) {
    if (selected !== id) closeStream();
    selected = id;
    selectedInfo = null;
    queue.forEach(function (h) { if (h.conversation_id === id) selectedInfo = h; });
    var items = document.querySelectorAll('#queue-list button');
    for (var i = 0; i < items.length; i++) items[i].setAttribute('aria-current', items[i].getAttribute('data-conversation') === id ? 'true' : 'false');
    $('detail-none').hidden = true;
    $('detail-body').hidden = false;
    $('transcript').textContent = '';
    seen = {}; lastSeq = 0;
    $('detail-title').textContent = 'Conversation ' + id;
    request('GET', '/v1/conversations/' + encodeURIComponent(id)).then(function (tr) {
      if (selected !== id) return;
      transcript = tr;
      (tr.turns || []).forEach(addTurn);
      renderFacts();
      openStream(id);
      $('reply-text').focus();
    }, showError);
  }

  function renderFacts() {
    var tr = transcript || {};
    var h = tr.handoff || selectedInfo || {};
    $('d-state').textContent = (tr.state || '').replace('_', ' ');
    $('d-language').textContent = LANGUAGES[tr.language || (selectedInfo && selectedInfo.language)] || tr.language || '';
    $('d-intent').textContent = (selectedInfo && selectedInfo.intent) || lastIntent() || '—';
    $('d-reason').textContent = h.reason ? reasonLabel(h.reason) : '—';
    $('d-waiting').textContent = tr.state === 'handed_off' && h.since ? waited(h.since) : '—';
    $('d-summary').textContent = h.summary || (selectedInfo && selectedInfo.summary) || '—';
    var open = tr.state === 'handed_off';
    $('reply-send').disabled = !open;
    $('reply-text').disabled = !open;
    $('handback').disabled = !open;
    $('close-conv').disabled = tr.state === 'closed';
  }

  function lastIntent() {
    var turns = (transcript && transcript.turns) || [];
    for (var i = turns.length - 1; i >= 0; i--) if (turns[i].intent && turns[i].intent !== 'out_of_scope') return turns[i].intent;
    return null;
  }

  var WHO = { customer: 'Customer', bot: 'Bot', agent: 'Agent (you)', system: 'System' };

  function addTurn(turn) {
    if (turn.seq && seen[turn.seq]) return;
    if (turn.seq) { seen[turn.seq] = true; if (turn.seq > lastSeq) lastSeq = turn.seq; }
    var text = turn.text;
    if (text === undefined && turn.messages) text = turn.messages.map(function (m) { return m.text || ''; }).join('\n');
    var meta = [WHO[turn.role] || turn.role];
    meta.push(clock(turn.created || new Date().toISOString())); // live events carry no time: now
    if (turn.role === 'customer' && turn.intent) meta.push(turn.intent + (typeof turn.confidence === 'number' ? ' ' + turn.confidence.toFixed(2) : ''));
    var log = $('transcript');
    log.appendChild(el('div', { className: 'turn ' + (turn.role || 'system'), 'data-seq': turn.seq ? String(turn.seq) : null, 'data-role': turn.role }, [
      el('span', { className: 'who', text: meta.join(' · ') }), el('span', { className: 'text', text: text || '' })
    ]));
    log.scrollTop = log.scrollHeight;
  }

  function notice(text) {
    var log = $('transcript');
    log.appendChild(el('div', { className: 'turn notice', text: text }));
    log.scrollTop = log.scrollHeight;
  }

  function setState(state) {
    if (!transcript || !state || transcript.state === state) return;
    transcript.state = state;
    notice(state === 'closed' ? 'Conversation closed.' : state === 'active' ? 'Back with the bot.' : 'State: ' + state.replace('_', ' '));
    renderFacts();
  }

  function closeStream() {
    if (stream) { try { stream.abort(); } catch (e) { /* ignore */ } }
    stream = null;
  }

  function openStream(id) {
    closeStream();
    var ctrl = new AbortController();
    stream = ctrl;
    var failures = 0;
    function live() { return stream === ctrl && selected === id && key; }

    function once() {
      var headers = { Authorization: 'Bearer ' + key, Accept: 'text/event-stream' };
      if (lastSeq) headers['Last-Event-ID'] = String(lastSeq);
      return fetch(API + '/v1/conversations/' + encodeURIComponent(id) + '/stream', { headers: headers, cache: 'no-store', signal: ctrl.signal })
        .then(function (res) {
          if (!res.ok) throw { status: res.status };
          failures = 0;
          var reader = res.body.getReader(), dec = new TextDecoder(), buf = '';
          function pump() {
            return reader.read().then(function (r) {
              if (r.done || !live()) return;
              buf += dec.decode(r.value, { stream: true }).replace(/\r\n?/g, '\n');
              var i;
              while ((i = buf.indexOf('\n\n')) >= 0) { onSSE(buf.slice(0, i)); buf = buf.slice(i + 2); }
              return pump();
            });
          }
          return pump();
        });
    }
    function loop() {
      if (!live()) return;
      once().then(function () { return live() && sleep(500).then(loop); }, function (err) {
        if (!live() || (err && err.name === 'AbortError')) return;
        if (err && (err.status === 401 || err.status === 403 || err.status === 404)) { showError(err); return; }
        failures++;
        return sleep(Math.min(10000, 500 * Math.pow(2, failures))).then(loop);
      });
    }
    loop();
  }

  function onSSE(block) {
    var event = 'message', data = [], id = null;
    block.split('\n').forEach(function (line) {
      if (!line || line.charAt(0) === ':') return;
      var c = line.indexOf(':');
      var f = c < 0 ? line : line.slice(0, c), v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
      if (f === 'event') event = v; else if (f === 'data') data.push(v); else if (f === 'id') id = v;
    });
    if (!data.length) return;
    var p;
    try { p = JSON.parse(data.join('\n')); } catch (e) { return; }
    if (event === 'turn') {
      if (p.seq === undefined && id) p.seq = parseInt(id, 10);
      addTurn(p);
      if (p.state) setState(p.state);
    } else if (event === 'state') {
      setState(p.state);
    }
  }

  function sendReply() {
    var ta = $('reply-text');
    var text = ta.value.trim();
    if (!text || !selected) return;
    var id = selected;
    $('reply-send').disabled = true;
    request('POST', '/v1/conversations/' + encodeURIComponent(id) + '/agent-messages', { text: text }).then(function (res) {
      if (selected === id) {
        if (!seen[res.seq]) addTurn({ seq: res.seq, role: 'agent', text: text, created: new Date().toISOString() });
        ta.value = '';
        renderFacts();
        ta.focus();
      }
    }, function (err) {
      renderFacts();
      showError(err);
      if (err && err.status === 409) reloadSelected();
    });
  }

  function reloadSelected() {
    if (!selected) return;
    var id = selected;
    request('GET', '/v1/conversations/' + encodeURIComponent(id)).then(function (tr) {
      if (selected !== id || !transcript) return;
      setState(tr.state);
      transcript.handoff = tr.handoff;
      renderFacts();
    }, function () { /* the error is shown already */ });
  }

  function action(path, done) {
    if (!selected) return;
    var id = selected;
    request('POST', '/v1/conversations/' + encodeURIComponent(id) + '/' + path).then(function (res) {
      if (selected === id) setState(res.state || done);
      clearError();
      refreshQueue();
    }, function (err) { showError(err); reloadSelected(); });
  }

  /* ---------- analytics ---------- */

  function pct(x) { return typeof x === 'number' ? (Math.round(x * 1000) / 10) + ' %' : '—'; }
  function num(x, d) { return typeof x === 'number' ? x.toFixed(d || 0) : '—'; }

  function loadAnalytics() {
    var q = [];
    if ($('from').value) q.push('from=' + $('from').value);
    if ($('to').value) q.push('to=' + $('to').value);
    $('range-shown').textContent = 'Loading…';
    request('GET', '/v1/analytics' + (q.length ? '?' + q.join('&') : '')).then(function (a) {
      if (!$('from').value && a.from) $('from').value = a.from;
      if (!$('to').value && a.to) $('to').value = a.to;
      $('range-shown').textContent = (a.from || '') + ' – ' + (a.to || '') + ' (UTC)';
      renderAnalytics(a);
    }, function (err) { $('range-shown').textContent = ''; showError(err); });
  }

  function kpi(label, value) {
    return el('div', { className: 'kpi' }, [el('span', { className: 'v', text: value }), el('span', { className: 'l', text: label })]);
  }

  function renderAnalytics(a) {
    var t = a.totals || {};
    var r = a.ratings || {};
    var k = $('kpis');
    k.textContent = '';
    k.appendChild(kpi('Conversations', num(t.conversations)));
    k.appendChild(kpi('Containment', pct(t.containment)));
    k.appendChild(kpi('Hand-off rate', pct(t.handoff_rate)));
    k.appendChild(kpi('Handed off', num(t.handed_off)));
    k.appendChild(kpi('Ratings', num(r.count)));
    k.appendChild(kpi('Mean rating', typeof r.mean === 'number' ? r.mean.toFixed(2) + ' / 5' : '—'));

    var days = a.by_day || [];
    barChart($('chart-day'), 'c-day-title', days.map(function (d) { return { label: d.day.slice(5), value: d.conversations || 0, title: d.day + ': ' + (d.conversations || 0) + ' conversations' }; }), { color: '#1f5fbf' });
    barChart($('chart-containment'), 'c-cont-title', days.map(function (d) { return { label: d.day.slice(5), value: typeof d.containment === 'number' ? d.containment * 100 : 0, title: d.day + ': ' + pct(d.containment) + ' contained' }; }), { color: '#2e8b57', max: 100, unit: '%' });
    var reasons = a.handoff_reasons || {};
    hbarChart($('chart-reasons'), 'c-reason-title', Object.keys(reasons).sort(function (x, y) { return reasons[y] - reasons[x]; })
      .map(function (n) { return { label: REASONS[n] ? n : n, value: reasons[n], title: (REASONS[n] || n) + ': ' + reasons[n] }; }), '#d9822b');
    var dist = r.distribution || {};
    hbarChart($('chart-ratings'), 'c-rating-title', ['5', '4', '3', '2', '1'].map(function (s) {
      return { label: s + ' ★', value: dist[s] || 0, title: s + ' out of 5: ' + (dist[s] || 0) };
    }), '#f5a623');

    table($('t-intent'), 'intent', a.by_intent || []);
    table($('t-language'), 'language', a.by_language || []);
    table($('t-day'), 'day', a.by_day || []);
  }

  var SVGNS = 'http://www.w3.org/2000/svg';
  function svgEl(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function emptyChart(box) { box.textContent = ''; box.appendChild(el('p', { className: 'muted', text: 'No data in this period.' })); }

  // Vertical bars, one per item (e.g. per day).
  function barChart(box, titleId, items, opt) {
    box.textContent = '';
    if (!items.length) { emptyChart(box); return; }
    var W = 460, H = 180, L = 34, B = 28, T = 10;
    // Counts: an even maximum keeps the middle grid line on a whole number.
    var max = opt.max || Math.max(2, Math.ceil(Math.max.apply(null, items.map(function (i) { return i.value; })) / 2) * 2);
    var svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img', 'aria-labelledby': titleId, preserveAspectRatio: 'xMidYMid meet' });
    var desc = svgEl('desc', {}, items.map(function (i) { return i.title; }).join('; '));
    svg.appendChild(desc);
    [0, 0.5, 1].forEach(function (f) {
      var y = T + (H - T - B) * (1 - f);
      svg.appendChild(svgEl('line', { x1: L, x2: W, y1: y, y2: y, stroke: '#d5dbe3' }));
      svg.appendChild(svgEl('text', { x: L - 4, y: y + 4, 'text-anchor': 'end' }, String(Math.round(max * f)) + (opt.unit || '')));
    });
    var slot = (W - L) / items.length, bw = Math.max(2, Math.min(40, slot * 0.7));
    var every = Math.ceil(items.length / 12);
    items.forEach(function (it, i) {
      var h = (H - T - B) * (it.value / max);
      var x = L + slot * i + (slot - bw) / 2;
      var r = svgEl('rect', { x: x, y: H - B - h, width: bw, height: Math.max(0, h), fill: opt.color });
      r.appendChild(svgEl('title', {}, it.title));
      svg.appendChild(r);
      if (i % every === 0) svg.appendChild(svgEl('text', { x: x + bw / 2, y: H - B + 14, 'text-anchor': 'middle' }, it.label));
    });
    box.appendChild(svg);
  }

  // Horizontal bars with labels (reasons, rating distribution).
  function hbarChart(box, titleId, items, color) {
    box.textContent = '';
    if (!items.length) { emptyChart(box); return; }
    var longest = Math.max.apply(null, items.map(function (i) { return String(i.label).length; }));
    var W = 460, row = 24, L = Math.min(240, Math.max(40, longest * 6.5 + 12)), H = items.length * row + 6;
    var max = Math.max(1, Math.max.apply(null, items.map(function (i) { return i.value; })));
    var svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img', 'aria-labelledby': titleId });
    svg.appendChild(svgEl('desc', {}, items.map(function (i) { return i.title; }).join('; ')));
    items.forEach(function (it, i) {
      var y = 3 + i * row, w = (W - L - 40) * (it.value / max);
      svg.appendChild(svgEl('text', { x: L - 6, y: y + 15, 'text-anchor': 'end' }, it.label));
      var r = svgEl('rect', { x: L, y: y + 3, width: Math.max(0, w), height: row - 8, fill: color, rx: 3 });
      r.appendChild(svgEl('title', {}, it.title));
      svg.appendChild(r);
      svg.appendChild(svgEl('text', { x: L + w + 6, y: y + 15 }, String(it.value)));
    });
    box.appendChild(svg);
  }

  function table(box, keyName, rows) {
    box.textContent = '';
    if (!rows.length) { box.appendChild(el('p', { className: 'muted', text: 'No data in this period.' })); return; }
    var cols = [
      [keyName, keyName.charAt(0).toUpperCase() + keyName.slice(1), function (r) { return r[keyName] === null || r[keyName] === undefined ? '—' : String(r[keyName]); }],
      ['conversations', 'Conversations', function (r) { return num(r.conversations); }],
      ['contained', 'Contained', function (r) { return num(r.contained); }],
      ['handed_off', 'Handed off', function (r) { return num(r.handed_off); }],
      ['containment', 'Containment', function (r) { return pct(r.containment); }],
      ['handoff_rate', 'Hand-off rate', function (r) { return pct(r.handoff_rate); }],
      ['ratings', 'Ratings', function (r) { return num(r.ratings); }],
      ['rating_mean', 'Mean rating', function (r) { return typeof r.rating_mean === 'number' ? r.rating_mean.toFixed(2) : '—'; }]
    ];
    var thead = el('thead', null, [el('tr', null, cols.map(function (c, i) { return el('th', { scope: 'col', className: i ? 'n' : null, text: c[1] }); }))]);
    var tbody = el('tbody', null, rows.map(function (r) {
      return el('tr', null, cols.map(function (c, i) { return i ? el('td', { className: 'n', text: c[2](r) }) : el('th', { scope: 'row', text: c[2](r) }); }));
    }));
    box.appendChild(el('table', null, [thead, tbody]));
  }

  /* ---------- start ---------- */

  function init() {
    initTabs();
    $('alert-dismiss').addEventListener('click', clearError);
    $('sign-out').addEventListener('click', function () { signOut(false); });
    $('login').addEventListener('submit', function (e) {
      e.preventDefault();
      var k = $('login-key').value.trim();
      if (k) { clearError(); signIn(k); }
    });
    $('reply').addEventListener('submit', function (e) { e.preventDefault(); sendReply(); });
    $('reply-text').addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendReply(); }
    });
    $('handback').addEventListener('click', function () { action('handback', 'active'); });
    $('close-conv').addEventListener('click', function () { action('close', 'closed'); });
    $('range').addEventListener('submit', function (e) { e.preventDefault(); loadAnalytics(); });

    var params = new URLSearchParams(location.hash.replace(/^#/, ''));
    var k = params.get('key');
    if (k) history.replaceState(null, '', location.pathname + location.search);
    if (!k) { try { k = sessionStorage.getItem(KEY_STORE); } catch (e) { k = null; } }
    if (k) signIn(k);
    else { $('login').hidden = false; $('login-key').focus(); }
  }

  init();
})();
