import { html, raw } from 'hono/html';
import type { Locale } from '../../i18n/locales';

/** The page's own words (title, placeholder, buttons), in one language; sent again when the chat's language changes. */
export function pageTexts(t: (key: string) => string, dealerName: string) {
  return {
    title: t('web.title').replace('{{dealer}}', dealerName),
    placeholder: t('web.placeholder'),
    send: t('web.send'),
    offline: t('web.offline'),
    slowDown: t('web.slowDown'),
  };
}

/**
 * The web chat page: one HTML document with its own small script, no build step. It posts what the
 * visitor types or taps to /chat/api, shows the latest page of the conversation at once (a reload never
 * shows an old question with live buttons), then follows new messages on a server-sent event stream while
 * the tab is visible and looks only now and then while it is in the background. It renders the same
 * buttons, date pickers and cards the other channels get natively: a card's buttons stay usable (like
 * LINE's), a question's quick buttons only until something newer arrives.
 */
export function renderChatPage(opts: { locale: Locale; dealerName: string; t: (key: string) => string }) {
  const texts = pageTexts(opts.t, opts.dealerName);
  const json = JSON.stringify({ ...texts, locale: opts.locale }).replace(/</g, '\\u003c');
  return html`<!doctype html>
<html lang="${opts.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>${texts.title}</title>
<style>
  :root { --brand: #0b5cad; --bg: #f3f5f8; --bubble: #fff; --mine: #0b5cad; --text: #1d2733; --muted: #6b7785; }
  * { box-sizing: border-box; }
  html, body { height: 100%; margin: 0; }
  body { font: 16px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK TC", "Noto Sans Thai", sans-serif; color: var(--text); background: var(--bg); display: flex; flex-direction: column; }
  header { background: var(--brand); color: #fff; padding: 12px 16px; font-weight: 600; padding-top: max(12px, env(safe-area-inset-top)); }
  #log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
  .msg { max-width: min(85%, 560px); padding: 9px 13px; border-radius: 16px; white-space: pre-wrap; word-wrap: break-word; box-shadow: 0 1px 1px rgba(0,0,0,.06); }
  .in { align-self: flex-end; background: var(--mine); color: #fff; border-bottom-right-radius: 4px; }
  .out { align-self: flex-start; background: var(--bubble); border-bottom-left-radius: 4px; }
  .staff { border-left: 3px solid #e08a00; }
  .card h3 { margin: 0 0 6px; font-size: 1rem; }
  .card dl { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; }
  .card dt { color: var(--muted); }
  .card dd { margin: 0; }
  .card .foot { margin-top: 6px; color: var(--muted); font-size: .9rem; }
  .choices { display: flex; flex-wrap: wrap; gap: 6px; align-self: flex-start; max-width: 100%; }
  .choices.card-actions { margin-top: -4px; }
  .choices button, .choices a, .picker button { font: inherit; border: 1px solid var(--brand); color: var(--brand); background: #fff; border-radius: 18px; padding: 6px 14px; cursor: pointer; text-decoration: none; }
  .choices button:disabled { opacity: .45; cursor: default; }
  .picker { display: flex; gap: 6px; align-items: center; }
  .picker input { font: inherit; padding: 5px 8px; border: 1px solid #c7ced6; border-radius: 8px; }
  img.photo { max-width: 240px; border-radius: 12px; }
  form { display: flex; gap: 8px; padding: 10px; background: #fff; border-top: 1px solid #dde2e8; padding-bottom: max(10px, env(safe-area-inset-bottom)); }
  #text { flex: 1; font: inherit; padding: 10px 12px; border: 1px solid #c7ced6; border-radius: 20px; min-width: 0; }
  #send { font: inherit; background: var(--brand); color: #fff; border: 0; border-radius: 20px; padding: 0 18px; }
  #status { color: var(--muted); text-align: center; font-size: .85rem; min-height: 1.2em; }
</style>
</head>
<body>
<header id="title">${texts.title}</header>
<main id="log" aria-live="polite"></main>
<div id="status"></div>
<form id="composer" autocomplete="off">
  <input id="text" name="text" maxlength="2000" placeholder="${texts.placeholder}" aria-label="${texts.placeholder}">
  <button id="send" type="submit">${texts.send}</button>
</form>
<script>
(() => {
  let TEXTS = ${raw(json)};
  const log = document.getElementById('log');
  const statusLine = document.getElementById('status');
  /** Until when the "slow down" note stays (the Retry-After the service gave); other news does not clear it before. */
  let slowUntil = 0;
  function clearStatus() { if (Date.now() >= slowUntil) statusLine.textContent = ''; }
  const form = document.getElementById('composer');
  const input = document.getElementById('text');
  let cursor = 0;
  let stream = null;
  let streamFailures = 0;
  let timer = null;
  let backgroundWait = 30000;
  const newId = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2)).replace(/[^A-Za-z0-9_-]/g, '');

  function applyTexts(texts, locale) {
    if (!texts || !locale || locale === TEXTS.locale) return;
    TEXTS = Object.assign({}, texts, { locale });
    document.documentElement.lang = locale;
    document.title = texts.title;
    document.getElementById('title').textContent = texts.title;
    document.getElementById('send').textContent = texts.send;
    input.placeholder = texts.placeholder;
    input.setAttribute('aria-label', texts.placeholder);
  }

  async function post(path, body) {
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        const res = await fetch('/chat/api/' + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
        // Over the limit: said politely, and not retried (the visitor sends it again after a moment).
        if (res.status === 429) {
          statusLine.textContent = TEXTS.slowDown;
          slowUntil = Date.now() + 1000 * Math.min(60, Number(res.headers.get('retry-after')) || 5);
          return res;
        }
        if (res.ok || (res.status >= 400 && res.status < 500)) { slowUntil = 0; statusLine.textContent = ''; return res; }
      } catch (e) { /* retried below with the same id, so it is never handled twice */ }
      statusLine.textContent = TEXTS.offline;
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
  }

  function bubble(cls, content) {
    const div = document.createElement('div');
    div.className = 'msg ' + cls;
    if (typeof content === 'string') div.textContent = content; else div.append(content);
    log.append(div);
    return div;
  }

  /** A question's quick buttons answer only the latest question: older ones are switched off. */
  function refreshQuick() {
    const bars = log.querySelectorAll('.choices.quick');
    bars.forEach((bar) => {
      const live = bar === log.lastElementChild;
      bar.querySelectorAll('button').forEach((b) => { b.disabled = !live; });
    });
  }

  function choiceBar(choices, kind) {
    const bar = document.createElement('div');
    bar.className = 'choices ' + kind;
    for (const c of choices) {
      if (c.kind === 'url') {
        const a = document.createElement('a');
        a.href = c.url; a.textContent = c.label;
        if (!/^tel:/.test(c.url)) { a.target = '_blank'; a.rel = 'noopener'; }
        bar.append(a);
      } else if (c.kind === 'datetime') {
        const wrap = document.createElement('span');
        wrap.className = 'picker';
        const field = document.createElement('input');
        field.type = c.mode === 'datetime' ? 'datetime-local' : c.mode;
        if (c.initial) field.value = c.initial;
        if (c.min) field.min = c.min;
        if (c.max) field.max = c.max;
        field.setAttribute('aria-label', c.label);
        const ok = document.createElement('button');
        ok.type = 'button'; ok.textContent = c.label;
        ok.onclick = () => { if (field.value) choose(bar, c.id, { [c.mode]: field.value }); };
        wrap.append(field, ok);
        bar.append(wrap);
      } else {
        const b = document.createElement('button');
        b.type = 'button'; b.textContent = c.label; b.dataset.id = c.id;
        b.onclick = () => choose(bar, c.id);
        bar.append(b);
      }
    }
    log.append(bar);
  }

  /** A date or time the visitor picked, written out in the page's language. */
  function ownWords(text) {
    const m = /^(\\d{4})-(\\d{2})-(\\d{2})(?: (\\d{2}):(\\d{2}))?$/.exec(text || '');
    if (!m) return text || '';
    try {
      const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], m[4] ? +m[4] : 12, m[5] ? +m[5] : 0));
      const opts = m[4] ? { timeZone: 'UTC', dateStyle: 'full', timeStyle: 'short' } : { timeZone: 'UTC', dateStyle: 'full' };
      return new Intl.DateTimeFormat(document.documentElement.lang, opts).format(d);
    } catch (e) { return text; }
  }

  function show(m) {
    if (m.id <= cursor) return;
    cursor = m.id;
    if (m.direction === 'in') { bubble('in', ownWords(m.text)); return; }
    const msg = m.message || { type: 'text', text: m.text || '', choices: [] };
    const cls = 'out' + (m.sender === 'staff' ? ' staff' : '');
    if (msg.type === 'card') {
      const card = document.createElement('div');
      card.className = 'card';
      const h = document.createElement('h3'); h.textContent = msg.title; card.append(h);
      const dl = document.createElement('dl');
      for (const row of msg.rows) { const dt = document.createElement('dt'); dt.textContent = row.label; const dd = document.createElement('dd'); dd.textContent = row.value; dl.append(dt, dd); }
      card.append(dl);
      if (msg.footer) { const f = document.createElement('div'); f.className = 'foot'; f.textContent = msg.footer; card.append(f); }
      bubble(cls + ' card-msg', card);
      if (msg.choices && msg.choices.length) choiceBar(msg.choices, 'card-actions');
    } else if (msg.type === 'image') {
      const img = document.createElement('img'); img.className = 'photo'; img.src = msg.url; img.alt = '';
      bubble(cls, img);
    } else {
      bubble(cls, msg.text);
      if (msg.choices && msg.choices.length) choiceBar(msg.choices, 'quick');
    }
  }

  function receive(data) {
    if (!data) return;
    applyTexts(data.texts, data.locale);
    const before = cursor;
    for (const m of data.messages) show(m);
    if (data.cursor > cursor) cursor = data.cursor;
    if (cursor !== before) { refreshQuick(); log.scrollTop = log.scrollHeight; }
    clearStatus();
  }

  async function fetchMessages(query) {
    try {
      const res = await fetch('/chat/api/messages?' + query, { credentials: 'same-origin' });
      if (res.ok) { const data = await res.json(); receive(data); return data; }
    } catch (e) {
      statusLine.textContent = TEXTS.offline;
    }
    return null;
  }

  const catchUp = () => fetchMessages('after=' + cursor);

  // While visible: one stream. When it cannot be kept (an old browser, a proxy that refuses it), a look every few seconds.
  function openStream() {
    closeStream();
    if (!window.EventSource || streamFailures >= 3) { schedule(3000); return; }
    stream = new EventSource('/chat/api/stream?after=' + cursor, { withCredentials: true });
    stream.addEventListener('messages', (e) => { streamFailures = 0; try { receive(JSON.parse(e.data)); } catch (err) { /* a broken event is skipped; the next one carries the cursor */ } });
    stream.addEventListener('ready', clearStatus);
    stream.onerror = () => {
      // The browser reconnects on its own; a stream that keeps failing is given up for polling.
      if (stream && stream.readyState === EventSource.CLOSED) { streamFailures++; setTimeout(openStream, 1000 * streamFailures); }
    };
  }

  function closeStream() {
    if (stream) { stream.close(); stream = null; }
    clearTimeout(timer);
  }

  function schedule(wait) {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      await catchUp();
      if (document.hidden) { backgroundWait = Math.min(backgroundWait * 2, 300000); schedule(backgroundWait); }
      else if (!stream) schedule(3000);
    }, wait);
  }

  // In the background: no stream, and a look that grows rarer (30 s up to 5 min), so a reminder still shows.
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) { closeStream(); backgroundWait = 30000; schedule(backgroundWait); }
    else { clearTimeout(timer); catchUp().then(openStream); }
  });

  /** After the visitor acts, look a few times quickly: the reply is usually there within a second. */
  async function soon() {
    for (const wait of [150, 300, 600]) {
      await new Promise((r) => setTimeout(r, wait));
      const before = cursor;
      await catchUp();
      if (cursor !== before && log.lastElementChild && !log.lastElementChild.classList.contains('in')) return;
    }
  }

  async function choose(bar, id, params) {
    if (bar.classList.contains('quick')) bar.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    const res = await post('messages', params ? { id: newId(), choice: id, params } : { id: newId(), choice: id });
    if (res && res.status === 429) { bar.querySelectorAll('button').forEach((b) => { b.disabled = false; }); return; }
    soon();
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    const res = await post('messages', { id: newId(), text });
    // A message refused for coming too fast is given back, so nothing typed is lost.
    if (res && res.status === 429) { if (!input.value) input.value = text; return; }
    soon();
  });

  (async () => {
    const first = await fetchMessages('latest=1');
    if (first && first.messages.length === 0 && cursor === 0) {
      await post('start', { id: newId(), language: navigator.language });
      await soon();
    }
    if (document.hidden) schedule(backgroundWait); else openStream();
    input.focus();
  })();
})();
</script>
</body>
</html>`;
}
