/*  main - the txwatch live dashboard

    Reads /config.json for the query API, asks for an API key unless this
    tab has one (session.js), opens the gateway WebSocket with it and
    routes its messages (proto/SERVING.md): a snapshot redraws everything,
    stats (every second) update the cards, charts and tables, an alert goes
    to the top of the feed. A message the page does not understand is
    logged and skipped; it never stops the page. The range picker turns
    the charts from the live hour to 24 h, 7 d, 30 d or a year of the query
    API's series (asked again every minute while shown). #customers shows
    the customers page instead (customers.js), read when shown, and #alerts
    the analyst's alert search and workflow (workbench.js); the live page
    keeps running under them.  */

import { byId, setText } from './dom.js';
import * as fmt from './format.js';
import { loadConfig, fetchHistory } from './api.js';
import { storedKey, signIn, forget } from './session.js';
import { Connection, gatewayUrl } from './connection.js';
import { AlertFeed } from './alerts.js';
import { WindowSeries, Charts } from './charts.js';
import { renderCards, renderTop, renderDevices, renderBranches, renderRegions, moneyOf } from './views.js';
import { CustomersPage } from './customers.js';
import { AlertsPage } from './workbench.js';

const RANGE_TEXT = { 1440: 'the last 24 hours', 10080: 'the last 7 days', 43200: 'the last 30 days',
    525600: 'the last year' };
const HISTORY_REFRESH_MS = 60000;

const STATUS_TEXT = {
    connecting: () => 'Connecting\u2026',
    connected: () => 'Live',
    stale: (ms) => `No data for ${Math.round(ms / 1000)} s`,
    reconnecting: (ms) => `Reconnecting in ${Math.max(1, Math.round(ms / 1000))} s`,
    offline: () => 'Offline',
};

class Dashboard {
    constructor(apiUrl, session, customers) {
        this.money = { currency: 'EUR', exponent: 2 };
        this.lastDataAt = 0;
        this.apiUrl = apiUrl;
        this.apiKey = session.key;
        this.range = 60;
        this.historyTimer = null;
        this.series = new WindowSeries();
        this.charts = new Charts(byId('chart-throughput'), byId('chart-volume'));
        this.feed = new AlertFeed(byId('alerts-list'), apiUrl, session,
            (alert) => customers.openAccount({ txId: alert.tx_id, label: alert.account_id }));
        this.connection = new Connection(gatewayUrl(), session.key, {
            onMessage: (msg) => this.s_dispatch(msg),
            onStatus: (state, ms) => this.s_status(state, ms),
            onResync: (why) => console.info(`txwatch: re-syncing (${why})`),
        });
        setText(byId('api-url'), apiUrl);
        byId('range-picker').addEventListener('click', (event) => {
            const button = event.target.closest('button[data-minutes]');
            if (button) this.s_range(Number(button.dataset.minutes));
        });
        setInterval(() => this.s_tick(), 1000);
    }

    s_range(minutes) {
        if (!RANGE_TEXT[minutes] && minutes !== 60) return;
        this.range = minutes;
        for (const b of byId('range-picker').querySelectorAll('button[data-minutes]')) {
            b.setAttribute('aria-pressed', String(Number(b.dataset.minutes) === minutes));
        }
        clearInterval(this.historyTimer);
        this.charts.setRange(minutes);
        if (minutes === 60) {
            setText(byId('range-total'), '');
            this.s_notes('per minute window');
            this.charts.update(this.series, this.money.currency, this.money.exponent);
            return;
        }
        setText(byId('range-total'), 'loading\u2026');
        this.s_history();
        this.historyTimer = setInterval(() => this.s_history(), HISTORY_REFRESH_MS);
    }

    async s_history() {
        const minutes = this.range;
        let history;
        try {
            history = await fetchHistory(this.apiUrl, this.apiKey, minutes);
        } catch (err) {
            if (minutes === this.range) setText(byId('range-total'), `history unavailable: ${err.message}`);
            return;
        }
        if (minutes !== this.range) return;     // another range was chosen meanwhile
        const exponent = this.money.exponent;
        this.charts.showHistory(history, exponent);
        let count = 0, volume = 0;
        for (const p of history.points) {
            count += p.count;
            volume += Number.isFinite(p.volume) ? p.volume : 0;
        }
        const currency = typeof history.currency === 'string' ? history.currency : this.money.currency;
        setText(byId('range-total'), `${fmt.integer(count)} transactions, `
            + `${fmt.money(volume, currency, exponent)} in ${RANGE_TEXT[minutes]}`);
        this.s_notes(history.window_ms === 86400000 ? 'per day (UTC)'
            : history.window_ms === 3600000 ? 'per hour' : 'per minute window');
    }

    s_notes(grain) {
        setText(byId('range-note'), grain);
        setText(byId('currency-note'), `${grain}, ${this.money.currency}`);
    }

    start() {
        this.connection.start();
    }

    s_dispatch(msg) {
        try {
            switch (msg.type) {
            case 'hello':
                setText(byId('server-version'), fmt.text(msg.server));
                break;
            case 'snapshot':
                this.series.replace(msg.series);
                this.s_body(msg);
                this.feed.replace(msg.alerts);
                break;
            case 'stats':
                this.series.merge(msg.series);
                this.s_body(msg);
                break;
            case 'alert':
                this.feed.add(msg.alert);
                this.s_title();
                break;
            case 'ack':
                this.feed.acked(msg.ack);
                this.s_title();
                break;
            default:
                break;      // pong, window, dead_letter: not shown here
            }
        } catch (err) {
            console.warn(`txwatch: skipped a ${String(msg.type)} message:`, err);
        }
    }

    s_body(msg) {
        this.money = moneyOf(msg.stats, this.money);
        this.lastDataAt = Date.now();
        renderCards(msg.stats, this.money);
        this.charts.update(this.series, this.money.currency, this.money.exponent);
        const top = msg.top && typeof msg.top === 'object' ? msg.top : {};
        renderTop('merchants-body', top.merchant, this.money);
        renderTop('categories-body', top.category, this.money);
        renderDevices(top.device, this.money);
        renderBranches(msg.branches, this.money);
        renderRegions(msg.regions);
        if (this.range === 60) setText(byId('currency-note'), `per minute window, ${this.money.currency}`);
        this.s_title();
        this.s_tick();
    }

    s_status(state, ms) {
        const el = byId('conn-status');
        const label = (STATUS_TEXT[state] || (() => state))(ms);
        if (el.dataset.state !== state) el.dataset.state = state;
        setText(byId('conn-text'), label);
    }

    s_title() {
        const open = this.feed.openCount();
        const title = open ? `(${open}) txwatch \u2014 live` : 'txwatch \u2014 live';
        if (document.title !== title) document.title = title;
    }

    s_tick() {
        setText(byId('updated'), this.lastDataAt ? `updated ${fmt.ago(this.lastDataAt)}` : 'waiting for data');
    }
}

//  Resolves to the session once a key is accepted: the tab's, or one typed in.
async function s_session(apiUrl) {
    const kept = storedKey();
    if (kept) {
        try {
            return await signIn(apiUrl, kept);
        } catch (err) {
            forget();
            setText(byId('login-error'), err.message);
        }
    }
    const dialog = byId('login');
    dialog.hidden = false;
    document.body.classList.add('signed-out');
    byId('login-key').focus();
    return new Promise((resolve) => {
        byId('login-form').addEventListener('submit', async (event) => {
            event.preventDefault();
            setText(byId('login-error'), '');
            try {
                const session = await signIn(apiUrl, byId('login-key').value);
                byId('login-key').value = '';
                dialog.hidden = true;
                document.body.classList.remove('signed-out');
                resolve(session);
            } catch (err) {
                setText(byId('login-error'), err.message);
            }
        });
    });
}

//  Shows the page the location's hash names: #customers, #alerts, else the
//  live one.
function s_route(customers, alerts) {
    const hash = window.location.hash;
    const view = hash === '#customers' ? 'customers' : hash === '#alerts' ? 'alerts' : 'live';
    byId('live-view').hidden = view !== 'live';
    byId('customers-view').hidden = view !== 'customers';
    byId('alerts-view').hidden = view !== 'alerts';
    for (const a of byId('view-nav').querySelectorAll('a[data-view]')) {
        if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
    }
    if (view === 'customers') customers.show();
    if (view === 'alerts') alerts.show();
}

async function main() {
    const cfg = await loadConfig();
    const session = await s_session(cfg.apiUrl);
    setText(byId('who'), `${session.name} · ${session.role}`);
    byId('who-area').hidden = false;
    byId('sign-out').addEventListener('click', () => {
        forget();
        window.location.reload();
    });
    const customers = new CustomersPage(cfg.apiUrl, session);
    const alerts = new AlertsPage(cfg.apiUrl, session, customers);
    window.addEventListener('hashchange', () => s_route(customers, alerts));
    s_route(customers, alerts);
    new Dashboard(cfg.apiUrl, session, customers).start();
}

main();
