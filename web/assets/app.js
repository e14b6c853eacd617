// The console's shell: login, the top bar, the hash router, the
// language switch. Pages: incidents.js, events.js, sources.js, overview.js.
import { html, render, useState, useEffect } from './vendor/htm-preact-standalone.mjs';
import { api, t, session, getLang, setLang, ApiError } from './util.js';
import { IncidentQueue, IncidentPage } from './incidents.js';
import { EventSearch } from './events.js';
import { Sources } from './sources.js';
import { Overview } from './overview.js';

function parseHash() {
  const h = location.hash.replace(/^#/, '') || '/incidents';
  const [path, query] = h.split('?');
  const params = Object.fromEntries(new URLSearchParams(query || ''));
  return { path, params };
}

function Login({ onIn }) {
  const [user, setUser] = useState('');
  const [pw, setPw] = useState('');
  const [err, setErr] = useState('');
  async function submit(e) {
    e.preventDefault();
    try {
      onIn(await api('POST', '/login', { user, password: pw }));
    } catch (x) {
      setErr(x instanceof ApiError && x.status === 429 ? t('limited') : t('bad_login'));
      setPw('');
    }
  }
  return html`<div class="login">
    <form onSubmit=${submit}>
      <h1>logward</h1>
      <label>${t('user')}<input name="user" autocomplete="username" value=${user} onInput=${(e) => setUser(e.target.value)} /></label>
      <label>${t('password')}<input name="password" type="password" autocomplete="current-password" value=${pw} onInput=${(e) => setPw(e.target.value)} /></label>
      ${err && html`<p class="error">${err}</p>`}
      <button type="submit" class="primary">${t('login')}</button>
      <${LangSwitch} />
    </form>
  </div>`;
}

function LangSwitch() {
  const [, redraw] = useState(0);
  return html`<span class="lang">
    <button type="button" class=${getLang() === 'ja' ? 'on' : ''} onClick=${() => { setLang('ja'); App.redraw(); redraw(1); }}>日本語</button>
    <button type="button" class=${getLang() === 'en' ? 'on' : ''} onClick=${() => { setLang('en'); App.redraw(); redraw(2); }}>English</button>
  </span>`;
}

function Page({ route }) {
  const p = route.path;
  let m;
  if ((m = /^\/incidents\/(\d+)$/.exec(p))) return html`<${IncidentPage} id=${m[1]} key=${m[1]} />`;
  if (p === '/events') return html`<${EventSearch} route=${route} />`;
  if (p === '/sources') return html`<${Sources} />`;
  if (p === '/overview') return html`<${Overview} />`;
  return html`<${IncidentQueue} route=${route} />`;
}

function App() {
  const [me, setMe] = useState(undefined);
  const [route, setRoute] = useState(parseHash());
  const [, setTick] = useState(0);
  App.redraw = () => setTick((x) => x + 1);

  function signedIn(m) {
    session.csrf = m.csrf || '';
    session.user = m.user;
    session.role = m.role;
    session.tz = m.timezone || 'UTC';
    setMe(m);
  }
  session.onLogout = () => { session.csrf = ''; setMe(null); };

  useEffect(() => {
    api('GET', '/me').then(signedIn).catch(() => setMe(null));
    const onHash = () => setRoute(parseHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  if (me === undefined) return html`<p class="boot">logward</p>`;
  if (me === null) return html`<${Login} onIn=${signedIn} />`;
  const tab = (path, key) => html`<a class=${route.path.startsWith(path) ? 'on' : ''} href=${'#' + path}>${t(key)}</a>`;
  return html`
    <header class="top">
      <span class="brand">logward</span>
      <nav>${tab('/incidents', 'incidents')}${tab('/events', 'events')}${tab('/sources', 'sources')}${tab('/overview', 'overview')}</nav>
      <span class="spacer"></span>
      <${LangSwitch} />
      <span class="me"><b>${me.user}</b> <span class="muted">${me.role}</span></span>
      <button type="button" class="ghost" onClick=${() => api('POST', '/logout', {}).finally(() => { session.csrf = ''; setMe(null); })}>${t('logout')}</button>
    </header>
    <main key=${route.path + getLang()}><${Page} route=${route} /></main>`;
}
App.redraw = () => {};

setLang(getLang());
render(html`<${App} />`, document.getElementById('app'));
