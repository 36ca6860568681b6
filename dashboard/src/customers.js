/*  customers - the customers page (#customers) and the account drill-down

    Reads the query API's customer endpoints (proto/openapi.yaml, tag
    customers), which are as of the last `txw-maint segments` refresh:
    the 11 RFM segments with their size and revenue share (drawn as SVG
    bars, the numbers written beside them), the monthly cohorts as a
    retention heatmap (a table: one row a cohort, one column a month after
    it, each cell its retention, the details in its title), and the top
    customers by lifetime value. A customer row, or the account of a fraud
    alert, opens the drill-down: profile, RFM scores, segment, lifetime
    value and recent transactions from GET /customers/{id}. That record is
    for analysts (and audited): a viewer, whose ids are pseudonyms anyway,
    gets a message saying so instead of a request. An alert carries the
    account as a pseudonym for every role, so its drill-down first reads
    the alert's transaction (GET /transactions/{tx_id}, analyst, audited)
    for the account id; the drill-down ends with the products to recommend
    to that customer (GET /recommendations?customer_id=, analyst, audited
    too), after the account's alerts of the last year with their status,
    assignee and disposition (GET /alerts?account=) and its labels (GET
    /labels?account=). Last, the products bought with a chosen product
    (GET /recommendations?product_id=). The page is read again each time it is shown:
    the refresh runs rarely, a reload costs four small requests.  */

import { h, byId, setText, replaceRows } from './dom.js';
import * as fmt from './format.js';
import { apiGet } from './api.js';
import { canAct } from './session.js';
import { statusText } from './workbench.js';

const TOP_LIMIT = 20;
const RECENT_LIMIT = 10;
const RECOMMEND_LIMIT = 10;
const FOR_CUSTOMER_LIMIT = 5;
const ALERTS_LIMIT = 20;
const SVG_NS = 'http://www.w3.org/2000/svg';
const NEEDS_ANALYST = 'A customer\'s record needs the analyst role; this key is a viewer, which sees pseudonyms only.';

//  Where a recommendation comes from (the API's source), in words.
const SOURCES = { cooccurrence: 'bought together', category: 'best seller of its category', popular: 'best seller' };

const arr = (v) => (Array.isArray(v) ? v.filter((x) => x && typeof x === 'object') : []);
const s_ratio = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

//  A 0..100 percentage of the API as text ("12.5%"), a dash for null.
export function pct(value) {
    return typeof value === 'number' && Number.isFinite(value) ? fmt.rate(value / 100) : '\u2014';
}

function ratio(value) {
    return typeof value === 'number' && Number.isFinite(value) ? s_ratio.format(value) : '\u2014';
}

//  An SVG element (dom.js builds HTML ones); text children only.
function svg(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
        if (value !== null && value !== undefined) el.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
        if (child !== null && child !== undefined) el.append(child instanceof Node ? child : String(child));
    }
    return el;
}

//  The segments as horizontal bars: the share of customers and the share of
//  revenue of each, scaled to the largest share so small ones still show.
function s_segment_chart(answer) {
    const segments = arr(answer.segments);
    const row = 30, labelW = 170, barW = 300, top = 8;
    const height = top + segments.length * row + 4;
    const most = Math.max(1, ...segments.flatMap((s) => [s.customers_share_pct, s.revenue_share_pct])
        .filter((v) => typeof v === 'number' && Number.isFinite(v)));
    const width = (v) => (typeof v === 'number' && Number.isFinite(v) ? Math.max(0, (v / most) * barW) : 0);
    const rows = segments.map((s, i) => {
        const y = top + i * row;
        const value = `${fmt.integer(s.customers)} (${pct(s.customers_share_pct)}) \u00b7 ${pct(s.revenue_share_pct)} of revenue`;
        return svg('g', { class: 'segment', 'data-segment': fmt.text(s.segment) },
            svg('title', null, `${fmt.text(s.segment)}: ${fmt.integer(s.customers)} customers, `
                + `${pct(s.customers_share_pct)} of them, ${fmt.money(s.revenue_minor, answer.currency)} `
                + `(${pct(s.revenue_share_pct)} of revenue)`),
            svg('text', { x: 0, y: y + 16, class: 'seg-label' }, fmt.text(s.segment)),
            svg('rect', { x: labelW, y: y + 3, width: width(s.customers_share_pct), height: 10, rx: 2, class: 'seg-customers' }),
            svg('rect', { x: labelW, y: y + 15, width: width(s.revenue_share_pct), height: 10, rx: 2, class: 'seg-revenue' }),
            svg('text', { x: labelW + barW + 10, y: y + 16, class: 'seg-value' }, value));
    });
    return svg('svg', { viewBox: `0 0 760 ${height}`, width: '100%', role: 'img',
        'aria-label': 'Customers and revenue share per segment' }, rows);
}

//  A cell's colour: the accent, more opaque the higher the retention.
function s_heat(value) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return '';
    const alpha = 0.06 + 0.84 * Math.min(1, Math.max(0, value / 100));
    return `rgba(74, 163, 255, ${alpha.toFixed(3)})`;
}

function s_cohort_table(answer) {
    const cohorts = arr(answer.cohorts);
    const columns = Math.max(0, ...cohorts.map((c) => arr(c.periods).length));
    const head = h('tr', null, h('th', { scope: 'col' }, 'Cohort'), h('th', { scope: 'col', class: 'num' }, 'Customers'),
        Array.from({ length: columns }, (_, p) => h('th', { scope: 'col', class: 'num', title: `${p} months after the first purchase` }, `M${p}`)));
    const rows = cohorts.map((c) => h('tr', { 'data-cohort': fmt.text(c.cohort) },
        h('th', { scope: 'row' }, fmt.text(c.cohort)),
        h('td', { class: 'num' }, fmt.integer(c.customers)),
        Array.from({ length: columns }, (_, p) => {
            const period = arr(c.periods).find((x) => x.period === p);
            if (!period) return h('td', { class: 'heat none' });
            const cell = h('td', {
                class: 'num heat', 'data-period': p, tabindex: '0',
                title: `${fmt.text(c.cohort)} cohort in ${fmt.text(period.month)}: ${fmt.integer(period.active_customers)} of `
                    + `${fmt.integer(c.customers)} bought (${pct(period.retention_pct)}), ${fmt.integer(period.orders)} orders, `
                    + `${fmt.money(period.revenue_minor, answer.currency)}`,
            }, pct(period.retention_pct));
            cell.style.backgroundColor = s_heat(period.retention_pct);   // CSSOM, allowed by the CSP
            return cell;
        })));
    return { head, rows, columns };
}

//  An apiGet failure in words: the message, and the HTTP status if any.
function s_why(err) {
    return err.status ? `${err.message} (HTTP ${err.status})` : err.message;
}

function s_rfm(r) {
    return `${fmt.integer(r.r)}-${fmt.integer(r.f)}-${fmt.integer(r.m)}`;
}

function s_field(label, value, attrs) {
    return h('div', attrs || null, h('dt', null, label), h('dd', null, value));
}

export class CustomersPage {
    constructor(apiUrl, session) {
        this.apiUrl = apiUrl;
        this.session = session;
        this.mayRead = canAct(session.role);     // analyst and admin read customers' records
        this.dialog = byId('account-dialog');
        this.loading = null;
        byId('top-customers-body').addEventListener('click', (event) => {
            const button = event.target.closest('button[data-account]');
            if (button) this.openAccount({ account: button.dataset.account });
        });
        byId('account-close').addEventListener('click', () => this.dialog.close());
        byId('reco-form').addEventListener('submit', (event) => {
            event.preventDefault();
            this.recommend(byId('reco-product').value.trim());
        });
    }

    s_get(path) {
        return apiGet(this.apiUrl, this.session.key, path);
    }

    //  Reads the page's three parts again; one failing leaves the others.
    show() {
        if (this.loading) return this.loading;
        setText(byId('customers-status'), 'loading\u2026');
        this.loading = Promise.all([
            this.s_part('segments', 'customers/segments', (a) => this.s_segments(a)),
            this.s_part('cohorts', 'cohorts?period=month', (a) => this.s_cohorts(a)),
            this.s_part('top-customers', `customers?sort=ltv&limit=${TOP_LIMIT}`, (a) => this.s_top(a)),
        ]).then((parts) => {
            const when = parts.map((p) => p && p.as_of).find((t) => typeof t === 'string');
            setText(byId('customers-status'), when ? `as of the refresh of ${when}`
                : parts.some((p) => p) ? 'no refresh yet (txw-maint segments)' : 'the query API did not answer');
            this.loading = null;
        });
        return this.loading;
    }

    //  The answer once drawn, or null when the API refused (said in the panel).
    async s_part(id, path, render) {
        const note = byId(`${id}-error`);
        try {
            const answer = await this.s_get(path);
            setText(note, '');
            render(answer);
            return answer;
        } catch (err) {
            setText(note, s_why(err));
            return null;
        }
    }

    s_segments(answer) {
        byId('segment-chart').replaceChildren(s_segment_chart(answer));
        setText(byId('segments-total'), `${fmt.integer(answer.customers)} customers \u00b7 `
            + `${fmt.money(answer.revenue_minor, answer.currency)} lifetime value`);
    }

    s_cohorts(answer) {
        const { head, rows, columns } = s_cohort_table(answer);
        byId('cohorts-head').replaceChildren(head);
        replaceRows(byId('cohorts-body'), rows, 'No cohorts yet', columns + 2);
    }

    s_top(answer) {
        const rows = arr(answer.customers).map((c, i) => h('tr', null,
            h('td', { class: 'num' }, fmt.integer(i + 1)),
            h('th', { scope: 'row' }, h('button', {
                type: 'button', class: 'account-link', 'data-account': fmt.text(c.account_id),
                'aria-label': `Open customer ${fmt.text(c.account_id)}`,
            }, fmt.text(c.account_id))),
            h('td', null, fmt.text(c.segment)),
            h('td', { class: 'num', title: 'recency, frequency and monetary scores (5 is best)' }, s_rfm(c)),
            h('td', { class: 'num' }, fmt.integer(c.frequency)),
            h('td', { class: 'num ltv' }, fmt.money(c.lifetime_value_minor, answer.currency)),
            h('td', null, h('time', { datetime: fmt.text(c.last_seen) }, fmt.text(c.last_seen).slice(0, 10)))));
        replaceRows(byId('top-customers-body'), rows, 'No customers scored yet', 7);
    }

    //  The drill-down of {account} (an id) or {txId, label} (an alert's
    //  transaction, whose account is shown as label, a pseudonym).
    async openAccount(target) {
        const body = byId('account-body');
        const label = target.account || target.label || target.txId;
        setText(byId('account-title'), `Customer ${fmt.text(label)}`);
        if (!this.dialog.open) this.dialog.showModal();
        const asked = (this.asked = {});
        if (!this.mayRead) {
            body.replaceChildren(h('p', { class: 'needs-role', role: 'status' }, NEEDS_ANALYST));
            return;
        }
        body.replaceChildren(h('p', { class: 'hint', role: 'status' }, 'loading\u2026'));
        let customer;
        try {
            let account = target.account;
            if (!account) account = (await this.s_get(`transactions/${encodeURIComponent(target.txId)}`)).account_id;
            customer = await this.s_get(`customers/${encodeURIComponent(account)}?limit=${RECENT_LIMIT}`);
        } catch (err) {
            if (asked !== this.asked) return;   // another account was opened meanwhile
            const text = err.status === 403 ? NEEDS_ANALYST
                : err.status === 404 ? `Not found: ${err.message}` : s_why(err);
            body.replaceChildren(h('p', { class: err.status === 403 ? 'needs-role' : 'error', role: 'status' }, text));
            return;
        }
        if (asked !== this.asked) return;
        setText(byId('account-title'), `Customer ${fmt.text(customer.account_id)}`);
        body.replaceChildren(...this.s_record(customer));
        await this.s_account_alerts(body, customer.account_id, asked);
        if (asked !== this.asked) return;
        const list = h('ol', { id: 'account-reco', class: 'account-reco' }, h('li', { class: 'hint' }, 'loading\u2026'));
        body.append(h('h3', null, 'Recommended for this customer'), list);
        let items;
        try {
            items = arr((await this.s_get(`recommendations?customer_id=${encodeURIComponent(customer.account_id)}`
                + `&limit=${FOR_CUSTOMER_LIMIT}`)).items);
        } catch (err) {
            list.replaceChildren(h('li', { class: 'error' }, s_why(err)));
            return;
        }
        list.replaceChildren(...(items.length ? items.map((it) => h('li', { 'data-product': fmt.text(it.product_id) },
            h('strong', null, fmt.text(it.product_id)), ` ${fmt.text(it.name)} \u00b7 `,
            h('span', { class: 'hint' }, SOURCES[it.source] || fmt.text(it.source))))
            : [h('li', { class: 'empty' }, 'Nothing to recommend yet')]));
    }

    //  The account's alerts of the last year (status, assignee,
    //  disposition) and its labels, appended to body.
    async s_account_alerts(body, account, asked) {
        const since = new Date(Date.now() - 365 * 86400000).toISOString();
        const id = encodeURIComponent(account);
        const alerts = h('tbody', { id: 'account-alerts' });
        const labels = h('tbody', { id: 'account-labels' });
        body.append(h('h3', null, 'Alerts'), h('div', { class: 'table-wrap' }, h('table', null,
            h('thead', null, h('tr', null, ['Raised (UTC)', 'Transaction', 'Severity', 'Score', 'Status', 'Assignee']
                .map((t, i) => h('th', { scope: 'col', class: i === 3 ? 'num' : null }, t)))), alerts)),
            h('h3', null, 'Labels'), h('div', { class: 'table-wrap' }, h('table', null,
                h('thead', null, h('tr', null, ['Transaction', 'Label', 'From', 'Set by', 'Set at (UTC)']
                    .map((t) => h('th', { scope: 'col' }, t)))), labels)));
        const [a, l] = await Promise.allSettled([
            this.s_get(`alerts?account=${id}&since=${encodeURIComponent(since)}&limit=${ALERTS_LIMIT}`),
            this.s_get(`labels?account=${id}&limit=${ALERTS_LIMIT}`)]);
        if (asked !== this.asked) return;
        const day = (t) => fmt.text(t).replace('T', ' ').slice(0, 16);
        if (a.status === 'rejected') replaceRows(alerts, [], s_why(a.reason), 6);
        else replaceRows(alerts, arr(a.value.alerts).map((x) => h('tr', { 'data-alert-id': x.id },
            h('td', null, day(x.raised_at)), h('td', null, fmt.text(x.tx_id)), h('td', null, fmt.text(x.severity)),
            h('td', { class: 'num' }, fmt.integer(x.score)), h('td', { class: 'alert-status' }, statusText(x)),
            h('td', null, x.assignee || '\u2014'))), 'No alerts in the last year', 6);
        if (l.status === 'rejected') replaceRows(labels, [], s_why(l.reason), 5);
        else replaceRows(labels, arr(l.value.labels).map((x) => h('tr', { 'data-tx': fmt.text(x.tx_id) },
            h('td', null, fmt.text(x.tx_id)), h('td', { class: 'label' }, fmt.text(x.label)),
            h('td', null, x.detail ? `${fmt.text(x.source)}: ${x.detail}` : fmt.text(x.source)),
            h('td', null, fmt.text(x.set_by)), h('td', null, day(x.set_at)))), 'No labels', 5);
    }

    s_record(c) {
        const p = c.profile && typeof c.profile === 'object' ? c.profile : {};
        const r = c.rfm && typeof c.rfm === 'object' ? c.rfm : null;
        const money = (minor) => fmt.money(minor, c.currency);
        const recent = arr(c.recent).map((t) => h('tr', null,
            h('td', null, h('time', { datetime: fmt.text(t.ts) }, fmt.text(t.ts).replace('T', ' ').slice(0, 19))),
            h('td', null, fmt.text(t.tx_id)),
            h('td', { class: 'num' }, fmt.money(t.amount_minor, t.currency)),
            h('td', null, fmt.text(t.merchant_id)),
            h('td', null, fmt.text(t.category)),
            h('td', null, fmt.text(t.channel)),
            h('td', null, fmt.text(t.status)),
            h('td', { class: 'num' }, fmt.integer(t.score))));
        const table = h('table', null,
            h('thead', null, h('tr', null, ['Time (UTC)', 'Transaction', 'Amount', 'Merchant', 'Category', 'Channel',
                'Status', 'Score'].map((t, i) => h('th', { scope: 'col', class: i === 2 || i === 7 ? 'num' : null }, t)))),
            h('tbody', { id: 'account-recent' }));
        replaceRows(table.querySelector('tbody'), recent, 'No transactions', 8);
        return [
            h('dl', { class: 'record' },
                s_field('Lifetime value', money(c.lifetime_value_minor), { id: 'account-ltv' }),
                s_field('Segment', r ? fmt.text(r.segment) : 'not scored yet', { id: 'account-segment' }),
                s_field('R-F-M', r ? s_rfm(r) : '\u2014', { id: 'account-rfm' }),
                s_field('Recency', r ? `${fmt.integer(r.recency_days)} days` : '\u2014'),
                s_field('Transactions', fmt.integer(p.tx_count), { id: 'account-tx' }),
                s_field('Approved / declined / failed',
                    `${fmt.integer(p.approved)} / ${fmt.integer(p.declined)} / ${fmt.integer(p.failed)}`),
                s_field('Spend', money(p.spend_minor)),
                s_field('Cohort', fmt.text(p.cohort_month)),
                s_field('First seen', fmt.text(p.first_seen).slice(0, 10)),
                s_field('Last seen', fmt.text(p.last_seen).slice(0, 10))),
            r ? h('p', { class: 'hint' }, `Scores as of ${fmt.text(r.as_of)}; totals live.`) : null,
            h('h3', null, 'Recent transactions'),
            h('div', { class: 'table-wrap' }, table),
        ].filter(Boolean);
    }

    async recommend(productId) {
        const status = byId('reco-status');
        if (!productId) {
            setText(status, 'Enter a product id.');
            return;
        }
        setText(status, 'loading\u2026');
        const asked = (this.recoAsked = {});
        let answer;
        try {
            answer = await this.s_get(`recommendations?product_id=${encodeURIComponent(productId)}&limit=${RECOMMEND_LIMIT}`);
        } catch (err) {
            if (asked !== this.recoAsked) return;   // another product was asked for meanwhile
            setText(status, `Recommendations unavailable: ${s_why(err)}`);
            replaceRows(byId('reco-body'), [], 'No recommendations', 9);
            return;
        }
        if (asked !== this.recoAsked) return;
        const items = arr(answer.items);
        const rows = items.map((it, i) => h('tr', { 'data-product': fmt.text(it.product_id) },
            h('td', { class: 'num' }, fmt.integer(i + 1)),
            h('th', { scope: 'row' }, fmt.text(it.product_id)),
            h('td', null, fmt.text(it.name)),
            h('td', null, fmt.text(it.category)),
            h('td', { 'data-source': fmt.text(it.source) }, SOURCES[it.source] || fmt.text(it.source)),
            h('td', { class: 'num' }, ratio(it.score)),
            h('td', { class: 'num' }, fmt.integer(it.orders_together)),
            h('td', { class: 'num' }, ratio(it.confidence)),
            h('td', { class: 'num' }, ratio(it.lift))));
        replaceRows(byId('reco-body'), rows, 'No recommendations for this product', 9);
        setText(status, `${items.length} products for ${fmt.text(answer.product_id)}`);
    }
}
