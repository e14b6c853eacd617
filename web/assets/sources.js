// Sources: every host seen, per zone, last seen, rate, sparkline, and the
// silent ones flagged: the first check after a network change.
import { html, useState, useEffect } from './vendor/htm-preact-standalone.mjs';
import { api, t, fmtTime, fmtAgo, fmtNum, Spark, term, searchHref } from './util.js';

export function Sources() {
  const [data, setData] = useState(null);
  const [err, setErr] = useState('');
  useEffect(() => {
    const load = () => api('GET', '/sources').then((d) => { setData(d); setErr(''); }).catch((e) => setErr(e.message));
    load();
    const timer = setInterval(load, 15000);
    return () => clearInterval(timer);
  }, []);
  if (!data) return html`<section class="page">${err ? html`<p class="error">${err}</p>` : html`<p class="muted">${t('loading')}</p>`}</section>`;
  const zones = {};
  data.sources.forEach((s) => { (zones[s.zone || '—'] = zones[s.zone || '—'] || []).push(s); });
  const silent = data.sources.filter((s) => s.silent).length;
  return html`
    <section class="page sources">
      <div class="summary">
        <span>${t('sources')}: <b>${fmtNum(data.sources.length)}</b></span>
        <span class=${silent ? 'bad' : 'good'}>${t('silent_hosts')}: <b>${fmtNum(silent)}</b></span>
        <span class="muted">${t('silent')} = ${Math.round(data.silent_after_s / 60)} min+</span>
      </div>
      ${err && html`<p class="error">${err}</p>`}
      ${Object.keys(zones).sort().map((z) => html`
        <h2 class=${'zonehead z-' + z}>${t('zone')}: ${z} <span class="muted">${zones[z].length}</span></h2>
        <table class="grid srctable">
          <thead><tr><th>${t('host')}</th><th>${t('status')}</th><th>${t('last_seen')}</th><th class="num">${t('rate')}</th>
            <th>${t('last_hour')}</th><th class="num">${t('total')}</th></tr></thead>
          <tbody>${zones[z].map((s) => html`
            <tr class=${s.silent ? 'silent' : ''}>
              <td><a href=${searchHref(term('host.name', s.host))}>${s.host}</a></td>
              <td>${s.silent ? html`<span class="badge bad">${t('silent')}</span>` : html`<span class="badge good">${t('ok')}</span>`}</td>
              <td title=${fmtTime(s.last_seen)}>${fmtAgo(s.last_seen)}</td>
              <td class="num">${s.rate_per_min.toFixed(1)}</td>
              <td><${Spark} values=${s.spark} /></td>
              <td class="num">${fmtNum(s.events_total)}</td>
            </tr>`)}
          </tbody>
        </table>`)}
    </section>`;
}
