// The incident queue and the incident page.
import { html, useState, useEffect, useRef } from './vendor/htm-preact-standalone.mjs';
import { CATEGORY, LEVELS, REASONS } from './i18n.js';
import {
  api, qs, t, catName, levelName, statusName, fmtTime, fmtAgo, fmtNum, LevelBadge, StatusBadge,
  term, searchHref, session, getLang,
} from './util.js';

const POLL_MS = 5000;
const STATUSES = ['open', 'acknowledged', 'closed'];

// The group's values as "key=value" text, for one cell.
const groupText = (g) => Object.entries(g || {}).map(([k, v]) => `${k}=${v}`).join(' ');

function Chip({ on, onClick, children, cls }) {
  return html`<button type="button" class=${'chip ' + (on ? 'on ' : '') + (cls || '')} onClick=${onClick}>${children}</button>`;
}

function toggle(list, v) { return list.includes(v) ? list.filter((x) => x !== v) : [...list, v]; }

export function IncidentQueue({ route }) {
  const init = route.params;
  const [status, setStatus] = useState(init.status ? init.status.split(',') : ['open', 'acknowledged']);
  const [levels, setLevels] = useState(init.level ? init.level.split(',') : []);
  const [cats, setCats] = useState(init.category ? init.category.split(',') : []);
  const [zone, setZone] = useState(init.zone || '');
  const [q, setQ] = useState(init.q || '');
  const [qInput, setQInput] = useState(init.q || '');
  const [sort, setSort] = useState(init.sort || 'newest');
  const [rows, setRows] = useState(null);
  const [next, setNext] = useState(null);
  const [counts, setCounts] = useState(null);
  const [sel, setSel] = useState([]);
  const [err, setErr] = useState('');
  const [fresh, setFresh] = useState({});
  const seen = useRef(0);

  const filters = () => ({ status: status.join(','), level: levels.join(','), category: cats.join(','), zone, q, sort });

  async function load(more) {
    try {
      const f = filters();
      const page = await api('GET', '/incidents' + qs({ ...f, limit: 50, cursor: more ? next : '' }));
      const c = await api('GET', '/incidents/counts' + qs({ status: f.status, zone, q }));
      const maxId = page.incidents.reduce((m, i) => Math.max(m, i.id), 0);
      if (!more && seen.current && maxId > seen.current) {
        const nf = {};
        page.incidents.forEach((i) => { if (i.id > seen.current) nf[i.id] = true; });
        setFresh(nf);
      }
      if (!more) seen.current = Math.max(seen.current, maxId);
      setRows(more ? [...rows, ...page.incidents] : page.incidents);
      setNext(page.next);
      setCounts(c);
      setErr('');
    } catch (e) { setErr(e.message); }
  }

  useEffect(() => {
    const f = filters();
    location.replace('#/incidents' + qs({ ...f, status: f.status === 'open,acknowledged' ? '' : f.status, sort: sort === 'newest' ? '' : sort }));
    seen.current = 0;
    setFresh({});
    load(false);
    // new incidents appear without reloading: the first page is polled
    const timer = setInterval(() => load(false), POLL_MS);
    return () => clearInterval(timer);
  }, [status.join(), levels.join(), cats.join(), zone, q, sort]);

  async function bulkAck() {
    try {
      await api('POST', '/incidents/bulk', { action: 'ack', ids: sel.map(String) });
      setSel([]);
      load(false);
    } catch (e) { setErr(e.message); }
  }

  const byCat = counts ? counts.by_category : {};
  const byLvl = counts ? counts.by_level : {};
  const canAct = session.role === 'operator' || session.role === 'admin';
  return html`
    <section class="page">
      <div class="filters">
        <div class="chiprow">
          <span class="flabel">${t('status')}</span>
          ${STATUSES.map((s) => html`<${Chip} on=${status.includes(s)} onClick=${() => setStatus(toggle(status, s))}>${statusName(s)}
            ${counts && counts.by_status ? html` <b>${fmtNum(counts.by_status[s])}</b>` : ''}<//>`)}
          <span class="flabel">${t('level')}</span>
          ${LEVELS.map((l) => html`<${Chip} cls=${'c-' + l} on=${levels.includes(l)} onClick=${() => setLevels(toggle(levels, l))}>${levelName(l)}
            ${byLvl[l] ? html` <b>${fmtNum(byLvl[l])}</b>` : ''}<//>`)}
        </div>
        <div class="chiprow">
          <span class="flabel">${t('category')}</span>
          ${Object.keys(CATEGORY).map((c) => html`<${Chip} on=${cats.includes(c)} onClick=${() => setCats(toggle(cats, c))}>${catName(c)}
            <b>${fmtNum(byCat[c] || 0)}</b><//>`)}
        </div>
        <form class="searchrow" onSubmit=${(e) => { e.preventDefault(); setQ(qInput); }}>
          <input class="q" value=${qInput} onInput=${(e) => setQInput(e.target.value)} placeholder=${t('q_incidents_ph')} />
          <input class="zone" value=${zone} onChange=${(e) => setZone(e.target.value)} placeholder=${t('zone')} />
          <select value=${sort} onChange=${(e) => setSort(e.target.value)} title=${t('sort')}>
            <option value="newest">${t('newest')}</option><option value="oldest">${t('oldest')}</option>
            <option value="last_seen">${t('by_last_seen')}</option>
          </select>
          <button type="submit">${t('search')}</button>
          <a class="button ghost" href=${'/api/v1/incidents.csv' + qs(filters())} download>${t('csv')}</a>
        </form>
      </div>
      ${err && html`<p class="error">${err}</p>`}
      ${canAct && sel.length > 0 && html`<div class="bulkbar"><span>${sel.length} ${t('selected')}</span>
        <button onClick=${bulkAck}>${t('ack_selected')}</button></div>`}
      ${rows === null ? html`<p class="muted">${t('loading')}</p>` : rows.length === 0 ? html`<p class="muted empty">${t('no_incidents')}</p>` : html`
      <table class="grid incidents">
        <thead><tr>
          ${canAct && html`<th class="sel"><input type="checkbox" aria-label="all" checked=${sel.length === rows.length}
            onChange=${(e) => setSel(e.target.checked ? rows.filter((r) => r.status !== 'closed').map((r) => r.id) : [])} /></th>`}
          <th>#</th><th>${t('level')}</th><th>${t('title')}</th><th>${t('category')}</th><th>${t('group')}</th>
          <th>${t('zone')}</th><th class="num">${t('count')}</th><th>${t('last_seen')}</th><th>${t('status')}</th><th>${t('assignee')}</th>
        </tr></thead>
        <tbody>${rows.map((r) => html`
          <tr key=${r.id} class=${'row-' + r.level + (fresh[r.id] ? ' fresh' : '')} onClick=${(e) => { if (e.target.tagName !== 'INPUT') location.hash = '#/incidents/' + r.id; }}>
            ${canAct && html`<td class="sel"><input type="checkbox" disabled=${r.status === 'closed'} checked=${sel.includes(r.id)}
              onChange=${() => setSel(toggle(sel, r.id))} /></td>`}
            <td class="id"><a href=${'#/incidents/' + r.id}>${r.id}</a>${fresh[r.id] && html` <span class="newb">${t('new_badge')}</span>`}</td>
            <td><${LevelBadge} level=${r.level} /></td>
            <td class="title">${r.rule.title}</td>
            <td>${catName(r.category)}</td>
            <td class="mono">${groupText(r.group)}${r.host ? html` <span class="muted">@${r.host}</span>` : ''}</td>
            <td>${r.zone || '—'}</td>
            <td class="num">${fmtNum(r.count)}</td>
            <td title=${fmtTime(r.last_seen)}>${fmtAgo(r.last_seen)}</td>
            <td><${StatusBadge} status=${r.status} /></td>
            <td>${r.assignee || html`<span class="muted">—</span>`}</td>
          </tr>`)}
        </tbody>
      </table>
      ${next && html`<button class="more" onClick=${() => load(true)}>${t('more')}</button>`}`}
    </section>`;
}

// Entities of an incident as search pivots: each group value, the host,
// the zone, and the related.ip / related.user / related.hosts values. A
// related address may have been either side of a connection, so its
// search takes both (label: the field shown; q: the event search).
function entities(inc) {
  const out = Object.entries(inc.group || {}).map(([k, v]) => ({ label: k, value: v, q: term(k, v) }));
  if (inc.host) out.push({ label: 'host.name', value: inc.host, q: term('host.name', inc.host) });
  if (inc.zone) out.push({ label: 'labels.zone', value: inc.zone, q: term('labels.zone', inc.zone) });
  for (const [k, vs] of Object.entries(inc.related || {}))
    (Array.isArray(vs) ? vs : [vs]).forEach((v) => {
      const field = k === 'hosts' ? 'host.name' : 'user.name';
      if (k === 'ip') out.push({ label: 'related.ip', value: v, q: `${term('source.ip', v)} OR ${term('destination.ip', v)}` });
      else out.push({ label: field, value: v, q: term(field, v) });
    });
  return out;
}

// One timeline of what happened: status history, assignment, checklist, notes.
function timeline(inc) {
  const cw = inc.casework || { checklist: [], notes: [] };
  const steps = (inc.response && inc.response.steps) || [];
  const items = inc.history.map((h) => ({ time: h.time, actor: h.actor, what: statusName(h.status), text: h.note }));
  if (cw.assigned_at) items.push({ time: cw.assigned_at, actor: cw.assigned_by, what: t('assigned'), text: cw.assignee || '—' });
  cw.checklist.forEach((s) => items.push({ time: s.time, actor: s.actor, what: s.done ? t('step_done') : t('step_undone'), text: `${s.step + 1}. ${steps[s.step] || ''}` }));
  cw.notes.forEach((n) => items.push({ time: n.time, actor: n.actor, what: t('noted'), text: n.text }));
  return items.sort((a, b) => (a.time < b.time ? 1 : -1));
}

function EventRow({ ev }) {
  const src = ev.source && ev.source.ip;
  return html`<li class="ev">
    <span class="t mono">${fmtTime(ev['@timestamp'])}</span>
    <span class="h">${ev.host && ev.host.name}</span>
    <span class="a muted">${ev.process && ev.process.name}</span>
    <span class="m mono">${ev.message}</span>
    ${src && html`<a class="pivot" href=${searchHref(term('source.ip', src))}>${src}</a>`}
  </li>`;
}

export function IncidentPage({ id }) {
  const [inc, setInc] = useState(null);
  const [err, setErr] = useState('');
  const [note, setNote] = useState('');
  const [reason, setReason] = useState('true_positive');
  const [closeNote, setCloseNote] = useState('');
  const [assignee, setAssignee] = useState('');
  const [busy, setBusy] = useState(false);

  async function load() {
    try { setInc(await api('GET', `/incidents/${id}` + qs({ evidence_limit: 30 }))); setErr(''); } catch (e) { setErr(e.message); }
  }
  useEffect(() => { load(); }, [id]);

  async function act(path, body) {
    setBusy(true);
    try { setInc({ ...inc, ...(await api('POST', `/incidents/${id}/${path}`, body)) }); setErr(''); await load(); } catch (e) { setErr(e.message); }
    setBusy(false);
  }

  if (!inc) return html`<section class="page">${err ? html`<p class="error">${err}</p>` : html`<p class="muted">${t('loading')}</p>`}</section>`;
  const cw = inc.casework || { checklist: [], notes: [] };
  const ticks = {};
  cw.checklist.forEach((s) => { ticks[s.step] = s; });
  const canAct = (session.role === 'operator' || session.role === 'admin') && inc.status !== 'closed';
  const steps = (inc.response && inc.response.steps) || [];
  return html`
    <section class="page incident">
      <a class="back" href="#/incidents">← ${t('incidents')}</a>
      <header class=${'inchead row-' + inc.level}>
        <div class="incid">#${inc.id}</div>
        <div class="inctitle">
          <h1>${inc.rule.title}</h1>
          <div class="meta">
            <${LevelBadge} level=${inc.level} /> <${StatusBadge} status=${inc.status} />
            <span class="cat">${catName(inc.category)}</span>
            <span>${t('zone')}: <b>${inc.zone || '—'}</b></span>
            <span>${t('count')}: <b>${fmtNum(inc.count)}</b></span>
            <span>${t('first_seen')}: ${fmtTime(inc.first_seen)}</span>
            <span>${t('last_seen')}: ${fmtTime(inc.last_seen)}</span>
            <span>${t('assignee')}: <b class="assignee">${inc.assignee || '—'}</b></span>
          </div>
        </div>
      </header>
      ${err && html`<p class="error">${err}</p>`}
      ${canAct && html`<div class="actions">
        ${inc.status === 'open' && html`<button class="primary" disabled=${busy} onClick=${() => act('ack', {})}>${t('ack')}</button>`}
        <button disabled=${busy} onClick=${() => act('assign', { user: session.user })}>${t('assign_me')}</button>
        <form class="inline" onSubmit=${(e) => { e.preventDefault(); act('assign', { user: assignee }); }}>
          <input value=${assignee} onInput=${(e) => setAssignee(e.target.value)} placeholder=${t('user')} size="10" />
          <button type="submit" disabled=${busy}>${t('assign')}</button>
        </form>
        <form class="inline" onSubmit=${(e) => { e.preventDefault(); act('close', { reason, note: closeNote }); }}>
          <select value=${reason} onChange=${(e) => setReason(e.target.value)} title=${t('reason')}>
            ${Object.keys(REASONS).map((r) => html`<option value=${r}>${REASONS[r][getLang() === 'ja' ? 0 : 1]}</option>`)}
          </select>
          <input value=${closeNote} onInput=${(e) => setCloseNote(e.target.value)} placeholder=${t('note')} size="18" />
          <button type="submit" class="danger" disabled=${busy}>${t('close')}</button>
        </form>
      </div>`}
      <div class="cols">
        <div class="col main">
          <h2>${t('steps')}</h2>
          <ol class="checklist">${steps.map((s, i) => html`
            <li class=${ticks[i] && ticks[i].done ? 'done' : ''}>
              <label><input type="checkbox" class="step" data-step=${i} disabled=${!canAct || busy} checked=${!!(ticks[i] && ticks[i].done)}
                onChange=${(e) => act('steps', { step: i, done: e.target.checked })} />
              <span>${s}</span></label>
              ${ticks[i] && html`<span class="who">${ticks[i].done ? '✓' : '↺'} ${ticks[i].actor} · ${fmtTime(ticks[i].time)}</span>`}
            </li>`)}
          </ol>
          <h2>${t('evidence')} <span class="muted">${inc.evidence.length} / ${inc.evidence_total}</span></h2>
          <ul class="evidence">${inc.evidence.map((ev) => html`<${EventRow} ev=${ev} />`)}</ul>
        </div>
        <div class="col side">
          <h2>${t('related')}</h2>
          <ul class="entities">${entities(inc).map((e) => html`
            <li><span class="muted">${e.label}</span> <a class="pivot" href=${searchHref(e.q)}>${e.value}</a></li>`)}
          </ul>
          <h2>${t('notes')}</h2>
          ${canAct && html`<form class="note" onSubmit=${(e) => { e.preventDefault(); if (note.trim()) act('notes', { text: note }).then(() => setNote('')); }}>
            <textarea value=${note} onInput=${(e) => setNote(e.target.value)} rows="3" placeholder=${t('note')}></textarea>
            <button type="submit" disabled=${busy}>${t('add_note')}</button>
          </form>`}
          <h2>${t('history')}</h2>
          <ul class="timeline">${timeline(inc).map((h) => html`
            <li><span class="t mono">${fmtTime(h.time)}</span> <b>${h.actor}</b> <span class="what">${h.what}</span>
              ${h.text && html`<div class="txt">${h.text}</div>`}</li>`)}
          </ul>
        </div>
      </div>
    </section>`;
}
