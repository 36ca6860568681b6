/*  views - the cards, tables and region health panel

    Each render function takes what the gateway pushed (possibly missing
    or half-formed: every field is checked by the format helpers) and
    redraws its part of the page.  */

import { h, byId, setText, replaceRows } from './dom.js';
import * as fmt from './format.js';

const arr = (v) => (Array.isArray(v) ? v.filter((x) => x && typeof x === 'object') : []);

//  The money settings of a body: currency and exponent of window amounts.
export function moneyOf(obj, fallback) {
    const currency = obj && typeof obj.currency === 'string' ? obj.currency : fallback.currency;
    const exponent = obj && Number.isInteger(obj.currency_exponent) ? obj.currency_exponent : fallback.exponent;
    return { currency, exponent };
}

export function renderCards(stats, money) {
    const s = stats && typeof stats === 'object' ? stats : {};
    const minutes = Number.isInteger(s.minutes) ? s.minutes : 5;
    setText(byId('tps-value'), fmt.decimal(s.tx_per_s));
    setText(byId('tps-sub'), `${fmt.integer(s.count)} transactions in ${minutes} min`);
    setText(byId('volume-value'), fmt.money(s.volume_minor, money.currency, money.exponent, { compact: true }));
    setText(byId('volume-sub'), `${fmt.money(s.volume_minor, money.currency, money.exponent)} in ${minutes} min`);
    setText(byId('approval-value'), fmt.rate(s.approval_rate));
    setText(byId('approval-sub'), `declined ${fmt.rate(s.decline_rate)} \u00b7 failed ${fmt.rate(s.failure_rate)}`);
    setText(byId('flagged-value'), fmt.rate(s.flagged_rate, { fine: true }));
    setText(byId('flagged-sub'), `${fmt.integer(s.flagged)} flagged \u00b7 mean score ${fmt.decimal(s.mean_score)}`);
    const approval = typeof s.approval_rate === 'number' ? s.approval_rate : null;
    byId('card-approval').dataset.level = approval === null ? '' : approval < 0.85 ? 'bad' : approval < 0.92 ? 'warn' : 'good';
    const flagged = typeof s.flagged_rate === 'number' ? s.flagged_rate : null;
    byId('card-flagged').dataset.level = flagged === null ? '' : flagged > 0.05 ? 'bad' : flagged > 0.01 ? 'warn' : 'good';
}

function s_trend(change) {
    if (typeof change !== 'number' || !Number.isFinite(change)) return h('span', { class: 'trend flat', title: 'no earlier period to compare' }, 'new');
    const dir = change > 0.05 ? 'up' : change < -0.05 ? 'down' : 'flat';
    const arrow = dir === 'up' ? '\u25b2' : dir === 'down' ? '\u25bc' : '\u25b6';
    return h('span', { class: `trend ${dir}`, title: 'change against the previous 60 minutes' },
        h('span', { 'aria-hidden': 'true' }, arrow, ' '), fmt.change(change));
}

export function renderTop(tbodyId, items, money) {
    const rows = arr(items).map((it) => h('tr', null,
        h('th', { scope: 'row' }, fmt.text(it.key)),
        h('td', { class: 'num' }, fmt.integer(it.count)),
        h('td', { class: 'num' }, fmt.money(it.volume_minor, money.currency, money.exponent)),
        h('td', { class: 'num' }, fmt.integer(it.flagged)),
        h('td', { class: 'num' }, s_trend(it.change))));
    replaceRows(byId(tbodyId), rows, 'No transactions in the last 60 minutes', 5);
}

//  Device types: success rate and volume, the ones that fail most stand out.
export function renderDevices(items, money) {
    const rows = arr(items).map((it) => {
        const rate = typeof it.approval_rate === 'number' ? it.approval_rate : null;
        return h('tr', null,
            h('th', { scope: 'row' }, fmt.text(it.key)),
            h('td', { class: 'num' }, fmt.integer(it.count)),
            h('td', { class: 'num' }, fmt.money(it.volume_minor, money.currency, money.exponent)),
            h('td', { class: `num${rate !== null && rate < 0.9 ? ' bad' : ''}` }, fmt.rate(it.approval_rate)),
            h('td', { class: 'num' }, fmt.integer(it.flagged)));
    });
    replaceRows(byId('devices-body'), rows, 'No transactions in the last 60 minutes', 5);
}

export function renderBranches(branches, money) {
    const rows = arr(branches).map((b) => {
        const flaggedRate = typeof b.flagged_rate === 'number' ? b.flagged_rate : 0;
        return h('tr', null,
            h('th', { scope: 'row' }, fmt.text(b.branch_id)),
            h('td', { class: 'num' }, fmt.integer(b.count)),
            h('td', { class: 'num' }, fmt.money(b.volume_minor, money.currency, money.exponent)),
            h('td', { class: 'num' }, fmt.rate(b.approval_rate)),
            h('td', { class: 'num' }, fmt.rate(b.decline_rate)),
            h('td', { class: 'num' }, fmt.integer(b.flagged)),
            h('td', { class: `num${flaggedRate > 0.05 ? ' bad' : ''}` }, fmt.rate(b.flagged_rate, { fine: true })));
    });
    replaceRows(byId('branches-body'), rows, 'No branch activity in the last 60 minutes', 7);
    setText(byId('branches-count'), rows.length ? `${rows.length} branches` : '');
}

export function renderRegions(regions) {
    const list = arr(regions);
    const unhealthy = list.filter((r) => r.healthy === false).length;
    const items = list.map((r) => {
        const healthy = r.healthy !== false;
        const alerts = arr(r.alerts);
        return h('li', { class: `region ${healthy ? 'healthy' : 'unhealthy'}` },
            h('div', { class: 'region-head' },
                h('span', { class: 'region-name' }, fmt.text(r.region)),
                h('span', { class: `badge ${healthy ? 'ok' : 'bad'}` }, healthy ? 'Healthy' : 'Unhealthy')),
            h('dl', { class: 'region-stats' },
                h('div', null, h('dt', null, 'Success'), h('dd', null, fmt.rate(r.success_rate))),
                h('div', null, h('dt', null, 'Declined'), h('dd', null, fmt.rate(r.decline_rate))),
                h('div', null, h('dt', null, 'Failed'), h('dd', null, fmt.rate(r.failure_rate))),
                h('div', null, h('dt', null, 'Tx'), h('dd', null, fmt.integer(r.count)))),
            alerts.length ? h('ul', { class: 'region-alerts' }, alerts.slice(0, 3).map((a) =>
                h('li', null, h('time', { datetime: fmt.text(a.ts) }, fmt.clock(a.ts)), ' ',
                    fmt.text(a.message) !== '\u2014' ? a.message : `health alert (score ${fmt.integer(a.score)})`))) : null);
    });
    const ul = byId('regions-list');
    if (!items.length) items.push(h('li', { class: 'empty' }, 'No region activity in the last 60 minutes'));
    ul.replaceChildren(...items);
    const summary = byId('regions-summary');
    setText(summary, list.length ? (unhealthy ? `${unhealthy} of ${list.length} unhealthy` : `all ${list.length} healthy`) : '');
    summary.dataset.level = unhealthy ? 'bad' : 'good';
}
