// The console as an operator uses it, in Debian's headless chromium:
// log in, find the incident a brute force raised, open it, tick a
// response step, acknowledge it, pivot from its related address to an
// event search of that address as source or destination, and check that log lines with markup stay text. Screenshots of
// every page go to ARTIFACTS. Prints one JSON line of what it saw; exits
// non-zero (with the reason on stderr) when a step fails.
//
// env: BASE (http://127.0.0.1:PORT), LW_USER, LW_PASS, SOURCE_IP,
//      ARTIFACTS (directory), CHROMIUM (default /usr/bin/chromium)
import puppeteer from 'puppeteer-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { BASE, LW_USER, LW_PASS, SOURCE_IP, ARTIFACTS } = process.env;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const profile = mkdtempSync(join(tmpdir(), 'lw-e2e-'));
const seen = { screenshots: [] };
const fail = (why) => { throw new Error(why); };

const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // the first GET /me before the login answers 401: expected, not an error
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text()); });
  const shot = async (name) => {
    await new Promise((r) => setTimeout(r, 300));
    await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
    seen.screenshots.push(name);
  };

  // 1. log in
  await page.goto(BASE + '/', { waitUntil: 'networkidle0' });
  await page.waitForSelector('.login input[name=user]');
  await shot('01-login.png');
  await page.type('input[name=user]', LW_USER);
  await page.type('input[name=password]', LW_PASS);
  await page.click('.login button[type=submit]');

  // 2. the queue: the brute force incident
  await page.waitForSelector('table.incidents tbody tr');
  const rowIndex = await page.$$eval('table.incidents tbody tr', (rows) =>
    rows.findIndex((r) => r.textContent.includes('SSH brute force')));
  if (rowIndex < 0) fail('no "SSH brute force" row in the queue');
  seen.queue_rows = await page.$$eval('table.incidents tbody tr', (r) => r.length);
  seen.category_chip = await page.$$eval('.chip', (c) => c.map((x) => x.textContent).find((x) => x.includes('不正アクセス')) || '');
  if (!seen.category_chip) fail('no 不正アクセス chip');
  await shot('02-incidents.png');

  // 3. open it
  const rows = await page.$$('table.incidents tbody tr');
  await rows[rowIndex].click();
  await page.waitForSelector('ol.checklist input.step');
  seen.incident_url = page.url();
  seen.incident_id = Number(/incidents\/(\d+)/.exec(seen.incident_url)[1]);
  await shot('03-incident.png');

  // 4. tick the first response step
  await page.click('ol.checklist input.step[data-step="0"]');
  await page.waitForFunction(() => {
    const w = document.querySelector('ol.checklist li .who');
    return w && w.textContent.includes('✓');
  });
  seen.step_who = await page.$eval('ol.checklist li .who', (e) => e.textContent);

  // 5. acknowledge
  await page.click('.actions button.primary');
  await page.waitForFunction(() => !!document.querySelector('.inchead .st-acknowledged'));
  seen.status_text = await page.$eval('.inchead .st', (e) => e.textContent);
  seen.evidence_text = await page.$eval('ul.evidence', (e) => e.textContent);
  await shot('04-incident-acknowledged.png');

  // 6. pivot to its source address, from the related addresses (which
  // search the address on either side: source.ip or destination.ip)
  const pivots = await page.$$('ul.entities li');
  let clicked = false;
  for (const li of pivots) {
    const [label, value] = await li.evaluate((e) => [e.querySelector('.muted').textContent, e.querySelector('a.pivot').textContent]);
    if (label === 'related.ip' && value === SOURCE_IP) { await (await li.$('a.pivot')).click(); clicked = true; break; }
  }
  if (!clicked) fail(`no related.ip pivot link for ${SOURCE_IP}`);
  await page.waitForSelector('table.evtable tbody tr.ev');
  seen.search_query = await page.$eval('.searchbar input.q', (e) => e.value);
  seen.search_rows = await page.$$eval('table.evtable tbody tr.ev', (r) => r.length);
  seen.messages = await page.$$eval('table.evtable td.msg', (c) => c.map((x) => x.textContent));
  // markup in a log line is text: no element was made from it
  seen.markup_as_text = seen.messages.some((m) => m.includes('<script>'));
  seen.injected_elements = await page.evaluate(() =>
    document.querySelectorAll('#app script, #app img, #app iframe').length);
  seen.xss_ran = await page.evaluate(() => window.__lw_xss !== undefined);
  // open the first event: its fields, as clickable values
  await page.click('table.evtable tbody tr.ev');
  await page.waitForSelector('tr.detail table.fields');
  await shot('05-events.png');

  // 7. sources, overview, and the English switch
  await page.goto(BASE + '/#/sources', { waitUntil: 'networkidle0' });
  await page.waitForSelector('table.srctable tbody tr');
  seen.source_hosts = await page.$$eval('table.srctable tbody tr td:first-child', (c) => c.map((x) => x.textContent));
  await shot('06-sources.png');
  await page.goto(BASE + '/#/overview', { waitUntil: 'networkidle0' });
  await page.waitForSelector('table.matrix');
  await page.waitForSelector('.chart .uplot');
  await shot('07-overview.png');
  await page.goto(BASE + '/#/incidents', { waitUntil: 'networkidle0' });
  await page.waitForSelector('table.incidents tbody tr');
  const en = await page.$$('.lang button');
  await en[1].click();
  await page.waitForFunction(() => document.querySelector('header.top nav').textContent.includes('Incidents'));
  seen.english_nav = await page.$eval('header.top nav', (e) => e.textContent);
  await shot('08-incidents-en.png');
  seen.page_errors = errors;
  if (errors.length) fail('page errors: ' + errors.join(' | '));
  console.log(JSON.stringify(seen));
} catch (e) {
  console.error('e2e: ' + e.message);
  console.log(JSON.stringify(seen));
  process.exitCode = 1;
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
