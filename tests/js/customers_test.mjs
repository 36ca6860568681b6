// customers_test.mjs - the dashboard's customers page in Debian's headless Chromium
//
//   node customers_test.mjs URL API WORKDIR
//
// Run by tests/e2e/dashboard_customers.sh once txw-maint has scored the
// customers; URL is the gateway serving the bundle, API the query API.
// Keys from the environment: TXW_ANALYST_KEY and TXW_VIEWER_KEY sign the
// pages in, TXW_CHECK_KEY (an analyst) reads the API's JSON the page is
// checked against; TXW_PRODUCT is the product whose recommendations are
// asked for. The analyst's page: the segment chart, every cohort cell, the
// top customers by lifetime value, the drill-down from a customer row and
// from an alert's account, the recommendations. The viewer's: pseudonyms,
// and "needs the analyst role" without asking for a record. Prints TAP
// lines, exits 1 when a check failed. Screenshots: WORKDIR/customers.png,
// customers-account.png (the drill-down) and customers-viewer.png.
import { join } from 'node:path';
import { check, failures, note, runSteps, waitTrue } from './browser.mjs';

const [url, api, work] = process.argv.slice(2);
const { TXW_ANALYST_KEY: ANALYST, TXW_VIEWER_KEY: VIEWER, TXW_CHECK_KEY: CHECKER, TXW_PRODUCT: PRODUCT } = process.env;
if (!url || !api || !work || !ANALYST || !VIEWER || !CHECKER || !PRODUCT) {
    console.error('usage: TXW_ANALYST_KEY=... TXW_VIEWER_KEY=... TXW_CHECK_KEY=... TXW_PRODUCT=... '
        + 'node customers_test.mjs URL API WORKDIR');
    process.exit(2);
}
const BAD_PRODUCT = 'no such/id';

// The API's answer, read with the checker's key (its status when not 200).
async function apiJson(path, key = CHECKER) {
    const res = await fetch(`${api}/api/v1/${path}`, { headers: { Authorization: `Bearer ${key}` } });
    const body = await res.json().catch(() => null);
    return { status: res.status, body };
}

// The page formats in en-US (the contexts' locale): money from minor units.
const money = (minor, currency) => new Intl.NumberFormat('en-US', { style: 'currency', currency })
    .format(`${(minor / 100).toFixed(2)}`);
// A percentage the page shows ("12.5%") as a number; the API has two decimals,
// the page one, so they agree within 0.05.
const shownPct = (text) => (/^(\d+(?:\.\d+)?)%$/.test(text) ? Number(text.slice(0, -1)) : NaN);
const samePct = (text, value) => (value === null ? text === '\u2014' : Math.abs(shownPct(text) - value) <= 0.0501);

// Console errors, except the browser's report of the 400 asked for on purpose.
function watchConsole(page, label, errors) {
    page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        const where = msg.location() ? msg.location().url || '' : '';
        if (where.includes(`product_id=${encodeURIComponent(BAD_PRODUCT)}&`) && /400/.test(msg.text())) return;
        errors.push(`${label}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => errors.push(`${label}: ${err.message}`));
}

async function signedIn(browser, key, label, errors) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, locale: 'en-US', timezoneId: 'UTC' });
    await context.addInitScript((k) => sessionStorage.setItem('txwatch.key', k), key);
    const page = await context.newPage();
    watchConsole(page, label, errors);
    const asked = [];
    page.on('request', (r) => { if (r.url().startsWith(api)) asked.push(new URL(r.url()).pathname); });
    await page.goto(`${url}#customers`, { waitUntil: 'load' });
    return { context, page, asked };
}

async function segments(page) {
    const { body } = await apiJson('customers/segments');
    check('the page draws the 11 segments',
        await waitTrue(page, () => document.querySelectorAll('#segment-chart g.segment').length === 11, null, 10000));
    const shown = await page.$$eval('#segment-chart g.segment', (gs) => gs.map((g) => ({
        segment: g.dataset.segment, value: g.querySelector('.seg-value').textContent,
        bars: [...g.querySelectorAll('rect')].map((r) => Number(r.getAttribute('width'))),
    })));
    const wrong = body.segments.filter((s, i) => {
        const m = shown[i] && shown[i].value.match(/^([\d,]+) \((.+)\) · (.+) of revenue$/);
        return !m || shown[i].segment !== s.segment || Number(m[1].replace(/,/g, '')) !== s.customers
            || !samePct(m[2], s.customers_share_pct) || !samePct(m[3], s.revenue_share_pct);
    });
    check('each segment\'s size, share of customers and share of revenue are the API\'s, in its order',
        wrong.length === 0, wrong.map((s) => JSON.stringify(s)).slice(0, 2).join(' '));
    const biggest = body.segments.reduce((a, s) => (s.customers > a.customers ? s : a));
    const drawn = shown.find((s) => s.segment === biggest.segment);
    check('the largest segment has the longest customers bar',
        drawn && drawn.bars[0] === Math.max(...shown.map((s) => s.bars[0])) && drawn.bars[0] > 0, JSON.stringify(drawn));
    check('the total is the API\'s', (await page.textContent('#segments-total'))
        .startsWith(`${body.customers.toLocaleString('en-US')} customers · ${money(body.revenue_minor, body.currency)}`),
        await page.textContent('#segments-total'));
    note(`segments: ${body.segments.map((s) => `${s.segment} ${s.customers}`).join(', ')}`);
    return body;
}

async function cohorts(page) {
    const { body } = await apiJson('cohorts?period=month');
    check('the API has cohorts of several months', body.cohorts.length >= 5, String(body.cohorts.length));
    const cells = await page.$$eval('#cohorts-body tr[data-cohort]', (rows) => rows.map((r) => ({
        cohort: r.dataset.cohort,
        customers: r.querySelector('td').textContent,
        cells: [...r.querySelectorAll('td.heat[data-period]')].map((c) => ({
            period: Number(c.dataset.period), text: c.textContent, title: c.title, colour: c.style.backgroundColor,
        })),
    })));
    check('the heatmap has a row per cohort, oldest first',
        cells.map((c) => c.cohort).join() === body.cohorts.map((c) => c.cohort).join(), cells.map((c) => c.cohort).join());
    const wrong = [];
    body.cohorts.forEach((c, i) => {
        const row = cells[i];
        if (!row || row.customers !== c.customers.toLocaleString('en-US') || row.cells.length !== c.periods.length) {
            wrong.push(`${c.cohort}: row`);
            return;
        }
        for (const p of c.periods) {
            const cell = row.cells.find((x) => x.period === p.period);
            if (!cell || !samePct(cell.text, p.retention_pct)
                || !cell.title.includes(`${p.active_customers.toLocaleString('en-US')} of ${c.customers.toLocaleString('en-US')} bought`)) {
                wrong.push(`${c.cohort} M${p.period}: ${cell && cell.text} vs ${p.retention_pct}`);
            }
        }
    });
    check('every cohort cell shows the API\'s retention, and its customers in its title', wrong.length === 0,
        wrong.slice(0, 3).join('; '));
    const second = body.cohorts[0].periods[1];
    note(`cohort ${body.cohorts[0].cohort}: ${body.cohorts[0].customers} customers, M1 ${second.retention_pct}%`);
    const colours = new Set(cells.flatMap((c) => c.cells.map((x) => x.colour)).filter(Boolean));
    check('the cells are coloured by retention (more than one colour)', colours.size > 1, [...colours].slice(0, 3).join(' '));
}

async function top(page) {
    const { body } = await apiJson('customers?sort=ltv&limit=20');
    const rows = await page.$$eval('#top-customers-body tr', (trs) => trs.map((tr) => ({
        account: tr.querySelector('button.account-link') ? tr.querySelector('button.account-link').textContent : '',
        ltv: tr.querySelector('td.ltv') ? tr.querySelector('td.ltv').textContent : '',
    })));
    check('the top customers are the API\'s, ranked by lifetime value',
        rows.length === 20 && rows.every((r, i) => r.account === body.customers[i].account_id),
        rows.slice(0, 3).map((r) => r.account).join());
    check('the top customer\'s lifetime value is the API\'s',
        rows[0] && rows[0].ltv === money(body.customers[0].lifetime_value_minor, body.currency),
        `${rows[0] && rows[0].ltv} vs ${body.customers[0].lifetime_value_minor}`);
    note(`top customer ${body.customers[0].account_id}: ${money(body.customers[0].lifetime_value_minor, body.currency)}`);
    return body.customers[0].account_id;
}

// The drill-down shows the customer's record as the API has it.
async function record(page, account, how) {
    const { body } = await apiJson(`customers/${encodeURIComponent(account)}?limit=10`);
    const shown = await waitTrue(page, (id) => document.querySelector('#account-dialog').open
        && document.querySelector('#account-title').textContent === `Customer ${id}`
        && document.querySelector('#account-ltv'), account, 10000);
    check(`${how}: the drill-down opens on ${account}`, shown, await page.textContent('#account-title'));
    if (!shown) return;
    const dd = (id) => page.textContent(`#${id} dd`);
    check(`${how}: its lifetime value is the API's`, await dd('account-ltv') === money(body.lifetime_value_minor, body.currency),
        `${await dd('account-ltv')} vs ${body.lifetime_value_minor}`);
    check(`${how}: its segment and R-F-M scores are the API's`,
        await dd('account-segment') === body.rfm.segment
        && await dd('account-rfm') === `${body.rfm.r}-${body.rfm.f}-${body.rfm.m}`,
        `${await dd('account-segment')} ${await dd('account-rfm')}`);
    check(`${how}: its transaction count is the API's`, await dd('account-tx') === body.profile.tx_count.toLocaleString('en-US'));
    const recent = await page.$$eval('#account-recent tr', (trs) => trs.map((tr) => tr.children[1].textContent));
    check(`${how}: its recent transactions are the API's, newest first`,
        recent.join() === body.recent.map((t) => t.tx_id).join(), recent.slice(0, 3).join());
    const recs = await apiJson(`recommendations?customer_id=${encodeURIComponent(account)}&limit=5`);
    const listed = await waitTrue(page, () => document.querySelectorAll('#account-reco li[data-product]').length > 0, null, 5000);
    const products = await page.$$eval('#account-reco li[data-product]', (lis) => lis.map((li) => li.dataset.product));
    check(`${how}: the products recommended to the customer are the API's`,
        listed && recs.status === 200 && products.join() === recs.body.items.map((it) => it.product_id).join(),
        `${products.join()} vs ${recs.status} ${JSON.stringify(recs.body).slice(0, 120)}`);
}

async function recommendations(page) {
    const { status, body } = await apiJson(`recommendations?product_id=${encodeURIComponent(PRODUCT)}&limit=10`);
    // A product id the API refuses: the panel shows the API's message.
    await page.fill('#reco-product', BAD_PRODUCT);
    await page.press('#reco-product', 'Enter');
    check('a product id the API refuses shows its message and status',
        await waitTrue(page, () => /^Recommendations unavailable: product_id: .+ \(HTTP 400\)$/.test(
            document.querySelector('#reco-status').textContent), null, 5000),
        await page.textContent('#reco-status'));
    await page.fill('#reco-product', PRODUCT);
    await page.press('#reco-product', 'Enter');
    check(`the API recommends products for ${PRODUCT}`, status === 200 && body.items.length > 0,
        `${status} ${JSON.stringify(body).slice(0, 200)}`);
    if (status !== 200) return;
    const done = await waitTrue(page, () => /^\d+ products for P/.test(document.querySelector('#reco-status').textContent), null, 5000);
    const rows = await page.$$eval('#reco-body tr[data-product]', (trs) => trs.map((tr) => ({
        product: tr.dataset.product, name: tr.children[2].textContent, source: tr.children[4].dataset.source,
        together: tr.children[6].textContent,
    })));
    check('the page lists the API\'s recommendations in its order, with names, sources and orders together',
        done && rows.length === body.items.length && rows.every((r, i) => r.product === body.items[i].product_id
            && r.name === (body.items[i].name ?? '\u2014') && r.source === body.items[i].source
            && r.together === (body.items[i].orders_together === null ? '\u2014'
                : body.items[i].orders_together.toLocaleString('en-US'))),
        JSON.stringify(rows.slice(0, 2)));
    note(`recommended with ${PRODUCT}: ${body.items.slice(0, 5).map((it) => `${it.product_id} (${it.source})`).join(', ')}`);
}

async function analyst(browser, errors) {
    const { context, page } = await signedIn(browser, ANALYST, 'analyst', errors);
    check('#customers shows the customers page, not the live one',
        await waitTrue(page, () => !document.querySelector('#customers-view').hidden
            && document.querySelector('#live-view').hidden
            && document.querySelector('#view-nav a[aria-current="page"]').dataset.view === 'customers', null, 5000));
    check('the page loads the refresh\'s data',
        await waitTrue(page, () => /^as of the refresh of 2026-08-01/.test(document.querySelector('#customers-status').textContent)
            && document.querySelectorAll('#top-customers-body button.account-link').length > 0
            && document.querySelectorAll('#cohorts-body tr[data-cohort]').length > 0, null, 10000),
        await page.textContent('#customers-status'));
    await segments(page);
    await cohorts(page);
    const first = await top(page);
    await recommendations(page);
    await page.screenshot({ path: join(work, 'customers.png'), fullPage: true });

    await page.click(`#top-customers-body button.account-link[data-account="${first}"]`);
    await record(page, first, 'from a customer row');
    await page.screenshot({ path: join(work, 'customers-account.png'), fullPage: false });
    await page.keyboard.press('Escape');
    check('Escape closes the drill-down', await waitTrue(page, () => !document.querySelector('#account-dialog').open, null, 3000));

    // The live page: an alert's account (a pseudonym) opens its customer.
    await page.click('#view-nav a[data-view="live"]');
    check('the Live tab shows the live page again',
        await waitTrue(page, () => !document.querySelector('#live-view').hidden
            && document.querySelector('#customers-view').hidden, null, 5000));
    check('the alert feed shows fraud alerts with their account as a link',
        await waitTrue(page, () => document.querySelectorAll('#alerts-list button.account-link').length > 0, null, 10000));
    const alert = await page.$eval('#alerts-list button.account-link', (b) => ({
        key: b.dataset.alert, label: b.textContent,
    }));
    const tx = await apiJson(`transactions/${encodeURIComponent(alert.key.replace(/^fraud:/, ''))}`);
    check('an alert\'s account is a pseudonym', /^p~/.test(alert.label), alert.label);
    await page.click(`#alerts-list button.account-link[data-alert="${alert.key}"]`);
    if (tx.status === 200) await record(page, tx.body.account_id, 'from an alert');
    else check('the alert\'s transaction is stored', false, `${alert.key}: HTTP ${tx.status}`);
    await page.click('#account-close');
    await context.close();
}

async function viewer(browser, errors) {
    const { context, page, asked } = await signedIn(browser, VIEWER, 'viewer', errors);
    check('a viewer sees the segments and the top customers',
        await waitTrue(page, () => document.querySelectorAll('#segment-chart g.segment').length === 11
            && document.querySelectorAll('#top-customers-body button.account-link').length > 0, null, 10000));
    const ids = await page.$$eval('#top-customers-body button.account-link', (bs) => bs.map((b) => b.textContent));
    check('a viewer sees the top customers as pseudonyms', ids.every((id) => /^p~/.test(id)), ids.slice(0, 2).join());
    await page.click('#top-customers-body button.account-link');
    check('a viewer\'s drill-down says it needs the analyst role',
        await waitTrue(page, () => document.querySelector('#account-dialog').open
            && /needs the analyst role/.test(document.querySelector('#account-body .needs-role').textContent), null, 5000),
        await page.textContent('#account-body'));
    await page.screenshot({ path: join(work, 'customers-viewer.png'), fullPage: false });
    check('... without asking the API for a record', !asked.some((p) => /^\/api\/v1\/(customers\/(?!segments)|transactions\/)/.test(p)),
        asked.join(' '));
    await page.click('#account-close');
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(
        () => resolve(document.documentElement.scrollWidth - window.innerWidth))));
    check('the customers page does not scroll sideways on a phone', overflow <= 0, `${overflow}px too wide`);
    await context.close();
}

// Under a faked clock Chromium runs on the real one (browser.mjs). Nothing
// here depends on the time: the data's dates and the refresh's as_of are fixed.
const errors = await runSteps([analyst, viewer], work);
check('no console errors', errors.length === 0, errors.slice(0, 3).join(' | '));
process.exit(failures() ? 1 : 0);
