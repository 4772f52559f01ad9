// Loads GraphiQL from a running profiles-gateway in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core), runs the example query against the
// seeded data, and checks the result shown. Fails if the page asks for anything that
// is not on this machine, or logs an error. Keeps a screenshot.
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
  mkdirSync(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot });
  if (offMachine.length > 0) fail(`the page asked for things off this machine: ${offMachine.join(', ')}`);
  if (problems.length > 0) fail(problems.join('\n'));
  console.log(`GraphiQL ran the example query; screenshot in ${screenshot}`);
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
