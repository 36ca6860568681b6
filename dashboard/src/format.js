/*  format - turns API values into display text

    Money arrives as integer minor units plus a currency (and sometimes its
    exponent). It is turned into an exact decimal string and handed to
    Intl.NumberFormat, so no float arithmetic ever touches an amount.
    Every function accepts missing or malformed input and returns a dash.  */

const DASH = '\u2014';
const s_money_formats = new Map();

//  An Intl.NumberFormat for the currency (cached), or null for a bad code.
function s_money_format(currency, compact) {
    const id = `${currency}|${compact ? 'c' : ''}`;
    if (!s_money_formats.has(id)) {
        let nf = null;
        try {
            nf = new Intl.NumberFormat(undefined, {
                style: 'currency', currency,
                ...(compact ? { notation: 'compact', maximumFractionDigits: 1 } : {}),
            });
        } catch { nf = null; }
        s_money_formats.set(id, nf);
    }
    return s_money_formats.get(id);
}

//  Minor-unit digits of a currency: the exponent given, else ISO 4217 as
//  the browser knows it, else 2.
export function currencyExponent(currency, exponent) {
    if (Number.isInteger(exponent) && exponent >= 0 && exponent <= 8) return exponent;
    const nf = typeof currency === 'string' ? s_money_format(currency, false) : null;
    return nf ? nf.resolvedOptions().maximumFractionDigits : 2;
}

//  Exact decimal string of an integer amount of minor units: 123456, 2 ->
//  "1234.56". Returns null when minor is not an integer.
export function minorToDecimal(minor, exponent) {
    let digits;
    if (typeof minor === 'bigint') digits = minor.toString();
    else if (Number.isSafeInteger(minor)) digits = String(minor);
    else if (typeof minor === 'string' && /^-?\d+$/.test(minor)) digits = minor;
    else return null;
    const negative = digits.startsWith('-');
    if (negative) digits = digits.slice(1);
    if (exponent > 0) {
        digits = digits.padStart(exponent + 1, '0');
        digits = `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
    }
    return (negative ? '-' : '') + digits;
}

//  "EUR 1,234.56" in the reader's locale; compact ("€1.2M") for cards.
export function money(minor, currency, exponent, { compact = false } = {}) {
    if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) return DASH;
    const decimal = minorToDecimal(minor, currencyExponent(currency, exponent));
    const nf = s_money_format(currency.toUpperCase(), compact);
    if (decimal === null || !nf) return DASH;
    return nf.format(decimal);  // a string keeps every digit (Intl.NumberFormat v3)
}

//  Minor units as a plain number of major units, for charts only.
export function minorToChart(minor, exponent) {
    return Number.isFinite(minor) ? minor / 10 ** (Number.isInteger(exponent) ? exponent : 2) : null;
}

const s_percent = new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
const s_percent_fine = new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const s_integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const s_decimal = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const s_signed = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0, signDisplay: 'exceptZero' });

//  A 0..1 rate as a percentage; fine gives two decimals (small rates).
export function rate(value, { fine = false } = {}) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return DASH;
    return (fine ? s_percent_fine : s_percent).format(value);
}

export function integer(value) {
    return typeof value === 'number' && Number.isFinite(value) ? s_integer.format(value) : DASH;
}

export function decimal(value) {
    return typeof value === 'number' && Number.isFinite(value) ? s_decimal.format(value) : DASH;
}

//  A relative change (0.5 -> "+50%"), dash for null (nothing to compare).
export function change(value) {
    return typeof value === 'number' && Number.isFinite(value) ? s_signed.format(value) : DASH;
}

//  Milliseconds since the epoch of an RFC 3339 string, or NaN.
export function parseTime(text) {
    return typeof text === 'string' ? Date.parse(text) : NaN;
}

const s_clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const s_day = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

//  "14:03:05" in local time, prefixed with the day when not today.
export function clock(text, now = Date.now()) {
    const ms = parseTime(text);
    if (!Number.isFinite(ms)) return DASH;
    const time = s_clock.format(ms);
    return new Date(ms).toDateString() === new Date(now).toDateString() ? time : `${s_day.format(ms)} ${time}`;
}

//  "3 s ago", "5 min ago" for a time in ms.
export function ago(ms, now = Date.now()) {
    if (!Number.isFinite(ms)) return DASH;
    const s = Math.max(0, Math.round((now - ms) / 1000));
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    return `${Math.floor(s / 3600)} h ago`;
}

export function text(value) {
    return typeof value === 'string' && value !== '' ? value : (typeof value === 'number' ? String(value) : DASH);
}
