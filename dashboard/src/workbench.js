/*  workbench - the alerts page (#alerts): search, assign, investigate, close

    The analyst's workflow on the query API (proto/openapi.yaml, tag
    alerts). The filters (account, status, least severity, kind, assignee,
    merchant, how far back) become GET /alerts; "More" asks for the next
    page with the answer's next_cursor, so a page never repeats an alert
    while new ones arrive. Choosing an alert opens its detail: an analyst
    may assign it to themself in one click, or change its status, assignee
    and disposition and add a note, all in one PATCH /alerts/{id} (only
    the fields changed are sent: the API writes one event per field);
    the notes are listed from GET /alerts/{id}/notes. The alert's row is
    redrawn from the API's answer, never from what was typed. A viewer
    sees the list with pseudonyms and no actions, and may not search by
    account (the field is not shown). The account of an alert opens the
    customer drill-down (customers.js), which lists the account's alerts
    and labels.  */

import { h, byId, setText, replaceRows } from './dom.js';
import * as fmt from './format.js';
import { apiGet, apiSend } from './api.js';
import { canAct } from './session.js';

const PAGE = 25;
const DAY_MS = 86400000;
export const STATUSES = [['open', 'Open'], ['investigating', 'Investigating'], ['closed', 'Closed']];
export const DISPOSITIONS = [
    ['confirmed_fraud', 'Confirmed fraud'], ['false_positive', 'False positive'], ['suspicious', 'Suspicious'],
    ['duplicate', 'Duplicate'], ['not_actionable', 'Not actionable'],
];
const words = (list, value) => (list.find(([v]) => v === value) || [null, fmt.text(value)])[1];

//  An alert's status and disposition in words ("Closed · Confirmed fraud").
export function statusText(alert) {
    const status = words(STATUSES, alert.status);
    return alert.disposition ? `${status} \u00b7 ${words(DISPOSITIONS, alert.disposition)}` : status;
}

function s_why(err) {
    return err.status ? `${err.message} (HTTP ${err.status})` : err.message;
}

export class AlertsPage {
    constructor(apiUrl, session, customers) {
        this.apiUrl = apiUrl;
        this.session = session;
        this.customers = customers;
        this.mayAct = canAct(session.role);
        this.alerts = [];               // the pages read so far, in order
        this.cursor = null;             // the next page's, null on the last
        this.selected = null;           // the id of the alert in the detail
        this.searched = false;
        byId('search-account-field').hidden = !this.mayAct;
        byId('alert-search').addEventListener('submit', (event) => {
            event.preventDefault();
            this.search();
        });
        byId('search-mine').addEventListener('click', () => {
            byId('search-assignee').value = this.session.name;
            this.search();
        });
        byId('alert-more').addEventListener('click', () => this.more());
        byId('alert-results').addEventListener('click', (event) => {
            const account = event.target.closest('button.account-link[data-account]');
            if (account) {
                this.customers.openAccount({ account: account.dataset.account });
                return;
            }
            const open = event.target.closest('button[data-alert-id]');
            if (open) this.select(Number(open.dataset.alertId));
        });
    }

    //  The first search when the page is first shown; later visits keep it.
    show() {
        if (!this.searched) this.search();
    }

    s_query() {
        const q = new URLSearchParams();
        const days = Number(byId('search-days').value) || 7;
        q.set('since', new Date(Date.now() - days * DAY_MS).toISOString());
        for (const [id, name] of [['search-status', 'status'], ['search-severity', 'severity'],
            ['search-kind', 'kind'], ['search-assignee', 'assignee'], ['search-merchant', 'merchant']]) {
            const value = byId(id).value.trim();
            if (value) q.set(name, value);
        }
        const account = byId('search-account').value.trim();
        if (account && this.mayAct) q.set('account', account);
        q.set('limit', String(PAGE));
        return q;
    }

    async search() {
        this.searched = true;
        this.query = this.s_query();
        this.alerts = [];
        this.cursor = null;
        this.asked = {};
        await this.s_page(this.query, this.asked);
    }

    async more() {
        if (!this.cursor) return;
        const q = new URLSearchParams(this.query);
        q.set('cursor', this.cursor);
        await this.s_page(q, this.asked);
    }

    async s_page(q, asked) {
        setText(byId('alert-search-status'), 'searching\u2026');
        byId('alert-more').disabled = true;
        let answer;
        try {
            answer = await apiGet(this.apiUrl, this.session.key, `alerts?${q}`);
        } catch (err) {
            if (asked !== this.asked) return;   // a newer search was asked meanwhile
            setText(byId('alert-search-status'), s_why(err));
            return;
        }
        if (asked !== this.asked) return;
        const page = Array.isArray(answer.alerts) ? answer.alerts.filter((a) => a && Number.isInteger(a.id)) : [];
        this.alerts.push(...page);
        this.cursor = typeof answer.next_cursor === 'string' ? answer.next_cursor : null;
        byId('alert-more').hidden = !this.cursor;
        byId('alert-more').disabled = false;
        setText(byId('alert-search-status'),
            `${this.alerts.length} alert${this.alerts.length === 1 ? '' : 's'}${this.cursor ? ', more to read' : ''}`);
        this.s_rows();
    }

    s_rows() {
        const rows = this.alerts.map((a) => {
            const health = a.kind === 'region_health';
            return h('tr', { 'data-alert-id': a.id, class: a.id === this.selected ? 'selected' : null },
                h('td', null, h('time', { datetime: fmt.text(a.raised_at) }, fmt.text(a.raised_at).replace('T', ' ').slice(0, 16))),
                h('td', null, h('span', { class: `sev ${fmt.text(a.severity)}` }, fmt.text(a.severity))),
                h('td', { class: 'num' }, fmt.integer(a.score)),
                h('td', { class: 'alert-status' }, statusText(a)),
                h('td', { class: 'alert-assignee' }, a.assignee ? a.assignee : '\u2014'),
                h('td', null, health ? `region ${fmt.text(a.region)}`
                    : this.mayAct && typeof a.account_id === 'string'
                        ? h('button', { type: 'button', class: 'account-link', 'data-account': a.account_id,
                            'aria-label': `Open customer ${a.account_id}` }, a.account_id)
                        : fmt.text(a.account_id)),
                h('td', null, health ? '\u2014' : fmt.text(a.merchant_id)),
                h('td', { class: 'num' }, health ? '\u2014' : fmt.money(a.amount_minor, a.currency)),
                h('td', null, h('button', { type: 'button', class: 'open-alert', 'data-alert-id': a.id,
                    'aria-label': `Open alert ${a.id}` }, 'Open')));
        });
        replaceRows(byId('alert-results'), rows, 'No alert matches', 9);
    }

    //  The detail of alert id (one of the list's).
    async select(id) {
        const alert = this.alerts.find((a) => a.id === id);
        if (!alert) return;
        this.selected = id;
        this.s_rows();
        this.s_detail(alert);
        if (this.mayAct) await this.s_notes(id);
    }

    s_detail(a) {
        const panel = byId('alert-detail');
        panel.hidden = false;
        setText(byId('alert-detail-title'), `Alert ${a.id} \u00b7 ${fmt.text(a.key)}`);
        const facts = h('dl', { class: 'record' },
            ...[['Status', statusText(a), 'detail-status'], ['Assignee', a.assignee || '\u2014', 'detail-assignee'],
                ['Severity', fmt.text(a.severity)], ['Score', fmt.integer(a.score)],
                ['Account', fmt.text(a.account_id)], ['Amount', fmt.money(a.amount_minor, a.currency)],
                ['Raised', fmt.text(a.raised_at)], ['Closed by', a.acked_by || '\u2014']]
                .map(([dt, dd, id]) => h('div', id ? { id } : null, h('dt', null, dt), h('dd', null, dd))),
            h('div', { class: 'wide' }, h('dt', null, 'Message'), h('dd', null, fmt.text(a.message))));
        const body = [facts];
        if (!this.mayAct) {
            body.push(h('p', { class: 'needs-role', role: 'status' }, 'Changing an alert needs the analyst role.'));
        } else {
            const select = (id, label, options, value, none) => h('label', null, label, ' ',
                h('select', { id }, none ? h('option', { value: '' }, none) : null,
                    options.map(([v, t]) => h('option', { value: v, selected: v === value }, t))));
            body.push(h('form', { id: 'alert-change', class: 'alert-change', autocomplete: 'off' },
                select('change-status', 'Status', STATUSES, a.status),
                h('label', null, 'Assignee ', h('input', { id: 'change-assignee', value: a.assignee || '',
                    maxlength: '64', spellcheck: 'false', placeholder: 'nobody' })),
                h('button', { type: 'button', id: 'assign-me' }, 'Assign to me'),
                select('change-disposition', 'Disposition', DISPOSITIONS, a.disposition, 'none'),
                h('label', { class: 'wide' }, 'Note ', h('textarea', { id: 'change-note', rows: '2', maxlength: '2000' })),
                h('button', { type: 'submit', id: 'change-save' }, 'Save'),
                h('span', { id: 'change-status-line', class: 'hint', role: 'status' })));
            body.push(h('h3', null, 'Notes'), h('ol', { id: 'alert-notes', class: 'alert-notes' }));
        }
        byId('alert-detail-body').replaceChildren(...body);
        if (!this.mayAct) return;
        byId('assign-me').addEventListener('click', () => this.change(a.id, { assignee: this.session.name }));
        byId('alert-change').addEventListener('submit', (event) => {
            event.preventDefault();
            this.change(a.id, this.s_changes(a));
        });
    }

    //  What the form changes of alert a, as a PATCH body.
    s_changes(a) {
        const changes = {};
        const status = byId('change-status').value;
        const assignee = byId('change-assignee').value.trim() || null;
        const disposition = byId('change-disposition').value || null;
        const note = byId('change-note').value.trim();
        if (status !== a.status) changes.status = status;
        if (assignee !== (a.assignee || null)) changes.assignee = assignee;
        if (disposition !== (a.disposition || null)) changes.disposition = disposition;
        if (note) changes.note = note;
        return changes;
    }

    async change(id, changes) {
        const line = byId('change-status-line');
        if (!Object.keys(changes).length) {
            setText(line, 'Nothing to change.');
            return;
        }
        setText(line, 'saving\u2026');
        let alert;
        try {
            alert = await apiSend(this.apiUrl, this.session.key, 'PATCH', `alerts/${id}`, changes);
        } catch (err) {
            setText(byId('change-status-line'), s_why(err));
            return;
        }
        const i = this.alerts.findIndex((a) => a.id === id);
        if (i >= 0) this.alerts[i] = alert;
        this.s_rows();
        if (this.selected !== id) return;
        this.s_detail(alert);
        setText(byId('change-status-line'), 'Saved.');
        await this.s_notes(id);
    }

    async s_notes(id) {
        const list = byId('alert-notes');
        if (!list) return;
        let answer;
        try {
            answer = await apiGet(this.apiUrl, this.session.key, `alerts/${id}/notes`);
        } catch (err) {
            list.replaceChildren(h('li', { class: 'error' }, s_why(err)));
            return;
        }
        if (this.selected !== id) return;
        const notes = Array.isArray(answer.notes) ? answer.notes : [];
        list.replaceChildren(...(notes.length ? notes.map((n) => h('li', null,
            h('span', { class: 'hint' }, `${fmt.text(n.author)} \u00b7 ${fmt.text(n.created_at).replace('T', ' ').slice(0, 16)} `),
            fmt.text(n.body))) : [h('li', { class: 'empty' }, 'No notes')]));
    }
}
