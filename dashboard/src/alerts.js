/*  alerts - the alert feed, newest first, with acknowledgement

    Alerts are identified by their key (fraud:<tx_id> or
    region_health:<region>:<ms>), which exists before the alert is stored,
    so a live alert can be acked at once. The feed keeps the newest
    MAX_ALERTS, remembers acks across snapshots (this page's, and the
    gateway's `ack` messages for acks made on any screen or with txwctl),
    and only touches the rows that change so a focused Acknowledge button
    keeps its focus. Acknowledging closes the alert (the API's shorthand);
    the gateway's `ack` of a reopened alert makes it open again here. Only a key that may act (analyst, admin) gets the
    Acknowledge button and its disposition; a viewer sees the status. The
    account of a fraud alert is a button: onAccount(alert) opens its
    drill-down (customers.js).  */

import { h, byId, setText } from './dom.js';
import * as fmt from './format.js';
import { describeReasons } from './reasons.js';
import { ackAlert } from './api.js';
import { canAct } from './session.js';

const DISPOSITIONS = [
    ['', 'Disposition…'], ['confirmed_fraud', 'Confirmed fraud'], ['false_positive', 'False positive'],
    ['suspicious', 'Suspicious'], ['duplicate', 'Duplicate'], ['not_actionable', 'Not actionable'],
];

const MAX_ALERTS = 100;

//  The alert's severity: stored alerts and live ones (common/alertjson.c)
//  both carry it, made by the one rule of proto/sql/021_workflow.sql.
function s_severity(alert) {
    return typeof alert.severity === 'string' ? alert.severity : 'unknown';
}

export class AlertFeed {
    constructor(list, apiUrl, session, onAccount) {
        this.list = list;
        this.apiUrl = apiUrl;
        this.session = session;
        this.canAct = canAct(session.role);
        this.alerts = [];               // newest first
        this.rows = new Map();          // key -> <li>
        this.acks = new Map();          // key -> {state, at, by, error}
        this.list.addEventListener('click', (event) => {
            const account = event.target.closest('button.account-link[data-alert]');
            if (account) {
                const alert = this.alerts.find((a) => a.key === account.dataset.alert);
                if (alert) onAccount(alert);
                return;
            }
            const button = event.target.closest('button[data-key]');
            if (!button) return;
            const select = button.parentElement.querySelector('select.disposition');
            this.ack(button.dataset.key, select ? select.value : '');
        });
        this.s_summary();
    }

    //  A snapshot: the server's recent alerts replace ours.
    replace(alerts) {
        const valid = (Array.isArray(alerts) ? alerts : []).filter((a) => a && typeof a.key === 'string' && a.key);
        this.alerts = valid.slice(0, MAX_ALERTS);
        this.s_render(new Set());
    }

    //  A live alert, added at the top unless we have it already.
    add(alert) {
        if (!alert || typeof alert.key !== 'string' || !alert.key) return;
        if (this.rows.has(alert.key)) return;
        this.alerts.unshift(alert);
        this.alerts.length = Math.min(this.alerts.length, MAX_ALERTS);
        this.s_render(new Set([alert.key]));
    }

    //  A status change made anywhere, pushed by the gateway: a close (an
    //  ack), or an alert opened again or being investigated.
    acked(ack) {
        if (!ack || typeof ack.key !== 'string' || !ack.key) return;
        if (typeof ack.status === 'string' && ack.status !== 'closed') {
            this.acks.set(ack.key, { state: 'open' });
            this.s_refresh(ack.key);
            this.s_summary();
            return;
        }
        const state = this.acks.get(ack.key);
        if (state && state.state === 'acked') return;
        this.acks.set(ack.key, {
            state: 'acked',
            at: typeof ack.acked_at === 'string' ? ack.acked_at : new Date().toISOString(),
            by: typeof ack.acked_by === 'string' ? ack.acked_by : 'someone',
        });
        this.s_refresh(ack.key);
        this.s_summary();
    }

    async ack(key, disposition) {
        if (!this.canAct) return;
        const state = this.acks.get(key);
        if (state && (state.state === 'pending' || state.state === 'acked')) return;
        this.acks.set(key, { state: 'pending' });
        this.s_refresh(key);
        try {
            const acked = await ackAlert(this.apiUrl, key, this.session.key, disposition);
            this.acks.set(key, {
                state: 'acked',
                at: acked && typeof acked.acked_at === 'string' ? acked.acked_at : new Date().toISOString(),
                by: acked && typeof acked.acked_by === 'string' ? acked.acked_by : 'dashboard',
            });
        } catch (err) {
            this.acks.set(key, { state: 'error', error: err.message });
        }
        this.s_refresh(key);
        this.s_summary();
    }

    s_state(alert) {
        const local = this.acks.get(alert.key);
        if (local) return local;
        if (alert.status === 'closed') return { state: 'acked', at: alert.acked_at, by: alert.acked_by };
        return { state: 'open' };
    }

    s_render(fresh) {
        const keep = new Map();
        const nodes = [];
        for (const alert of this.alerts) {
            if (keep.has(alert.key)) continue;
            const row = this.rows.get(alert.key) || this.s_row(alert, fresh.has(alert.key));
            keep.set(alert.key, row);
            nodes.push(row);
        }
        this.rows = keep;
        //  Move nodes into place without re-creating them (keeps focus).
        let cursor = this.list.firstElementChild;
        for (const node of nodes) {
            if (node === cursor) cursor = cursor.nextElementSibling;
            else this.list.insertBefore(node, cursor);
        }
        while (cursor) {
            const next = cursor.nextElementSibling;
            cursor.remove();
            cursor = next;
        }
        if (!nodes.length) this.list.append(h('li', { class: 'empty' }, 'No alerts yet'));
        this.s_summary();
    }

    s_refresh(key) {
        const old = this.rows.get(key);
        const alert = this.alerts.find((a) => a.key === key);
        if (!old || !alert) return;
        const hadFocus = old.contains(document.activeElement);
        const action = this.s_action(alert);
        old.querySelector('.alert-action').replaceWith(action);
        old.classList.toggle('acked', this.s_state(alert).state === 'acked');
        if (hadFocus) (action.querySelector('button') || action).focus();
    }

    openCount() {
        return this.alerts.filter((a) => this.s_state(a).state !== 'acked').length;
    }

    s_summary() {
        setText(byId('alerts-summary'), `${this.alerts.length} recent \u00b7 ${this.openCount()} open`);
    }

    s_action(alert) {
        const st = this.s_state(alert);
        const label = alert.kind === 'region_health' ? `region ${fmt.text(alert.region)}` : fmt.text(alert.tx_id);
        if (st.state === 'acked') {
            return h('div', { class: 'alert-action', tabindex: '-1' },
                h('span', { class: 'acked-mark', title: `acknowledged by ${fmt.text(st.by)} at ${fmt.text(st.at)}` },
                    h('span', { 'aria-hidden': 'true' }, '\u2713 '), 'Acked ', fmt.clock(st.at)));
        }
        if (!this.canAct) {
            return h('div', { class: 'alert-action' },
                h('span', { class: 'open-mark', title: 'your key may view, not act' }, 'Open'));
        }
        const pending = st.state === 'pending';
        return h('div', { class: 'alert-action' },
            h('select', { class: 'disposition', 'aria-label': `Disposition for ${label}`, disabled: pending },
                DISPOSITIONS.map(([value, text]) => h('option', { value }, text))),
            h('button', {
                type: 'button', class: 'ack', 'data-key': alert.key, disabled: pending,
                'aria-label': `Acknowledge alert for ${label}`,
            }, pending ? 'Acknowledging\u2026' : st.state === 'error' ? 'Retry ack' : 'Acknowledge'),
            st.state === 'error' ? h('span', { class: 'ack-error', role: 'status' }, st.error) : null);
    }

    s_row(alert, fresh) {
        const health = alert.kind === 'region_health';
        const severity = s_severity(alert);
        const reasons = describeReasons(alert.reasons);
        const title = health
            ? [`Region ${fmt.text(alert.region)} unhealthy`]
            : [h('span', { class: 'amount' }, fmt.money(alert.amount_minor, alert.currency)),
                h('span', { class: 'sep', 'aria-hidden': 'true' }, ' \u00b7 '), fmt.text(alert.merchant_id),
                h('span', { class: 'sep', 'aria-hidden': 'true' }, ' \u00b7 '),
                h('span', { class: 'country', title: 'country' }, fmt.text(alert.country))];
        const meta = [h('time', { datetime: fmt.text(alert.ts), title: fmt.text(alert.ts) }, fmt.clock(alert.ts))];
        if (!health) {
            meta.push(` \u00b7 ${fmt.text(alert.tx_id)}`);
            if (typeof alert.account_id === 'string' && typeof alert.tx_id === 'string') {
                meta.push(' \u00b7 ', h('button', {
                    type: 'button', class: 'account-link', 'data-alert': alert.key,
                    'aria-label': `Open the customer of ${fmt.text(alert.tx_id)}`,
                }, alert.account_id));
            } else if (typeof alert.account_id === 'string') {
                meta.push(` \u00b7 ${alert.account_id}`);
            }
            if (typeof alert.channel === 'string') meta.push(` \u00b7 ${alert.channel}`);
        } else if (typeof alert.message === 'string' && alert.message) {
            meta.push(` \u00b7 ${alert.message}`);
        }
        const row = h('li', { class: `alert ${severity}${fresh ? ' fresh' : ''}`, 'data-alert-key': alert.key },
            h('div', { class: `score ${severity}`, title: 'risk score (0-100)' },
                h('span', { class: 'visually-hidden' }, 'score '), fmt.integer(alert.score)),
            h('div', { class: 'alert-body' },
                h('div', { class: 'alert-title' }, ...title),
                reasons.length ? h('ul', { class: 'reasons', 'aria-label': 'reasons' },
                    reasons.map((r) => h('li', { title: r.code }, r.description))) : null,
                h('div', { class: 'alert-meta' }, ...meta)),
            this.s_action(alert));
        if (this.s_state(alert).state === 'acked') row.classList.add('acked');
        return row;
    }
}
