// web.chat_refuel_fr: a customer refuels 1.5 GB of data IN FRENCH in the
// standalone chat page (/#key=CHANNEL_KEY): identity by phone number, then
// full name + date of birth, the quote, the confirmation. Checks the refuel
// reached telco-sim (GET /lines/L1002), that the UI strings followed the
// conversation's language into French, that a reload continues the same
// conversation, a copy of the customer's data as a download, the end of
// chat with a rating, and a phone-sized layout.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { URL_BASE, loadKeys, launch, newPage, api, chat, say, screenshot, waitUntil, finish } from './lib/common.mjs';

const keys = await loadKeys();
const line = async () => {
  const res = await fetch(`${keys.telco_sim}/lines/L1002`);
  assert.equal(res.status, 200, 'telco-sim GET /lines/L1002');
  return res.json();
};
const before = await line();

const browser = await launch();
try {
  // A wrong key is a clear message in the panel, not a silent failure.
  const bad = await newPage(browser);
  await bad.goto(`${URL_BASE}/#key=not-a-key`);
  const badChat = chat(bad);
  await badChat.alert.waitFor();
  assert.match(await badChat.alert.textContent(), /access key was refused/);
  await bad.context().close();

  const page = await newPage(browser); // browser in English: the UI starts in English
  await page.goto(`${URL_BASE}/#key=${keys.channel}`);
  const c = chat(page);
  await c.log.waitFor();
  assert.equal(await c.log.getAttribute('aria-live'), 'polite');
  await waitUntil(() => c.input.isEnabled(), 'the conversation to start');
  assert.equal((await c.send.textContent()).trim(), 'Send');
  assert.equal(await c.input.getAttribute('placeholder'), 'Type your message…');
  assert.ok(!page.url().includes(keys.channel), 'the key is dropped from the address bar');

  let r = await say(page, 'bonjour je voudrais recharger des donnees svp');
  assert.match(r.join(' '), /num(é|e)ro/i, 'asks for the phone number');
  // The UI followed the Turn's language into French.
  await waitUntil(async () => (await c.send.textContent()).trim() === 'Envoyer', 'the Send button in French');
  assert.equal(await c.input.getAttribute('placeholder'), 'Écrivez votre message…');
  assert.equal((await c.end.textContent()).trim(), 'Terminer la discussion');
  assert.equal(await c.panel.getAttribute('lang'), 'fr');
  assert.equal(await c.log.getAttribute('aria-label'), 'Conversation');

  r = await say(page, '555-123-2002');
  assert.match(r.join(' '), /nom complet/i, 'asks for the full name');
  r = await say(page, "je m'appelle John Smith, ne le 15/06/1985");
  assert.match(r.join(' '), /v(é|e)rifi(é|e)e/i, 'identity verified');
  r = await say(page, '1,5 go');
  assert.match(r.join(' '), /Premium.*2 USD.*1[,.]5 Go/s, 'the quote');

  // Confirm: with the choice button when the bot offers one, else in words.
  const last = c.bot.last();
  const yes = last.locator('.choices button').filter({ hasText: /^oui/i });
  const nBot = await c.bot.count();
  if (await yes.count()) {
    await yes.first().focus();
    await page.keyboard.press('Enter'); // keyboard-reachable choice
    await c.bot.nth(nBot).waitFor();
    await waitUntil(async () => !(await c.typing.isVisible()), 'typing indicator to go');
    r = (await c.bot.locator('.text').allTextContents()).slice(nBot);
  } else {
    r = await say(page, 'oui vas y');
  }
  assert.match(r.join(' '), /1[,.]5 Go/, 'refuel confirmed');

  // The backend recorded it.
  const after = await line();
  assert.equal(Math.round((after.data_refueling_gb - before.data_refueling_gb) * 100) / 100, 1.5,
    `data_refueling_gb went from ${before.data_refueling_gb} to ${after.data_refueling_gb}`);

  // No turn shown twice (the stream repeats what the POST answers showed).
  const customerTexts = await c.customer.locator('.text').allTextContents();
  assert.equal(customerTexts.length, 5, `five customer bubbles: ${JSON.stringify(customerTexts)}`);
  const lastBot = await c.bot.last().locator('.text').textContent();
  await screenshot(page, 'chat.png');

  // Phone-sized: the panel fits 360 px without sideways scrolling.
  await page.setViewportSize({ width: 360, height: 740 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no horizontal scroll at 360 px');
  const box = await c.send.boundingBox();
  assert.ok(box && box.x + box.width <= 360, 'Send button on screen at 360 px');
  await screenshot(page, 'chat-phone.png');
  await page.setViewportSize({ width: 1280, height: 800 });

  // A reload continues the conversation (sessionStorage + GET transcript).
  // It redraws the transcript (texts redacted by the server), bubble for turn.
  const conv = await page.evaluate(() => window.parleyChat.conv);
  await page.reload();
  await waitUntil(async () => (await c.customer.count()) === 5, 'the transcript redrawn after reload');
  assert.equal(await page.evaluate(() => window.parleyChat.conv), conv, 'same conversation after reload');
  const tr = await api('GET', `/v1/conversations/${conv}`, keys.channel);
  assert.equal(tr.status, 200, tr.text);
  const seqs = await c.log.locator('.msg[data-seq]').evaluateAll((els) => els.map((e) => +e.getAttribute('data-seq')));
  assert.deepEqual(seqs, tr.json.turns.map((t) => t.seq), 'one bubble per transcript turn, in order');
  assert.equal(await c.bot.last().locator('.text').textContent(), lastBot, 'the last answer is back');
  await waitUntil(async () => (await c.send.textContent()).trim() === 'Envoyer', 'French UI after reload');

  // A copy of my data, asked in French: the answer, then a download link in
  // the UI's language; the file is the customer's export, this chat in it.
  r = await say(page, 'envoyez-moi une copie de mes données');
  assert.match(r.join(' '), /Voici une copie/, 'the export is announced');
  const link = c.log.locator('a.file').last();
  await link.waitFor();
  assert.equal((await link.textContent()).trim(), 'Télécharger my-data.json');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'my-data.json');
  const doc = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(doc.customer_id, 'C1001', 'the verified customer\'s data');
  assert.ok(doc.conversations.some((x) => x.conversation_id === conv), 'this conversation is in the copy');
  assert.ok(!/1985|Smith|555-123/.test(JSON.stringify(doc)), 'no personal data in clear in the copy');

  // End of chat: close, then rate 5 with a comment (all with the keyboard).
  await c.end.focus();
  await page.keyboard.press('Enter');
  const five = page.getByRole('radio', { name: '5 sur 5' });
  await five.waitFor({ state: 'attached' });
  await five.focus();
  await page.keyboard.press('Space');
  assert.ok(await five.isChecked(), 'score 5 picked with the keyboard');
  await page.getByLabel('Commentaire (facultatif)').fill('Très rapide, merci');
  await page.getByRole('button', { name: 'Envoyer la note' }).click();
  await page.getByText('Merci pour votre avis !').waitFor();

  const t = await api('GET', `/v1/conversations/${conv}`, keys.channel);
  assert.equal(t.status, 200, t.text);
  assert.equal(t.json.state, 'closed');
  assert.equal(t.json.rating && t.json.rating.score, 5, `rating stored: ${t.text}`);

  await finish(browser, [page]);
  console.log('web.chat_refuel_fr: ok');
} catch (e) {
  await browser.close();
  throw e;
}
