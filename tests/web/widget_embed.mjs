// web.widget_embed: the one-tag embed on another company's site. The host
// page (served by a small HTTP server of the test at http://localhost:PORT2,
// another origin than Parley's http://127.0.0.1:PORT) has aggressive CSS of
// its own and embeds
//   <script src="PARLEY/widget.js" data-parley-key=... data-parley-language="de" async>
// The widget talks to the real server cross-origin (CORS preflights for the
// Authorization header), opens from its launcher with the keyboard, keeps
// its look inside its Shadow DOM, answers in German, shows a network failure
// as a message and gives the typed text back, and Escape minimizes it.
import assert from 'node:assert/strict';
import http from 'node:http';
import { URL_BASE, loadKeys, launch, newPage, chat, say, waitUntil, finish, screenshot } from './lib/common.mjs';

const keys = await loadKeys();
const hostPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<style>
  button { background: rgb(255, 0, 0) !important; font-size: 40px; }
  div, p, section { color: rgb(0, 255, 0); }
  textarea { display: none; }
</style></head>
<body><h1>Example shop</h1><p>Our products.</p><a href="#top" id="first-link">Top</a>
<script src="${URL_BASE}/widget.js" data-parley-key="${keys.channel}" data-parley-language="de" async></script>
</body></html>`;

// The company's site, on loopback.
const site = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(hostPage);
});
await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
const HOST = `http://localhost:${site.address().port}`;

const browser = await launch();
try {
  const page = await newPage(browser);
  await page.goto(`${HOST}/products`);

  const launcher = page.locator('button.launcher');
  await launcher.waitFor();
  assert.equal((await launcher.textContent()).trim(), 'Mit uns chatten', 'launcher in German (data-parley-language)');
  // The host's CSS does not reach into the widget.
  const bg = await launcher.evaluate((b) => getComputedStyle(b).backgroundColor);
  assert.notEqual(bg, 'rgb(255, 0, 0)', 'host page CSS leaked into the launcher');
  assert.equal(await page.evaluate(() => !!document.querySelector('[data-parley-widget]').shadowRoot), true, 'Shadow DOM');

  // Keyboard: Tab from the page's link reaches the launcher; Enter opens it.
  await page.locator('#first-link').focus();
  await page.keyboard.press('Tab');
  assert.equal(await launcher.evaluate((b) => b.getRootNode().activeElement === b), true, 'launcher reachable with Tab');
  await page.keyboard.press('Enter');
  const c = chat(page);
  await waitUntil(() => c.input.isEnabled(), 'the conversation to start (cross-origin)');
  assert.equal(await c.input.isVisible(), true, 'host CSS (textarea{display:none}) leaked into the widget');
  assert.equal(await c.input.getAttribute('placeholder'), 'Schreiben Sie Ihre Nachricht…');
  assert.equal((await c.send.textContent()).trim(), 'Senden');
  assert.equal(await c.panel.getAttribute('role'), 'dialog');

  const r = await say(page, 'Hallo, wie viel Datenvolumen habe ich noch verbraucht?');
  assert.ok(r.length >= 1 && r.join(' ').length > 0, 'the bot answered');
  const color = await c.bot.first().evaluate((b) => getComputedStyle(b).color);
  assert.notEqual(color, 'rgb(0, 255, 0)', 'host page text colour inherited into the widget');

  // Network down: the message is not lost silently.
  await page.route(`${URL_BASE}/v1/conversations/*/messages`, (route) => route.abort('internetdisconnected'));
  const typed = 'Meine Rufnummer ist 555-123-2002';
  await c.input.fill(typed);
  await c.input.press('Enter');
  await c.alert.waitFor();
  assert.match(await c.alert.textContent(), /Der Dienst ist nicht erreichbar/);
  await waitUntil(async () => (await c.input.inputValue()) === typed, 'the typed text given back');
  assert.equal(await c.customer.filter({ hasText: typed }).count(), 0, 'no bubble for an unsent message');
  await page.unroute(`${URL_BASE}/v1/conversations/*/messages`);
  await c.send.click();
  await c.customer.filter({ hasText: typed }).waitFor();
  await waitUntil(async () => !(await c.typing.isVisible()), 'the answer after the network is back');
  await screenshot(page, 'widget.png');

  // Escape minimizes the panel and gives the focus back to the launcher.
  await c.input.focus();
  await page.keyboard.press('Escape');
  await waitUntil(async () => !(await c.panel.isVisible()), 'panel minimized');
  assert.equal(await launcher.evaluate((b) => b.getRootNode().activeElement === b), true, 'focus back on the launcher');

  await finish(browser, [page]);
  console.log('web.widget_embed: ok');
} catch (e) {
  await browser.close();
  throw e;
} finally {
  site.close();
}
