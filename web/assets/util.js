// Shared pieces of the console: the API client, words, times, charts.
// Log data is attacker-written: it only ever reaches the page as text
// (Preact text nodes and attribute values), never as markup.
import { html } from './vendor/htm-preact-standalone.mjs';
import { T, CATEGORY, LEVEL, STATUS } from './i18n.js';

export const session = { csrf: '', user: '', role: '', tz: 'UTC', onLogout: null };

let lang = localStorage.getItem('lw.lang') === 'en' ? 'en' : 'ja';
export const getLang = () => lang;
export const setLang = (l) => { lang = l; localStorage.setItem('lw.lang', l); document.documentElement.lang = l; };
const pick = (pair, fallback) => (pair ? pair[lang === 'ja' ? 0 : 1] : fallback);
export const t = (key) => pick(T[key], key);
export const catName = (c) => pick(CATEGORY[c], c);
export const levelName = (l) => pick(LEVEL[l], l);
export const statusName = (s) => pick(STATUS[s], s);

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

export async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (method !== 'GET' && session.csrf) opts.headers['X-CSRF-Token'] = session.csrf;
  const res = await fetch('/api/v1' + path, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: 'http', message: res.statusText };
    if (res.status === 401 && path !== '/login' && session.onLogout) session.onLogout();
    throw new ApiError(res.status, err.code, err.message);
  }
  return data;
}

export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
}

// Times in the configured zone: "2026-12-07 10:57:56".
export function fmtTime(iso, withDate = true) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  try {
    const f = new Intl.DateTimeFormat('sv-SE', {
      timeZone: session.tz, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
    }).format(d);
    return withDate ? f : f.slice(11);
  } catch (e) { return iso; }
}

export function fmtAgo(iso) {
  if (!iso) return '—';
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  const ja = lang === 'ja';
  if (s < 60) return ja ? `${Math.floor(s)}秒前` : `${Math.floor(s)}s ago`;
  if (s < 3600) return ja ? `${Math.floor(s / 60)}分前` : `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return ja ? `${Math.floor(s / 3600)}時間前` : `${Math.floor(s / 3600)}h ago`;
  return ja ? `${Math.floor(s / 86400)}日前` : `${Math.floor(s / 86400)}d ago`;
}

export const fmtNum = (n) => (n === undefined || n === null ? '—' : Number(n).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-US'));

export const LevelBadge = ({ level }) => html`<span class=${'lvl lvl-' + level}>${levelName(level)}</span>`;
export const StatusBadge = ({ status }) => html`<span class=${'st st-' + status}>${statusName(status)}</span>`;

// A value as a term of the query language: quoted, with " and \ escaped.
export function term(field, value) {
  return `${field}:"${String(value).replace(/[\\"]/g, (c) => '\\' + c)}"`;
}
export const searchHref = (q) => '#/events' + qs({ q, since: '24h' });

// A sparkline of counts as an SVG polyline (no chart library needed).
export function Spark({ values, w = 120, h = 22 }) {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`).join(' ');
  return html`<svg class="spark" width=${w} height=${h} viewBox=${`0 0 ${w} ${h}`}><polyline points=${pts} /></svg>`;
}

const ZONE_COLORS = { mynumber: '#c2410c', lgwan: '#1d4ed8', internet: '#047857', default: '#6b7280' };
const PALETTE = ['#7c3aed', '#0891b2', '#ca8a04', '#db2777', '#4d7c0f'];
export function zoneColor(name, i) { return ZONE_COLORS[name] || PALETTE[i % PALETTE.length]; }

// A uPlot time series into el (replacing what was there); series = [{label, values}].
export function drawChart(el, start, stepS, series, opts = {}) {
  if (!el || !window.uPlot) return null;
  while (el.firstChild) el.removeChild(el.firstChild);
  const n = series.length ? series[0].values.length : 0;
  const xs = Array.from({ length: n }, (_, i) => Date.parse(start) / 1000 + i * stepS);
  const width = el.clientWidth || 600;
  const bars = opts.bars && window.uPlot.paths && window.uPlot.paths.bars ? window.uPlot.paths.bars({ size: [0.8, 40] }) : undefined;
  const u = new window.uPlot({
    width, height: opts.height || 140, legend: { show: series.length > 1 },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } },
    tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1e3), session.tz),
    axes: [{ stroke: '#6b7280', grid: { stroke: '#eef0f3' },
      // 24-hour clock in the configured zone, the date where it changes
      values: (u, splits) => splits.map((ts, i) => {
        const f = fmtTime(new Date(ts * 1000).toISOString());
        const prev = i > 0 ? fmtTime(new Date(splits[i - 1] * 1000).toISOString()) : '';
        return f.slice(0, 10) !== prev.slice(0, 10) ? f.slice(5, 16) : f.slice(11, 16);
      }) }, { stroke: '#6b7280', grid: { stroke: '#eef0f3' }, size: 48 }],
    series: [{}, ...series.map((s, i) => ({
      label: s.label, stroke: s.color || zoneColor(s.label, i), width: 1.5,
      fill: opts.bars ? (s.color || zoneColor(s.label, i)) + 'cc' : undefined, paths: bars, points: { show: false },
    }))],
  }, [xs, ...series.map((s) => s.values)], el);
  return u;
}

// Flattens nested ECS JSON into [["host.name", "web01"], ...].
export function flatten(obj, prefix = '', out = []) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? prefix + '.' + k : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    else if (Array.isArray(v)) v.forEach((x) => out.push([key, typeof x === 'object' ? JSON.stringify(x) : String(x)]));
    else out.push([key, String(v)]);
  }
  return out;
}
export const dig = (obj, path) => path.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), obj);
