// dashboard_test.mjs - drives the live dashboard in Debian's headless Chromium
//
//   node dashboard_test.mjs URL WORKDIR
//
// Run by tests/e2e/dashboard.sh against the real pipeline, txw-gateway
// (which serves the bundle at URL) and txw-query. Prints TAP lines and
// exits 1 when a check failed. Talks to the suite through files in WORKDIR:
//   acked.key         the key of the alert it acknowledged (the suite checks
//                     txw.alerts)
//   restart.request   written when the page is ready for the gateway to be
//                     restarted; the suite answers by restarting it
// One page goes through a route that injects garbage, a seq jump and a gap
// between it and the gateway: it must keep working and re-sync.
// Keys come from the environment: TXW_VIEWER_KEY and TXW_ANALYST_KEY. The
// laptop page signs in with a bad key (refused), then as a viewer (no
// Acknowledge button), signs out and signs in as the analyst who acks.
// Screenshots: WORKDIR/dashboard.png (laptop) and dashboard-phone.png.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, failures, launch, note, stopped, waitTrue, waitUntil } from './browser.mjs';

const [url, work] = process.argv.slice(2);
const VIEWER = process.env.TXW_VIEWER_KEY;
const ANALYST = process.env.TXW_ANALYST_KEY;
if (!url || !work || !VIEWER || !ANALYST) {
    console.error('usage: TXW_VIEWER_KEY=... TXW_ANALYST_KEY=... node dashboard_test.mjs URL WORKDIR');
    process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Console errors and page errors, except those the test provokes on purpose:
// 404s of an ack retried while a live alert is stored, and WebSocket
// failures while the gateway restarts (allowed only during that phase).
function watchConsole(page, label, state) {
    page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        const where = msg.location() ? msg.location().url || '' : '';
        const text = msg.text();
        if (/\/api\/v1\/alerts\/.+\/ack$/.test(where) && /404/.test(text)) { state.ackRetries++; return; }
        if (state.wrongKey && /\/api\/v1\/whoami$/.test(where) && /401/.test(text)) return;
        if (state.restarting && /WebSocket|ERR_CONNECTION_REFUSED/.test(text)) return;
        state.errors.push(`${label}: ${text} ${where}`);
    });
    page.on('pageerror', (err) => state.errors.push(`${label}: ${err.message}`));
}

// Types a key into the sign-in form; true once the page says who is in.
async function signIn(page, key) {
    await page.fill('#login-key', key);
    await page.press('#login-key', 'Enter');
    return waitTrue(page, () => !document.querySelector('#who-area').hidden
        && document.querySelector('#login').hidden, null, 5000);
}

// A context whose pages start signed in (the tab's sessionStorage holds key).
async function signedInContext(browser, key, options) {
    const context = await browser.newContext(options);
    await context.addInitScript((k) => sessionStorage.setItem('txwatch.key', k), key);
    return context;
}

// A page's wall clock follows this process's, faked or not: under
// tests/clock.sh (FAKETIME="+SECONDS") the page's Date is shifted by the
// same offset, as libfaketime shifts the services' clocks, and nothing else
// changes: timers, animation frames and performance.now() stay Chromium's
// own. Playwright's clock.install fakes all of those and runs every timer
// and animation frame from script; after a stall on a loaded machine its
// catch-up held the page's main thread for seconds on end (CI's Monday pass:
// neither page answered a script within 5 s, and a screenshot timed out).
async function followClock(context) {
    const offset = /^[+-]\d+$/.test(process.env.FAKETIME || '') ? Number(process.env.FAKETIME) * 1000 : 0;
    if (!offset) return;
    await context.addInitScript((ms) => {
        const Native = Date;
        function Shifted(...args) {
            if (!new.target) return new Native(Native.now() + ms).toString();
            return args.length ? new Native(...args) : new Native(Native.now() + ms);
        }
        Object.setPrototypeOf(Shifted, Native);
        Shifted.prototype = Native.prototype;
        Shifted.now = () => Native.now() + ms;
        globalThis.Date = Shifted;
    }, offset);
}

async function laptop(browser, state) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, locale: 'en-US', timezoneId: 'UTC' });
    await followClock(context);
    const page = await context.newPage();
    watchConsole(page, 'laptop', state);

    // The stats frames the page receives, to check the page shows what they say.
    const frames = [];
    page.on('websocket', (ws) => ws.on('framereceived', (f) => {
        try {
            const m = JSON.parse(f.payload);
            if (m && (m.type === 'stats' || m.type === 'snapshot')) frames.push({ at: Date.now(), m });
        } catch { /* not ours */ }
    }));

    const res = await page.goto(url, { waitUntil: 'load' });
    check('the gateway serves the dashboard', res && res.ok(), res && String(res.status()));
    check('the page has its title and headings',
        /txwatch/.test(await page.title()) && await page.locator('h2', { hasText: 'Alerts' }).count() === 1);

    // Sign-in: a key is asked for; a wrong one is refused with a message.
    check('the page asks for an API key before showing data',
        await waitTrue(page, () => !document.querySelector('#login').hidden, null, 5000)
        && await page.evaluate(() => document.activeElement && document.activeElement.id === 'login-key'));
    state.wrongKey = true;      // its 401 is the browser's console error on purpose
    await page.fill('#login-key', `${VIEWER.slice(0, -1)}${VIEWER.endsWith('A') ? 'B' : 'A'}`);
    await page.press('#login-key', 'Enter');
    check('a wrong key is refused with a message',
        await waitTrue(page, () => /not valid/.test(document.querySelector('#login-error').textContent), null, 5000),
        await page.textContent('#login-error'));
    state.wrongKey = false;
    check('a viewer key signs in and the page names its role', await signIn(page, VIEWER)
        && /viewer/.test(await page.textContent('#who')), await page.textContent('#who'));
    check('the viewer page connects and shows alerts',
        await waitTrue(page, () => document.querySelector('#conn-status').dataset.state === 'connected'
            && document.querySelectorAll('#alerts-list li.alert').length > 0, null, 15000));
    check('a viewer sees no Acknowledge button and no disposition',
        await page.evaluate(() => document.querySelectorAll('button.ack, select.disposition').length === 0
            && document.querySelectorAll('#alerts-list .open-mark').length > 0));
    check('a viewer sees pseudonyms, not account ids', await page.evaluate(() =>
        [...document.querySelectorAll('#alerts-list .alert-meta')].every((m) => !/\bA\d{6}\b|\*\*\*/.test(m.textContent))),
        await page.evaluate(() => (document.querySelector('#alerts-list .alert-meta') || {}).textContent));
    await page.click('#sign-out');
    check('signing out forgets the key and asks again',
        await waitTrue(page, () => !document.querySelector('#login').hidden, null, 5000)
        && await page.evaluate(() => sessionStorage.getItem('txwatch.key') === null));
    check('an analyst key signs in', await signIn(page, ANALYST) && /analyst/.test(await page.textContent('#who')));
    check('the page connects to the gateway (status "Live")',
        await waitTrue(page, () => document.querySelector('#conn-status').dataset.state === 'connected', null, 10000));

    // Cards: filled in, then moving with the traffic.
    check('the cards show numbers',
        await waitTrue(page, () => /\d/.test(document.querySelector('#tps-value').textContent)
            && /\d/.test(document.querySelector('#approval-value').textContent)
            && /\d/.test(document.querySelector('#volume-value').textContent), null, 5000));
    const cardText = () => page.evaluate(() => `${document.querySelector('#tps-value').textContent}|${document.querySelector('#tps-sub').textContent}`);
    const before = await cardText();
    check('the tx/s or count card changes with the traffic',
        await waitTrue(page, (b) => `${document.querySelector('#tps-value').textContent}|${document.querySelector('#tps-sub').textContent}` !== b, before, 8000),
        `stayed ${before}`);
    check('the volume card is formatted as money in the reporting currency',
        /^[€$£]|EUR|USD/.test(await page.textContent('#volume-value')), await page.textContent('#volume-value'));

    // Stats: the page shows what the frames it receives say. How soon, and
    // how regularly they come, are notes, not checks: on a shared machine a
    // stalled scheduler is not a fault of the page's (the push latency is
    // measured by make bench instead).
    await waitUntil(() => frames.length >= 6);
    check('stats frames keep arriving (six seen)', frames.length >= 6, `${frames.length} seen`);
    const count = frames.length;
    for (let i = 0; i < 100 && frames.length === count; i++) await sleep(50);   // a fresh frame
    const last = frames[frames.length - 1];
    if (last && last.m.stats && Number.isFinite(last.m.stats.count)) {
        // The page shows the count of that frame (or of a newer one).
        const nf = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
        const from = frames.indexOf(last);
        let seen = '';
        let shown = false;
        do {
            seen = await page.evaluate(() => document.querySelector('#tps-sub').textContent);
            shown = frames.slice(from).some((f) => f.m.stats && seen.startsWith(`${nf.format(f.m.stats.count)} `));
            if (!shown) await sleep(50);
        } while (!shown && Date.now() - last.at < 10000);
        check('the page shows the count a stats frame carries', shown,
            `frame count ${nf.format(last.m.stats.count)}, page "${seen}"`);
        note(`a stats frame's count was on the page ${Date.now() - last.at} ms after it arrived`);
        const gaps = frames.slice(-6).map((f, i, a) => (i ? f.at - a[i - 1].at : 0)).slice(1);
        note(`the last stats frames came ${gaps.join(', ')} ms apart (the gateway sends one a second)`);
    } else {
        check('the page shows the count a stats frame carries', false, 'no stats frame seen');
    }

    // Alerts: stored ones from the snapshot, then live ones.
    check('the alert feed shows alerts',
        await waitTrue(page, () => document.querySelectorAll('#alerts-list li.alert').length > 0, null, 15000));
    const keysBefore = await page.$$eval('#alerts-list li.alert', (els) => els.map((e) => e.dataset.alertKey));
    check('a live alert arrives at the top of the feed',
        await waitTrue(page, (ks) => {
            const first = document.querySelector('#alerts-list li.alert');
            return first && !ks.includes(first.dataset.alertKey);
        }, keysBefore, 30000));
    const alert = await page.evaluate(() => {
        const li = [...document.querySelectorAll('#alerts-list li.alert')].find((e) => e.dataset.alertKey.startsWith('fraud:'));
        if (!li) return null;
        return {
            key: li.dataset.alertKey, score: li.querySelector('.score').textContent,
            title: li.querySelector('.alert-title').textContent,
            reasons: [...li.querySelectorAll('.reasons li')].map((r) => r.textContent),
            time: li.querySelector('time') ? li.querySelector('time').textContent : '',
        };
    });
    check('a fraud alert shows score, amount, merchant and country',
        alert && /\d/.test(alert.score) && /\d/.test(alert.title) && / · .+ · [A-Z]{2}$/.test(alert.title),
        JSON.stringify(alert));
    check('its reasons are human descriptions, not codes',
        alert && alert.reasons.length > 0 && alert.reasons.every((r) => / /.test(r) && !/_/.test(r)),
        alert && alert.reasons.join('; '));
    check('its time is shown', alert && /^\d\d:\d\d:\d\d$/.test(alert.time), alert && alert.time);

    // Acknowledge the newest open fraud alert with the keyboard.
    const target = await page.evaluate(() => {
        const li = [...document.querySelectorAll('#alerts-list li.alert')]
            .find((e) => e.dataset.alertKey.startsWith('fraud:') && e.querySelector('button.ack'));
        return li ? li.dataset.alertKey : null;
    });
    check('an open fraud alert has an Acknowledge button with an accessible name',
        target && await page.evaluate((k) => {
            const b = document.querySelector(`li[data-alert-key="${CSS.escape(k)}"] button.ack`);
            return b && /Acknowledge alert for /.test(b.getAttribute('aria-label'));
        }, target));
    let acked = false;
    if (target) {
        await page.selectOption(`li[data-alert-key="${target}"] select.disposition`, 'confirmed_fraud');
        const button = page.locator(`li[data-alert-key="${target}"] button.ack`);
        await button.focus();
        await page.keyboard.press('Enter');
        acked = await waitTrue(page, (k) => {
            const li = document.querySelector(`li[data-alert-key="${CSS.escape(k)}"]`);
            return li && li.classList.contains('acked') && /Acked/.test(li.querySelector('.alert-action').textContent);
        }, target, 8000);
        const error = await page.evaluate((k) => {
            const e = document.querySelector(`li[data-alert-key="${CSS.escape(k)}"] .ack-error`);
            return e ? e.textContent : '';
        }, target);
        check('Enter on the focused button acknowledges the alert and the page shows it acked', acked, error);
        if (acked) writeFileSync(join(work, 'acked.key'), `${target}\n`);
        note(`acknowledged ${target} (${state.ackRetries} ack attempts answered 404 first)`);
    }
    const summary = await page.textContent('#alerts-summary');
    const [, recent, open] = summary.match(/(\d+) recent · (\d+) open/) || [];
    check('the feed counts the acked alert as not open', acked && Number(open) < Number(recent), summary);

    // Tables and charts.
    const rows = (sel) => page.$$eval(sel, (els) => els.filter((e) => !e.classList.contains('empty')).length);
    check('top merchants are listed', await rows('#merchants-body tr') > 0);
    check('top categories are listed', await rows('#categories-body tr') > 0);
    check('device types are listed with their success rate', await rows('#devices-body tr') > 0 &&
        /^\d.*%$/.test((await page.textContent('#devices-body tr td:nth-child(4)')).trim()));
    check('the branch performance table is filled', await rows('#branches-body tr') > 0);
    const regions = await page.$$eval('#regions-list li.region', (els) => els.map((e) => `${e.querySelector('.region-name').textContent}:${e.classList.contains('healthy') ? 'healthy' : 'unhealthy'}`));
    check('region health lists the regions', regions.length > 0, regions.join(' '));
    note(`regions: ${regions.join(' ')}`);
    check('the degraded region shows as unhealthy', regions.some((r) => r.endsWith(':unhealthy')), regions.join(' '));
    check('the throughput and volume charts are drawn',
        await page.$$eval('.chart canvas', (cs) => cs.length === 2 && cs.every((c) => c.width > 100 && c.height > 100)));
    check('every button has an accessible name',
        await page.$$eval('button', (bs) => bs.every((b) => (b.getAttribute('aria-label') || b.textContent).trim() !== '')));

    // The range picker: 7 d asks the query API for hourly points; the page
    // shows that answer's total, which the API (asked by this test, the
    // pipeline still running) has at least; 1 h goes back to live.
    const answer = page.waitForResponse((r) => /\/api\/v1\/timeseries\?minutes=10080&metric=count$/.test(r.url()), { timeout: 10000 })
        .then((r) => r.json(), () => null);
    await page.click('#range-picker button[data-minutes="10080"]');
    const week = await answer;
    const weekTotal = week ? week.points.reduce((n, p) => n + p.v, 0) : -1;
    check('7 d asks the API for the week in hourly points',
        week && week.minutes === 10080 && week.window_ms === 3600000 && weekTotal > 0, JSON.stringify(week).slice(0, 200));
    const shown = `${weekTotal.toLocaleString('en-US')} transactions`;
    check('7 d: the page shows the total of the API\'s points',
        await waitTrue(page, (text) => document.querySelector('#range-total').textContent.startsWith(text), shown, 5000)
        && await page.getAttribute('#range-picker button[data-minutes="10080"]', 'aria-pressed') === 'true'
        && /per hour/.test(await page.textContent('#range-note')),
        `${await page.textContent('#range-total')} / expected ${shown}`);
    const direct = await fetch(new URL('/api/v1/timeseries?minutes=10080&metric=count', await page.evaluate(() =>
        document.querySelector('#api-url').textContent)), { headers: { Authorization: `Bearer ${ANALYST}` } })
        .then((r) => r.json(), () => null);
    const directTotal = direct ? direct.points.reduce((n, p) => n + p.v, 0) : -1;
    check('7 d: the API, asked again, has at least what the page shows (counts only grow)',
        direct && direct.window_ms === 3600000 && directTotal >= weekTotal, `${directTotal} vs ${weekTotal}`);
    await page.click('#range-picker button[data-minutes="60"]');
    check('1 h goes back to the live hour',
        await waitTrue(page, () => document.querySelector('#range-total').textContent === ''
            && document.querySelector('#range-picker button[data-minutes="60"]').getAttribute('aria-pressed') === 'true', null, 5000));

    check('no console errors on the laptop page', state.errors.length === 0, state.errors.slice(0, 3).join(' | '));
    return { context, page };
}

async function phone(browser, state) {
    const context = await signedInContext(browser, ANALYST, {
        viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
        locale: 'en-US', timezoneId: 'UTC',
    });
    await followClock(context);
    const page = await context.newPage();
    watchConsole(page, 'phone', state);
    await page.goto(url, { waitUntil: 'load' });
    const live = await waitTrue(page, () => document.querySelector('#conn-status').dataset.state === 'connected'
        && document.querySelectorAll('#alerts-list li.alert').length > 0, null, 10000);
    check('the phone-sized page connects and shows alerts', live);
    await sleep(1500);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check('the phone-sized page does not scroll sideways', overflow <= 0, `${overflow}px too wide`);
    const columns = await page.evaluate(() => getComputedStyle(document.querySelector('.alerts-panel')).gridColumn);
    check('panels stack in one column on a phone', /1 \/ -1/.test(columns), columns);
    await page.screenshot({ path: join(work, 'dashboard-phone.png'), fullPage: false });
    await context.close();
}

// Between the page and the real gateway, a route that mangles the stream:
// garbage and half-formed messages, then a seq jump and a gap message.
// The page must keep working, and re-sync ({"op":"resync"}) on both.
async function hostile(browser, state) {
    const context = await signedInContext(browser, ANALYST, { viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    await followClock(context);
    const page = await context.newPage();
    watchConsole(page, 'hostile', state);
    const fromPage = [];
    const toPage = [];
    await page.routeWebSocket(/\/ws/, (ws) => {
        const server = ws.connectToServer();
        let offset = 0;
        let n = 0;
        ws.onMessage((m) => { fromPage.push(String(m)); server.send(m); });
        server.onMessage((m) => {
            let msg;
            try { msg = JSON.parse(m); } catch { ws.send(m); return; }
            n++;
            const inject = (obj) => {
                if (obj && typeof obj === 'object' && !Array.isArray(obj)) obj.seq = msg.seq + offset++;
                ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
            };
            if (n === 4) {
                for (const junk of ['not json', [1, 2, 3], null, { type: 'mystery', payload: [1] },
                    { type: 'stats', stats: { count: 'x', tx_per_s: null, currency: 42 }, series: [{ window_start: 'bad' }, null, 7],
                      top: { merchant: 'x', category: [null, { key: {} }] }, branches: [{}], regions: { r: 1 } },
                    { type: 'alert', alert: { key: 'fraud:junk', score: 'high', reasons: 'x', amount_minor: 1.5, currency: 'EURO' } },
                    { type: 'alert', alert: null }, { type: 'alert' }, { type: 'snapshot' }])
                    inject(junk === null ? 'null' : junk);
            }
            if (n === 7) offset += 3;       // three messages "lost"
            if (n === 10) inject({ type: 'gap', dropped: 2, reason: 'slow_client' });
            msg.seq += offset;
            toPage.push(msg.type);
            ws.send(JSON.stringify(msg));
        });
    });
    await page.goto(url, { waitUntil: 'load' });
    const resyncs = () => fromPage.filter((m) => { try { return JSON.parse(m).op === 'resync'; } catch { return false; } }).length;
    await waitUntil(() => resyncs() >= 2);
    check('the page re-syncs on a seq jump and on a gap message', resyncs() >= 2, `${resyncs()} resync requests`);
    // The answer to the second re-sync may still be on its way.
    const snapshots = () => toPage.filter((t) => t === 'snapshot').length;
    await waitUntil(() => snapshots() >= 2);
    check('the gateway answers the re-sync with a snapshot', snapshots() >= 2, toPage.join(','));
    await sleep(2500);
    const after = await page.evaluate(() => ({
        state: document.querySelector('#conn-status').dataset.state,
        tps: document.querySelector('#tps-value').textContent,
        alerts: document.querySelectorAll('#alerts-list li.alert').length,
        merchants: document.querySelectorAll('#merchants-body tr:not(.empty)').length,
    }));
    check('garbage and half-formed messages do not break the page', after.state === 'connected' && /\d/.test(after.tps)
        && after.alerts > 0 && after.merchants > 0, JSON.stringify(after));
    await context.close();
}

// The gateway goes away and comes back: the page says so and reconnects.
async function restart(page, state) {
    state.restarting = true;
    // Every state the status shows is recorded as it changes, so a short
    // time away is seen even when a poll would fall between two changes.
    await page.evaluate(() => {
        const el = document.querySelector('#conn-status');
        window.txwStates = [];
        new MutationObserver(() => window.txwStates.push(el.dataset.state))
            .observe(el, { attributes: true, attributeFilter: ['data-state'] });
    });
    writeFileSync(join(work, 'restart.request'), 'restart\n');
    const lost = await waitTrue(page, () => window.txwStates.some((s) => ['reconnecting', 'connecting', 'stale'].includes(s)), null, 20000);
    check('the page notices the gateway went away', lost,
        await page.evaluate(() => `now ${document.querySelector('#conn-status').dataset.state}, seen ${window.txwStates.join(',')}`));
    const back = await waitTrue(page, () => document.querySelector('#conn-status').dataset.state === 'connected', null, 30000);
    check('the page reconnects by itself once the gateway is back', back);
    const filled = await waitTrue(page, () => document.querySelectorAll('#alerts-list li.alert').length > 0
        && /\d/.test(document.querySelector('#tps-value').textContent), null, 5000);
    check('after reconnecting the feed and cards are filled again', filled);
    state.restarting = false;
}

// Under a faked clock (tests/clock.sh preloads libfaketime into every
// process), Chromium itself runs on the real clock (browser.mjs). Each
// page's clock is then set to this process's faked time instead, and flows
// on from there like the services' clocks.
const browser = await launch();
const state = { errors: [], ackRetries: 0, restarting: false, wrongKey: false };
try {
    const { context, page } = await laptop(browser, state);
    await phone(browser, state);
    await hostile(browser, state);
    await restart(page, state);
    check('no console errors apart from the restart', state.errors.length === 0, state.errors.slice(0, 3).join(' | '));
    await sleep(2000);      // the fresh-alert highlight fades
    await page.screenshot({ path: join(work, 'dashboard.png'), fullPage: true });
    await context.close();
} catch (err) {
    await stopped(err, browser, work);
}
await browser.close();
process.exit(failures() ? 1 : 0);
