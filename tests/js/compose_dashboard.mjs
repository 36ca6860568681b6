// compose_dashboard.mjs - the dashboard of the compose stack, in Chromium
//
//   TXW_KEY=... node compose_dashboard.mjs URL WORKDIR
//
// Run by tests/e2e/compose-run.sh against the gateway container, which
// serves the bundle at URL and calls the query container's API. Signs in
// with the key (the admin key `bootstrap` made), then checks the page goes
// live and shows the stored data: alerts, the cards' numbers. Saves
// WORKDIR/compose-dashboard.png. Prints TAP lines; exits 1 when a check failed.
import { join } from 'node:path';
import { check, failures, launch, note, stopped, waitTrue } from './browser.mjs';

const [url, work] = process.argv.slice(2);
const KEY = (process.env.TXW_KEY || '').trim();
if (!url || !work || !KEY) {
    console.error('usage: TXW_KEY=... node compose_dashboard.mjs URL WORKDIR');
    process.exit(2);
}

const browser = await launch();
try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, locale: 'en-US', timezoneId: 'UTC' });
    const page = await context.newPage();
    const errors = [];
    page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
    page.on('pageerror', (err) => errors.push(err.message));
    const res = await page.goto(url, { waitUntil: 'load' });
    check('the gateway container serves the dashboard', res && res.ok(), res && String(res.status()));
    check('the page asks for an API key',
        await waitTrue(page, () => !document.querySelector('#login').hidden, null, 10000));
    await page.fill('#login-key', KEY);
    await page.press('#login-key', 'Enter');
    check('the admin key bootstrap made signs in',
        await waitTrue(page, () => !document.querySelector('#who-area').hidden
            && document.querySelector('#login').hidden, null, 10000)
        && /admin/.test(await page.textContent('#who')), await page.textContent('#who'));
    check('the page goes live over the gateway container\'s WebSocket',
        await waitTrue(page, () => document.querySelector('#conn-status').dataset.state === 'connected', null, 15000));
    check('the stored alerts show',
        await waitTrue(page, () => document.querySelectorAll('#alerts-list li.alert').length > 0, null, 15000));
    check('the cards show numbers from the query container',
        await waitTrue(page, () => /\d/.test(document.querySelector('#volume-value').textContent)
            && /\d/.test(document.querySelector('#approval-value').textContent), null, 15000),
        await page.textContent('#volume-value'));
    await page.screenshot({ path: join(work, 'compose-dashboard.png'), fullPage: true });
    check('no console errors', errors.length === 0, errors.slice(0, 3).join(' | '));
    note(`alerts shown: ${await page.locator('#alerts-list li.alert').count()}`);
} catch (err) {
    await stopped(err, browser, work);
} finally {
    await browser.close();
}
process.exit(failures() ? 1 : 0);
