// web.agent_review: the customer writes something no intent covers; the
// agent opens the console's Review tab, finds the message (as stored,
// redacted), picks the intent it meant and labels it; the item leaves the
// open queue and GET /v1/review?status=labelled has the label; a second one
// is dismissed with the keyboard-reachable button.
import assert from 'node:assert/strict';
import { URL_BASE, loadKeys, launch, newPage, api, chat, say, screenshot, waitUntil, finish } from './lib/common.mjs';

const keys = await loadKeys();
const browser = await launch();
try {
  const customer = await newPage(browser, { viewport: { width: 900, height: 800 } });
  await customer.goto(`${URL_BASE}/#key=${keys.channel}`);
  const c = chat(customer);
  await waitUntil(() => c.input.isEnabled(), 'the conversation to start');
  const odd = 'zorblax quintuple wibbling frobnicator';
  await say(customer, odd);
  await say(customer, 'glimmerwock snood my name is Wanda Xylophon');

  const agent = await newPage(browser);
  await agent.goto(`${URL_BASE}/console#key=${keys.agent}`);
  await agent.getByRole('tab', { name: /Review/ }).click();
  const first = agent.locator('.review-item', { hasText: odd });
  await first.waitFor();
  // The second message is shown as stored: the name redacted.
  const second = agent.locator('.review-item', { hasText: 'glimmerwock' });
  await second.waitFor();
  const shown = await second.locator('.review-text').textContent();
  assert.ok(!/Wanda|Xylophon/.test(shown), `review shows the stored, redacted text: ${shown}`);
  assert.match(await agent.locator('#review-count').textContent(), /^[2-9]/);

  const open = await api('GET', '/v1/review', keys.agent);
  const item = open.json.items.find((x) => x.text === odd);
  assert.ok(item, `GET /v1/review lists the message: ${open.text}`);
  const intent = open.json.intents.includes('data_usage') ? 'data_usage' : open.json.intents[0];

  // Label without choosing first: a pointed message, nothing sent.
  await first.locator('select').selectOption('');
  await first.getByRole('button', { name: 'Label' }).click();
  await agent.getByText('Choose the intent first.').waitFor();
  await first.locator('select').selectOption(intent);
  await first.getByRole('button', { name: 'Label' }).click();
  await waitUntil(async () => (await first.count()) === 0, 'the labelled message to leave the queue');
  await screenshot(agent, 'review.png');
  const labelled = await api('GET', '/v1/review?status=labelled', keys.agent);
  assert.ok(labelled.json.items.some((x) => x.id === item.id && x.intent === intent),
    `GET /v1/review?status=labelled has the label: ${labelled.text}`);

  await second.getByRole('button', { name: 'Dismiss' }).focus();
  await agent.keyboard.press('Enter');
  await waitUntil(async () => (await second.count()) === 0, 'the dismissed message to leave the queue');
  const dismissed = await api('GET', '/v1/review?status=dismissed', keys.agent);
  assert.equal(dismissed.json.items.length, 1, dismissed.text);

  await finish(browser, [customer, agent]);
  console.log('web.agent_review: ok');
} catch (e) {
  await browser.close();
  throw e;
}
