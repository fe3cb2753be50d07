import { html, raw } from 'hono/html';
import type { Locale } from '../../i18n/locales';

/**
 * The web chat page: one HTML document with its own small script, no build step. It posts what the
 * visitor types or taps to /chat/api and polls /chat/api/messages for replies, rendering the same
 * buttons, date pickers and cards the other channels get natively.
 */
export function renderChatPage(opts: { locale: Locale; dealerName: string; t: (key: string) => string }) {
  const texts = JSON.stringify({ send: opts.t('web.send'), offline: opts.t('web.offline'), pick: opts.t('web.pick') });
  const title = opts.t('web.title').replace('{{dealer}}', opts.dealerName);
  return html`<!doctype html>
<html lang="${opts.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>${title}</title>
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
<header>${title}</header>
<main id="log" aria-live="polite"></main>
<div id="status"></div>
<form id="composer" autocomplete="off">
  <input id="text" name="text" maxlength="2000" placeholder="${opts.t('web.placeholder')}" aria-label="${opts.t('web.placeholder')}">
  <button id="send" type="submit">${opts.t('web.send')}</button>
</form>
<script>
(() => {
  const TEXTS = ${raw(texts.replace(/</g, '\\u003c'))};
  const log = document.getElementById('log');
  const statusLine = document.getElementById('status');
  const form = document.getElementById('composer');
  const input = document.getElementById('text');
  let cursor = 0;
  let fastPolls = 0;
  let timer = null;
  let polling = false;
  const newId = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2)).replace(/[^A-Za-z0-9_-]/g, '');

  async function post(path, body) {
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        const res = await fetch('/chat/api/' + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
        if (res.ok || (res.status >= 400 && res.status < 500)) { statusLine.textContent = ''; return res; }
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

  function disableOlderChoices() {
    log.querySelectorAll('.choices button, .picker button').forEach((b) => { b.disabled = true; });
  }

  function choiceBar(choices) {
    const bar = document.createElement('div');
    bar.className = 'choices';
    for (const c of choices) {
      if (c.kind === 'url') {
        const a = document.createElement('a');
        a.href = c.url; a.textContent = c.label; a.target = '_blank'; a.rel = 'noopener';
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
        ok.onclick = () => { if (field.value) choose(c.id, c.label + ': ' + field.value, { [c.mode]: field.value }); };
        wrap.append(field, ok);
        bar.append(wrap);
      } else {
        const b = document.createElement('button');
        b.type = 'button'; b.textContent = c.label;
        b.onclick = () => choose(c.id, c.label);
        bar.append(b);
      }
    }
    log.append(bar);
  }

  function show(m) {
    if (m.direction === 'in') { bubble('in', m.text || ''); return; }
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
      bubble(cls, card);
    } else if (msg.type === 'image') {
      const img = document.createElement('img'); img.className = 'photo'; img.src = msg.url; img.alt = '';
      bubble(cls, img);
    } else {
      bubble(cls, msg.text);
    }
    if (msg.choices && msg.choices.length) { disableOlderChoices(); choiceBar(msg.choices); }
  }

  async function poll() {
    if (polling) return;
    polling = true;
    try {
      const res = await fetch('/chat/api/messages?after=' + cursor, { credentials: 'same-origin' });
      if (res.ok) {
        const data = await res.json();
        for (const m of data.messages) show(m);
        if (data.messages.length) log.scrollTop = log.scrollHeight;
        cursor = data.cursor;
        if (data.locale) document.documentElement.lang = data.locale;
        statusLine.textContent = '';
        return data;
      }
    } catch (e) {
      statusLine.textContent = TEXTS.offline;
    } finally {
      polling = false;
      schedule();
    }
  }

  function schedule() {
    clearTimeout(timer);
    const wait = fastPolls > 0 ? 250 : 3000;
    if (fastPolls > 0) fastPolls--;
    timer = setTimeout(poll, wait);
  }

  function soon() { fastPolls = 12; schedule(); }

  async function choose(id, label, params) {
    disableOlderChoices();
    await post('messages', params ? { id: newId(), choice: id, params } : { id: newId(), choice: id });
    soon();
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    await post('messages', { id: newId(), text });
    soon();
  });

  (async () => {
    const first = await poll();
    if (first && first.messages.length === 0 && cursor === 0) {
      await post('start', { id: newId(), language: navigator.language });
      soon();
    }
    input.focus();
  })();
})();
</script>
</body>
</html>`;
}
