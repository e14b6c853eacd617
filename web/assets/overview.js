// Overview: events per zone per minute, open incidents by category and
// level, intake and loss counters, the store.
import { html, useState, useEffect, useRef } from './vendor/htm-preact-standalone.mjs';
import { CATEGORY, LEVELS } from './i18n.js';
import { api, t, catName, levelName, fmtNum, drawChart, zoneColor } from './util.js';

const SHOWN = ['received', 'stored', 'malformed', 'truncated', 'dropped_udp', 'dropped_kernel', 'dropped_store',
  'dropped_nomem', 'rate_dropped', 'refused_allow', 'incidents_raised', 'notify_failed'];

// Every drop counter (their names start "dropped_"), summed.
const dropped = (d) => Object.entries(d.counters).reduce((n, [k, v]) => (k.startsWith('dropped_') ? n + v : n), 0);

export function Overview() {
  const [d, setD] = useState(null);
  const [err, setErr] = useState('');
  const chart = useRef(null);
  useEffect(() => {
    const load = () => api('GET', '/overview').then((x) => { setD(x); setErr(''); }).catch((e) => setErr(e.message));
    load();
    const timer = setInterval(load, 10000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    if (!d) return;
    const h = d.events_per_zone;
    const series = h.series.map((s, i) => ({ label: s.value, values: s.counts, color: zoneColor(s.value, i) }));
    if (h.missing && h.missing.count) series.push({ label: '(none)', values: h.missing.counts, color: '#9ca3af' });
    if (series.length === 0) series.push({ label: 'events', values: h.counts, color: '#2563eb' });
    drawChart(chart.current, h.start, h.step_s, series, { height: 180 });
  }, [d]);
  if (!d) return html`<section class="page">${err ? html`<p class="error">${err}</p>` : html`<p class="muted">${t('loading')}</p>`}</section>`;
  const cell = {};
  d.incidents.by.forEach((x) => { cell[x.category + '|' + x.level] = x.count; });
  const cats = Object.keys(CATEGORY);
  return html`
    <section class="page overview">
      ${err && html`<p class="error">${err}</p>`}
      <div class="cards">
        <div class="card"><div class="k">${t('incidents')}</div><div class="v">${fmtNum(d.incidents.open)}</div></div>
        <div class="card"><div class="k">${t('store')}</div><div class="v">${fmtNum(d.store.events)}</div><div class="s muted">${fmtNum(d.store.segments)} seg · ${fmtNum(Math.round(d.store.stored_bytes / 1048576))} MiB</div></div>
        <div class="card"><div class="k">${t('received')}</div><div class="v">${fmtNum(d.counters.received)}</div></div>
        <div class=${'card ' + (dropped(d) ? 'bad' : 'good')}>
          <div class="k">${t('dropped')}</div><div class="v">${fmtNum(dropped(d))}</div></div>
        ${d.health && html`<div class=${'card ' + (d.health.storage_failing || d.health.loss_episodes ? 'bad' : 'good')}>
          <div class="k">${t('health')}</div>
          <div class="v">${d.health.storage_failing ? t('storage_failing') : d.health.loss_episodes ? t('losing') : t('ok')}</div>
          <div class="s muted">${t('loss_episodes')}: ${d.health.loss_episodes}</div></div>`}
      </div>
      <h2>${t('events_zone')}</h2>
      <div class="chart" ref=${chart}></div>
      <div class="cols">
        <div class="col main">
          <h2>${t('open_by')}</h2>
          <table class="grid matrix">
            <thead><tr><th>${t('category')}</th>${LEVELS.map((l) => html`<th class=${'num c-' + l}>${levelName(l)}</th>`)}</tr></thead>
            <tbody>${cats.map((c) => html`<tr>
              <td><a href=${'#/incidents?category=' + c}>${catName(c)}</a></td>
              ${LEVELS.map((l) => html`<td class=${'num ' + (cell[c + '|' + l] ? 'hot-' + l : 'zero')}>${cell[c + '|' + l] ? fmtNum(cell[c + '|' + l]) : '·'}</td>`)}
            </tr>`)}</tbody>
          </table>
        </div>
        <div class="col side">
          <h2>${t('counters')}</h2>
          <table class="grid kv">${SHOWN.filter((k) => k in d.counters).map((k) => html`
            <tr class=${/drop|refused|failed/.test(k) && d.counters[k] ? 'warn' : ''}><th class="mono">${k}</th><td class="num">${fmtNum(d.counters[k])}</td></tr>`)}
          </table>
        </div>
      </div>
    </section>`;
}
