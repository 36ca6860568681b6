// alerts_test.mjs - the analyst's workflow on the dashboard's alerts page, in Debian's headless Chromium
//
//   node alerts_test.mjs URL API WORKDIR
//
// Run by tests/e2e/dashboard_alerts.sh on the query suite's data; URL is the
// gateway serving the bundle, API the query API. Keys from the environment:
// TXW_ANALYST_KEY (alice) and TXW_VIEWER_KEY sign the pages in,
// TXW_CHECK_KEY (an analyst) reads the API's JSON the page is checked
// against; TXW_ACCOUNT is the account whose alert is worked on. The
// analyst finds the alert by account (the rows are the API's search),
// assigns it to themself, closes it as confirmed fraud with a note, finds
// it again by status, and the account's page shows it closed as confirmed
// fraud with its fraud label; the live feed, told by the gateway, shows it
// closed, and open again once reopened through the API. The viewer: pseudonyms, no account filter,
// no actions. Prints TAP lines, exits 1 when a check failed. Screenshots:
// WORKDIR/alerts.png, alerts-account.png and alerts-viewer.png.
import { join } from 'node:path';
import { check, failures, note, runSteps, waitTrue } from './browser.mjs';

const [url, api, work] = process.argv.slice(2);
const { TXW_ANALYST_KEY: ANALYST, TXW_VIEWER_KEY: VIEWER, TXW_CHECK_KEY: CHECKER, TXW_ACCOUNT: ACCOUNT } = process.env;
if (!url || !api || !work || !ANALYST || !VIEWER || !CHECKER || !ACCOUNT) {
    console.error('usage: TXW_ANALYST_KEY=... TXW_VIEWER_KEY=... TXW_CHECK_KEY=... TXW_ACCOUNT=... '
        + 'node alerts_test.mjs URL API WORKDIR');
    process.exit(2);
}

async function apiJson(path) {
    const res = await fetch(`${api}/api/v1/${path}`, { headers: { Authorization: `Bearer ${CHECKER}` } });
    return res.json();
}

async function signedIn(browser, key, label, errors) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, locale: 'en-US', timezoneId: 'UTC' });
    await context.addInitScript((k) => sessionStorage.setItem('txwatch.key', k), key);
    const page = await context.newPage();
    page.on('console', (msg) => { if (msg.type() === 'error') errors.push(`${label}: ${msg.text()}`); });
    page.on('pageerror', (err) => errors.push(`${label}: ${err.message}`));
    await page.goto(`${url}#alerts`, { waitUntil: 'load' });
    return { context, page };
}

const shownIds = (page) => page.$$eval('#alert-results tr[data-alert-id]', (rows) => rows.map((r) => Number(r.dataset.alertId)));
const rowStatus = (page, id) => page.$eval(`#alert-results tr[data-alert-id="${id}"] .alert-status`, (e) => e.textContent)
    .catch(() => null);

async function analyst(browser, errors) {
    const { context, page } = await signedIn(browser, ANALYST, 'analyst', errors);
    check('the alerts page lists the last 7 days at once',
        await waitTrue(page, () => document.querySelectorAll('#alert-results tr[data-alert-id]').length > 0));
    // Find by account: the rows are the API's search, in its order.
    await page.fill('#search-account', ACCOUNT);
    await page.click('#search-go');
    const since = new Date(Date.now() - 7 * 86400000).toISOString();
    const expected = (await apiJson(`alerts?account=${ACCOUNT}&since=${encodeURIComponent(since)}&limit=25`)).alerts;
    const ids = expected.map((a) => a.id);
    const found = await waitTrue(page, (want) => {
        const rows = [...document.querySelectorAll('#alert-results tr[data-alert-id]')].map((r) => Number(r.dataset.alertId));
        return JSON.stringify(rows) === JSON.stringify(want);
    }, ids);
    check(`searching by account ${ACCOUNT} lists its alerts as the API does (${ids.length})`,
        found && ids.length > 0, JSON.stringify(await shownIds(page)));
    const target = expected.find((a) => a.kind === 'fraud' && a.status === 'open');
    if (!target) { check('the account has an open fraud alert', false); return context.close(); }
    note(`working on alert ${target.id} (${target.key})`);

    // Open it, assign it to me (one click).
    await page.click(`#alert-results button[data-alert-id="${target.id}"]`);
    check('opening an alert shows its detail and its (empty) notes',
        await waitTrue(page, (id) => document.getElementById('alert-detail-title').textContent.startsWith(`Alert ${id} `)
            && !!document.querySelector('#alert-notes li.empty'), target.id));
    await page.click('#assign-me');
    check('"Assign to me" assigns it to the signed-in key\'s name',
        await waitTrue(page, () => /alice/.test(document.querySelector('#detail-assignee dd').textContent)
            && document.querySelector('#alert-results tr.selected .alert-assignee').textContent === 'alice'));

    // Confirmed fraud, closed, with a note: one Save.
    await page.selectOption('#change-disposition', 'confirmed_fraud');
    await page.selectOption('#change-status', 'closed');
    await page.fill('#change-note', 'card holder confirmed the fraud by phone');
    await page.click('#change-save');
    check('saving closes it as confirmed fraud: the row says so',
        await waitTrue(page, (id) => {
            const cell = document.querySelector(`#alert-results tr[data-alert-id="${id}"] .alert-status`);
            return cell && cell.textContent === 'Closed \u00b7 Confirmed fraud'
                && document.getElementById('change-status-line').textContent === 'Saved.';
        }, target.id), await rowStatus(page, target.id));
    check('the note is listed with its author',
        await waitTrue(page, () => [...document.querySelectorAll('#alert-notes li')]
            .some((li) => /^alice /.test(li.textContent) && /confirmed the fraud by phone/.test(li.textContent))));
    const stored = (await apiJson(`alerts?account=${ACCOUNT}&since=${encodeURIComponent(since)}&limit=25`))
        .alerts.find((a) => a.id === target.id);
    check('the API has it closed as confirmed fraud, assigned to and closed by alice',
        stored && stored.status === 'closed' && stored.disposition === 'confirmed_fraud'
            && stored.assignee === 'alice' && stored.acked_by === 'alice', JSON.stringify(stored));
    const labels = (await apiJson(`labels?account=${ACCOUNT}`)).labels;
    check('the API has the fraud label of its transaction, set by alice',
        labels.some((l) => l.tx_id === target.tx_id && l.label === 'fraud' && l.set_by === 'alice'), JSON.stringify(labels));

    // Found again by status: closed alerts of the account.
    await page.selectOption('#search-status', 'closed');
    await page.click('#search-go');
    check('filtering by status closed finds it',
        await waitTrue(page, (id) => {
            const rows = [...document.querySelectorAll('#alert-results tr[data-alert-id]')];
            return rows.length >= 1 && rows.every((r) => /^Closed/.test(r.querySelector('.alert-status').textContent))
                && rows.some((r) => Number(r.dataset.alertId) === id);
        }, target.id));
    await page.screenshot({ path: join(work, 'alerts.png'), fullPage: true });

    // The account's page: its alerts with status and disposition, its labels.
    await page.click(`#alert-results tr[data-alert-id="${target.id}"] button.account-link`);
    check('the account\'s page lists the alert closed as confirmed fraud, assigned to alice',
        await waitTrue(page, (id) => {
            const row = document.querySelector(`#account-alerts tr[data-alert-id="${id}"]`);
            return row && row.querySelector('.alert-status').textContent === 'Closed \u00b7 Confirmed fraud'
                && /alice/.test(row.textContent);
        }, target.id));
    check('the account\'s page lists the fraud label from the disposition',
        await waitTrue(page, (tx) => {
            const row = document.querySelector(`#account-labels tr[data-tx="${tx}"]`);
            return row && row.querySelector('.label').textContent === 'fraud' && /confirmed_fraud/.test(row.textContent)
                && /alice/.test(row.textContent);
        }, target.tx_id));
    await page.screenshot({ path: join(work, 'alerts-account.png'), fullPage: true });

    // The live feed hears of it from the gateway, which follows the status
    // events: closed here, then open again when reopened through the API.
    await page.click('#account-close');
    await page.goto(`${url}#live`, { waitUntil: 'load' });
    const liveRow = (want) => waitTrue(page, ([key, acked]) => {
        const li = document.querySelector(`li[data-alert-key="${CSS.escape(key)}"]`);
        return li && li.classList.contains('acked') === acked;
    }, [target.key, want], 15000);
    check('the live feed shows the alert closed (acked)', await liveRow(true));
    const reopened = await fetch(`${api}/api/v1/alerts/${target.id}`, {
        method: 'PATCH', headers: { Authorization: `Bearer ${CHECKER}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ status: 'open' }) });
    check('the alert is reopened through the API', reopened.status === 200, String(reopened.status));
    check('the gateway pushes the reopening: the live feed shows it open again, without reloading',
        await liveRow(false));
    await context.close();
}

async function viewer(browser, errors) {
    const { context, page } = await signedIn(browser, VIEWER, 'viewer', errors);
    check('a viewer gets the list too',
        await waitTrue(page, () => document.querySelectorAll('#alert-results tr[data-alert-id]').length > 0));
    check('a viewer has no account filter', await page.$eval('#search-account-field', (e) => e.hidden));
    const accounts = await page.$$eval('#alert-results tr[data-alert-id] td:nth-child(6)', (tds) => tds.map((t) => t.textContent));
    check('a viewer sees pseudonyms, never account ids, and no account links',
        accounts.length > 0 && !accounts.some((a) => /^acc-/.test(a))
            && (await page.$$('#alert-results button.account-link')).length === 0, JSON.stringify(accounts));
    await page.click('#alert-results button.open-alert');
    check('a viewer opening an alert is told changes need the analyst role, with no form',
        await waitTrue(page, () => !!document.querySelector('#alert-detail-body .needs-role')
            && !document.getElementById('alert-change')));
    await page.screenshot({ path: join(work, 'alerts-viewer.png'), fullPage: true });
    await context.close();
}

// Under a faked clock Chromium runs on the real one (browser.mjs). The page asks
// for the alerts of 7 days back by the browser's clock; the data is minutes
// old by the faked one, which is ahead of the real one by less than a week
// (tests/clock.sh), so the page finds it under either.
const errors = await runSteps([analyst, viewer], work);
// A closed WebSocket to a gateway without a pipeline is not an error here.
const real = errors.filter((e) => !/WebSocket/.test(e));
check('no console errors', real.length === 0, real.slice(0, 3).join(' | '));
process.exit(failures() ? 1 : 0);
