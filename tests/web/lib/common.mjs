// Shared helpers of the browser scenarios (tests/web/*.mjs). They run under
// tests/web/lib/run.sh, which starts the real server and sets:
//   PARLEY_URL          http://127.0.0.1:PORT of `parley serve --demo`
//   PARLEY_KEYS         its demo-keys.json ({channel, agent, admin, telco_sim})
//   PARLEY_SCREENSHOTS  folder for screenshots
//   PARLEY_CHROMIUM     the Chromium binary (Debian's /usr/bin/chromium)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const URL_BASE = process.env.PARLEY_URL;
export const SHOTS = process.env.PARLEY_SCREENSHOTS;
assert.ok(URL_BASE, 'PARLEY_URL is not set (run the .sh wrapper)');
assert.ok(SHOTS, 'PARLEY_SCREENSHOTS is not set (run the .sh wrapper)');

export const TIMEOUT = 30000;

export async function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Polls fn until it returns a truthy value (returned) or the time is up.
export async function waitUntil(fn, what, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(100);
  }
}

export async function loadKeys() {
  return waitUntil(() => {
    const k = JSON.parse(fs.readFileSync(process.env.PARLEY_KEYS, 'utf8'));
    return k.channel && k.agent && k.telco_sim ? k : null;
  }, 'demo-keys.json');
}

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.PARLEY_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  return browser;
}

// A page that fails the test on any uncaught page error, and logs the console.
export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', ...opts });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.pageErrors = [];
  page.on('pageerror', (e) => {
    page.pageErrors.push(e);
    console.error(`[page error] ${e.stack || e}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`[console.${m.type()}] ${m.text()}`);
  });
  return page;
}

export async function api(method, path, key, body) {
  const res = await fetch(URL_BASE + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: res.status, json, text };
}

export async function screenshot(page, name) {
  const file = path.join(SHOTS, name);
  await page.screenshot({ path: file });
  const size = fs.statSync(file).size;
  assert.ok(size < 300 * 1024, `${name} is ${size} bytes (keep screenshots under 300 KB)`);
  console.log(`screenshot ${file} (${size} bytes)`);
}

// The chat widget, by its roles and classes (Playwright's CSS and role
// selectors pierce its open shadow root).
export function chat(page) {
  return {
    input: page.locator('#parley-input'),
    send: page.locator('button.send'),
    end: page.locator('button.end'),
    log: page.locator('[role="log"]'),
    bot: page.locator('.msg.bot'),
    agent: page.locator('.msg.agent'),
    customer: page.locator('.msg.customer'),
    notice: page.locator('.msg.notice'),
    typing: page.locator('.typing'),
    alert: page.locator('.alert[role="alert"]'),
    panel: page.locator('section.panel'),
  };
}

// Types a message like a person (keyboard: focus, type, Enter) and waits for
// the bot's answer: at least one new bot bubble and the typing indicator gone.
// Returns the texts of the new bot bubbles.
export async function say(page, text) {
  const c = chat(page);
  const before = await c.bot.count();
  await c.input.click();
  await c.input.fill(text);
  await c.input.press('Enter');
  await c.customer.filter({ hasText: text }).last().waitFor();
  await c.bot.nth(before).waitFor();
  await waitUntil(async () => !(await c.typing.isVisible()), 'typing indicator to go');
  const all = await c.bot.locator('.text').allTextContents();
  return all.slice(before);
}

export function finish(browser, pages) {
  for (const p of pages) {
    assert.deepEqual(p.pageErrors.map(String), [], 'uncaught errors in the page');
  }
  return browser.close();
}
