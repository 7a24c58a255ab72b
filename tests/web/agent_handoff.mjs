// web.agent_handoff: a customer asks for a person in the chat page; an agent
// signs in to the console (/console#key=AGENT_KEY), finds the conversation in
// the queue with the bot's summary, reads the transcript, sees the
// customer's next message arrive live, answers; the customer's page shows
// the answer (through the stream); the agent looks at analytics and closes
// the conversation; the customer gets the rating form.
import assert from 'node:assert/strict';
import { URL_BASE, loadKeys, launch, newPage, api, chat, say, screenshot, waitUntil, finish } from './lib/common.mjs';

const keys = await loadKeys();
const browser = await launch();
try {
  // The customer.
  const customer = await newPage(browser, { viewport: { width: 900, height: 800 } });
  await customer.goto(`${URL_BASE}/#key=${keys.channel}`);
  const c = chat(customer);
  await waitUntil(() => c.input.isEnabled(), 'the conversation to start');
  const r = await say(customer, 'can i talk to a real person please');
  assert.match(r.join(' '), /colleague/i, `hand-off reply: ${JSON.stringify(r)}`);
  await c.notice.filter({ hasText: 'A colleague will join' }).waitFor();
  await waitUntil(async () => (await c.panel.getAttribute('data-state')) === 'handed_off', 'the widget in the handed_off state');
  const conv = await customer.evaluate(() => window.parleyChat.conv);
  assert.ok(conv, 'conversation id');

  // The agent: sign in through the form (the key also works as #key=).
  const agent = await newPage(browser);
  await agent.goto(`${URL_BASE}/console`);
  await agent.getByLabel('Agent key').fill(keys.agent);
  await agent.getByRole('button', { name: 'Sign in' }).click();
  const item = agent.locator(`#queue-list button[data-conversation="${conv}"]`);
  await item.waitFor();
  const h = await api('GET', '/v1/handoffs', keys.agent);
  const entry = h.json.handoffs.find((x) => x.conversation_id === conv);
  assert.ok(entry, `GET /v1/handoffs lists ${conv}: ${h.text}`);
  // The queue item shows what GET /v1/handoffs says: reason, language,
  // intent, waiting time and the bot's summary.
  const summary = (await item.locator('.q-summary').textContent()).trim();
  assert.ok(entry.summary, `the hand-off has a summary: ${h.text}`);
  assert.equal(summary, entry.summary, 'queue shows the summary of GET /v1/handoffs');
  const reason = (await item.locator('.badge.reason').textContent()).trim();
  const labels = { customer_request: 'Customer asked for a person', flow: 'Handed off by the flow' };
  if (labels[entry.reason]) assert.equal(reason, labels[entry.reason]);
  else assert.ok(reason.includes(entry.reason.replace(/^flow:/, '')), `reason ${entry.reason} shown as ${reason}`);
  const itemText = await item.textContent();
  assert.equal((await item.locator('.badge[title="language"]').textContent()).trim(), entry.language.toUpperCase(), 'language shown');
  if (entry.intent) assert.ok(itemText.includes(entry.intent), `intent shown: ${itemText}`);
  assert.match(await item.locator('.q-wait').textContent(), /\d+ s|min/, 'waiting time shown');

  // Open it with the keyboard.
  await item.focus();
  await agent.keyboard.press('Enter');
  const transcript = agent.locator('#transcript');
  await transcript.locator('.turn.customer', { hasText: 'can i talk to a real person please' }).waitFor();
  await transcript.locator('.turn.bot').first().waitFor();
  assert.equal(await transcript.getAttribute('role'), 'log');
  assert.equal((await agent.locator('#d-state').textContent()).trim(), 'handed off');
  assert.equal((await agent.locator('#d-summary').textContent()).trim(), entry.summary);

  // The customer writes while waiting: it reaches the agent live (stream).
  await c.input.fill('my internet has been down since this morning');
  await c.input.press('Enter');
  await transcript.locator('.turn.customer', { hasText: 'my internet has been down since this morning' }).waitFor();

  // The agent answers; the customer's page shows it (stream).
  const answer = 'Hello, this is Sam from customer care. I am checking your line now.';
  await agent.locator('#reply-text').fill(answer);
  await agent.locator('#reply-text').press('Enter');
  await transcript.locator('.turn.agent', { hasText: answer }).waitFor();
  await c.agent.filter({ hasText: answer }).waitFor();
  assert.equal(await c.agent.count(), 1, 'the agent message shown once');
  assert.equal(await transcript.locator('.turn.agent').count(), 1, 'the agent message shown once in the console');
  await waitUntil(async () => /Talking to an agent/.test(await c.panel.locator('header').textContent()), 'header says an agent is there');
  await screenshot(agent, 'console.png');

  // Analytics: the hand-off is counted.
  await agent.getByRole('tab', { name: 'Analytics' }).click();
  await agent.locator('#chart-reasons svg').waitFor();
  const a = await api('GET', '/v1/analytics', keys.agent);
  assert.equal(a.status, 200, a.text);
  assert.ok(a.json.totals.handed_off >= 1, `analytics counts the hand-off: ${a.text}`);
  const reasons = Object.keys(a.json.handoff_reasons);
  assert.ok(reasons.length >= 1, `analytics lists hand-off reasons: ${a.text}`);
  await waitUntil(async () => {
    const chart = await agent.locator('#chart-reasons').textContent();
    return reasons.every((r) => chart.includes(r));
  }, `hand-off reasons chart with ${reasons.join(', ')}`);
  const kpis = await agent.locator('#kpis').textContent();
  assert.match(kpis, new RegExp(`${a.json.totals.conversations}\\s*Conversations`), kpis);
  await agent.locator('#t-language table').waitFor();
  await screenshot(agent, 'analytics.png');

  // Back to the queue, close the conversation.
  await agent.getByRole('tab', { name: /Queue/ }).click();
  await agent.getByRole('button', { name: 'Close', exact: true }).click();
  await waitUntil(async () => (await agent.locator('#d-state').textContent()).trim() === 'closed', 'console shows closed');
  await waitUntil(async () => (await item.count()) === 0, 'conversation leaves the queue');

  // The customer's page learns it from the stream and asks for a rating.
  await c.panel.getByText('How would you rate this conversation?').waitFor();
  assert.ok(await c.input.isHidden(), 'no composer once closed');
  await customer.getByRole('radio', { name: '4 out of 5' }).focus();
  await customer.keyboard.press('Space');
  await customer.getByRole('button', { name: 'Send rating' }).click();
  await customer.getByText('Thank you for your feedback!').waitFor();

  const t = await api('GET', `/v1/conversations/${conv}`, keys.agent);
  assert.equal(t.status, 200, t.text);
  assert.equal(t.json.state, 'closed');
  assert.equal(t.json.rating && t.json.rating.score, 4);
  // Stored redacted like every turn (the name after "this is"); the customer
  // saw it whole through the stream.
  const stored = answer.replace('Sam', '[NAME]');
  assert.ok(t.json.turns.some((x) => x.role === 'agent' && x.text === stored),
    `agent turn stored redacted: ${JSON.stringify(t.json.turns.filter((x) => x.role === 'agent'))}`);

  await finish(browser, [customer, agent]);
  console.log('web.agent_handoff: ok');
} catch (e) {
  await browser.close();
  throw e;
}
