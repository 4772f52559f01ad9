// Loads GraphiQL from a running profiles-gateway in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core), runs the example query against the
// seeded data, and checks the result shown. Then starts a subscription from GraphiQL
// (over its WebSocket) and checks that an event committed by a mutation sent from
// here shows in the result. Fails if the page asks for anything that is not on this
// machine, or logs an error. Keeps a screenshot.
//
// Usage: node graphiql.mjs http://127.0.0.1:18081 EXPECTED_TOTAL SCREENSHOT.png
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const [base = 'http://127.0.0.1:8000', expectedTotal = '25', screenshot = 'graphiql.png'] = process.argv.slice(2);
const fail = (message) => {
  console.log(`browser: 0 passed, 1 failed`);
  console.error(`FAILED: ${message}`);
  process.exit(1);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-quic'],
});
const offMachine = [];
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || url.protocol === 'data:';
    if (local) return route.continue();
    offMachine.push(url.href);
    return route.abort();
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console error: ${message.text()}`); });

  const response = await page.goto(`${base}/graphql`, { waitUntil: 'networkidle' });
  if (response?.status() !== 200) fail(`GET /graphql answered ${response?.status()}`);
  await page.waitForSelector('.graphiql-container', { timeout: 15000 });
  await page.click('.graphiql-execute-button');
  // The result editor splits its text into token spans: wait on the whole text.
  await page.waitForFunction(() => document.querySelector('.result-window')?.innerText.includes('totalCount'), null, {
    timeout: 15000,
  });
  const text = await page.locator('.result-window').innerText();
  if (!text.includes(`"totalCount": ${expectedTotal}`)) fail(`the result does not show totalCount ${expectedTotal}:\n${text}`);
  if (!text.includes('"fullName"')) fail(`the result shows no profiles:\n${text}`);
  // The documentation explorer opens on the schema's root types (and stays open for
  // the screenshot).
  await page.click('[aria-label="Show Documentation Explorer"]');
  const docs = page.locator('.graphiql-doc-explorer');
  await docs.getByText('Mutation').first().waitFor({ timeout: 5000 });

  // A subscription run from GraphiQL: its WebSocket goes to this host's /graphql.
  const subscribeSent = new Promise((resolve) => {
    page.on('websocket', (socket) => {
      if (new URL(socket.url()).pathname !== '/graphql') problems.push(`WebSocket to ${socket.url()}`);
      socket.on('framesent', ({ payload }) => {
        if (String(payload).includes('"type":"subscribe"')) resolve(socket.url());
      });
    });
  });
  await page.evaluate(() => {
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(
      'subscription Changes {\n  profileEvents(types: ["profile.created"]) { type profileId version }\n}\n',
    );
  });
  // GraphiQL reads the edited document's operations a moment later; until then a run
  // would name the example's operation.
  await page.waitForFunction(
    () => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.operationName === 'Changes',
    null,
    { timeout: 5000 },
  );
  await page.click('.graphiql-execute-button');
  const socketUrl = await Promise.race([
    subscribeSent,
    new Promise((resolve) => setTimeout(() => resolve(null), 15000)),
  ]);
  if (!socketUrl) {
    const shown = await page.locator('.result-window').innerText();
    fail(`GraphiQL sent no subscription over a WebSocket within 15 s; it shows:\n${shown}`);
  }
  const expectedSocket = `${base.replace(/^http/, 'ws')}/graphql`;
  if (socketUrl !== expectedSocket) fail(`GraphiQL's WebSocket went to ${socketUrl}, not ${expectedSocket}`);
  // The server reads the outbox's end once it has the subscribe message, which may be
  // after a mutation sent now commits: create profiles until one shows, each waited on
  // for a while, so a profile committed before the subscription started cannot hang it.
  const graphql = async (query) => {
    const answer = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query }),
    });
    const body = await answer.json();
    if (body.errors) fail(`${query} answered ${JSON.stringify(body.errors)}`);
    return body.data;
  };
  let shown = null;
  for (let attempt = 1; attempt <= 5 && !shown; attempt += 1) {
    const email = `graphiql-subscription-${attempt}-${process.pid}@example.com`;
    const created = await graphql(
      `mutation { createProfile(input: { firstName: "Sub", email: "${email}" }) { profile { id } userErrors { code } } }`,
    );
    const id = created.createProfile.profile?.id;
    if (!id) fail(`createProfile gave no profile: ${JSON.stringify(created)}`);
    shown = await page
      .waitForFunction((id) => document.querySelector('.result-window')?.innerText.includes(id), id, {
        timeout: 3000,
      })
      .then(() => id)
      .catch(() => null);
  }
  if (!shown) fail('no subscription event reached GraphiQL after five profiles were created');
  const event = await page.locator('.result-window').innerText();
  if (!event.includes('"type": "profile.created"')) fail(`the subscription result is not a profile.created event:\n${event}`);
  mkdirSync(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot });
  if (offMachine.length > 0) fail(`the page asked for things off this machine: ${offMachine.join(', ')}`);
  if (problems.length > 0) fail(problems.join('\n'));
  console.log(`GraphiQL ran the example query and received a subscription event; screenshot in ${screenshot}`);
  console.log('browser: 1 passed, 0 failed');
} catch (error) {
  // Keep what the page showed, for whoever reads the failure.
  const page = browser.contexts()[0]?.pages()[0];
  if (page) {
    mkdirSync(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot }).catch(() => {});
    const shown = await page.evaluate(() => document.querySelector('.result-window')?.innerText ?? '(no result window)').catch(() => '');
    console.error(`result window:\n${shown.slice(0, 500)}`);
  }
  fail(error.message);
} finally {
  await browser.close();
}
