// Event search: the query language with field completion, a histogram
// above the results, newest first with "load more", a live tail, and a
// click on any field value to add it to the query.
import { html, useState, useEffect, useRef } from './vendor/htm-preact-standalone.mjs';
import { api, qs, t, fmtTime, fmtNum, drawChart, flatten, term, session } from './util.js';

const RANGES = ['15m', '1h', '6h', '24h', '7d', '30d'];
const STEP = { '15m': '30s', '1h': '1m', '6h': '5m', '24h': '15m', '7d': '1h', '30d': '6h' };
const TAIL_MS = 2000;

// The word being typed: after the last space or parenthesis.
function currentWord(s) { const m = /[^\s()]*$/.exec(s); return m ? m[0] : ''; }

function Completion({ input, fields, onPick }) {
  const w = currentWord(input);
  if (!w || w.includes(':') || w.length < 1) return null;
  const hits = fields.filter((f) => f.startsWith(w) && f !== w).slice(0, 8);
  if (hits.length === 0) return null;
  return html`<ul class="complete">${hits.map((f) => html`<li><button type="button" onMouseDown=${(e) => { e.preventDefault(); onPick(f); }}>${f}</button></li>`)}</ul>`;
}

function EventDetail({ ev, onAdd }) {
  return html`<table class="fields">${flatten(ev).map(([k, v]) => html`
    <tr><th class="mono">${k}</th><td><button type="button" class="val mono" title=${t('click_value')} onClick=${() => onAdd(k, v)}>${v}</button></td></tr>`)}
  </table>`;
}

export function EventSearch({ route }) {
  const [q, setQ] = useState(route.params.q || '');
  const [input, setInput] = useState(route.params.q || '');
  const [since, setSince] = useState(route.params.since || '1h');
  const [events, setEvents] = useState(null);
  const [next, setNext] = useState(null);
  const [total, setTotal] = useState(null);
  const [open, setOpen] = useState(-1);
  const [fields, setFields] = useState([]);
  const [err, setErr] = useState('');
  const [live, setLive] = useState(false);
  const tail = useRef(0);
  const chart = useRef(null);

  useEffect(() => { api('GET', '/fields').then((r) => setFields(r.fields)).catch(() => {}); }, []);

  async function load(more) {
    try {
      const page = await api('GET', '/events' + qs({ q, since, limit: 100, cursor: more ? next : '' }));
      setEvents(more ? [...events, ...page.events] : page.events);
      setNext(page.next);
      if (!more) {
        tail.current = page.tail;
        const h = await api('GET', '/events/histogram' + qs({ q, since, step: STEP[since] || '1m' }));
        setTotal(h.total);
        drawChart(chart.current, h.start, h.step_s, [{ label: 'events', values: h.counts, color: '#2563eb' }], { bars: true, height: 110 });
      }
      setErr('');
    } catch (e) { setErr(e.message); setEvents([]); }
  }

  useEffect(() => {
    location.replace('#/events' + qs({ q, since }));
    setOpen(-1);
    load(false);
  }, [q, since]);

  // live tail: what was stored after the newest segment already shown
  useEffect(() => {
    if (!live) return undefined;
    const timer = setInterval(async () => {
      try {
        const r = await api('GET', '/events' + qs({ q, after: tail.current, limit: 500 }));
        if (r.tail) tail.current = r.tail;
        if (r.events.length) setEvents((old) => [...r.events.reverse(), ...(old || [])].slice(0, 1000));
      } catch (e) { setErr(e.message); }
    }, TAIL_MS);
    return () => clearInterval(timer);
  }, [live, q]);

  function addTerm(k, v) {
    const nq = (q.trim() ? q.trim() + ' AND ' : '') + term(k, v);
    setInput(nq);
    setQ(nq);
  }

  return html`
    <section class="page events">
      <form class="searchbar" onSubmit=${(e) => { e.preventDefault(); setQ(input); }}>
        <div class="qwrap">
          <input class="q mono" value=${input} onInput=${(e) => setInput(e.target.value)} placeholder=${t('query_ph')} spellcheck="false" autocomplete="off" />
          <${Completion} input=${input} fields=${fields} onPick=${(f) => setInput(input.slice(0, input.length - currentWord(input).length) + f + ':')} />
        </div>
        <select value=${since} onChange=${(e) => setSince(e.target.value)} title=${t('since')}>
          ${RANGES.map((r) => html`<option value=${r}>${r}</option>`)}
        </select>
        <button type="submit" class="primary">${t('search')}</button>
        <label class="live"><input type="checkbox" checked=${live} onChange=${(e) => setLive(e.target.checked)} /> ${t('live')}</label>
        <a class="button ghost" href=${'/api/v1/events.csv' + qs({ q, since })} download>${t('csv')}</a>
      </form>
      ${err && html`<p class="error">${err}</p>`}
      <div class="histhead"><b>${total === null ? '' : fmtNum(total)}</b> ${t('results')} <span class="muted">(${since}, ${session.tz})</span></div>
      <div class="chart" ref=${chart}></div>
      ${events === null ? html`<p class="muted">${t('loading')}</p>` : events.length === 0 ? html`<p class="muted empty">${t('no_events')}</p>` : html`
      <table class="grid evtable">
        <thead><tr><th>${t('time')}</th><th>${t('host')}</th><th>${t('zone')}</th><th>${t('app')}</th><th>${t('severity')}</th><th>${t('message')}</th></tr></thead>
        <tbody>${events.map((ev, i) => html`
          <tr key=${i} class=${'ev sev-' + ((ev.log && ev.log.syslog && ev.log.syslog.severity && ev.log.syslog.severity.name) || 'none') + (open === i ? ' open' : '')} onClick=${() => setOpen(open === i ? -1 : i)}>
            <td class="mono nowrap">${fmtTime(ev['@timestamp'])}</td>
            <td><button type="button" class="val" onClick=${(e) => { e.stopPropagation(); addTerm('host.name', ev.host && ev.host.name); }}>${ev.host && ev.host.name}</button></td>
            <td>${ev.labels && ev.labels.zone}</td>
            <td>${ev.process && ev.process.name}</td>
            <td>${ev.log && ev.log.syslog && ev.log.syslog.severity && ev.log.syslog.severity.name}</td>
            <td class="mono msg">${ev.message}</td>
          </tr>
          ${open === i && html`<tr class="detail"><td colspan="6"><${EventDetail} ev=${ev} onAdd=${addTerm} /></td></tr>`}`)}
        </tbody>
      </table>
      ${next && html`<button class="more" onClick=${() => load(true)}>${t('more')}</button>`}`}
    </section>`;
}
