/*  api - the query API: where it is, and acknowledging alerts

    GET /config.json on the gateway names the API: "" is this page's
    origin, ":PORT" this page's host on that port, anything else a base
    URL. Acknowledging posts to {api}/api/v1/alerts/{key}/ack with the key
    URL-encoded, with the signed-in key and the chosen disposition; the
    acker is the key. A live alert may not be stored yet (the aggregator
    flushes every 0.5 s), so a 404 is retried a few times over about 2 s.
    Longer chart ranges read GET {api}/api/v1/timeseries?minutes=N: hourly
    points over 7 and 30 days, daily ones over a year (the API picks).
    The customers page reads its endpoints with apiGet; the alerts page
    (workbench.js) changes alerts with apiSend.  */

const ACK_RETRY_MS = [400, 700, 1000];

export function resolveApiUrl(value, loc = window.location) {
    if (typeof value !== 'string' || value === '') return loc.origin;
    if (/^:\d+$/.test(value)) return `${loc.protocol}//${loc.hostname}${value}`;
    return value.replace(/\/+$/, '');
}

export async function loadConfig() {
    try {
        const res = await fetch('config.json', { cache: 'no-store' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const cfg = await res.json();
        return { apiUrl: resolveApiUrl(cfg && cfg.api_url) };
    } catch (err) {
        console.warn('txwatch: no usable config.json, using this origin for the API', err);
        return { apiUrl: resolveApiUrl('') };
    }
}

//  The overall series of the last `minutes`, as {points, window_ms}: one
//  point per window (hour, day) with t (ms), count, flagged and volume
//  (minor units). Three metrics, asked at once; rejects with an Error fit
//  to show.
export async function fetchHistory(apiUrl, apiKey, minutes) {
    const ask = async (metric) => {
        let res;
        try {
            res = await fetch(`${apiUrl}/api/v1/timeseries?minutes=${minutes}&metric=${metric}`,
                { headers: { Authorization: `Bearer ${apiKey}` } });
        } catch {
            throw new Error('query API unreachable');
        }
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return res.json();
    };
    const [count, flagged, volume] = await Promise.all(['count', 'flagged', 'volume'].map(ask));
    const points = (Array.isArray(count.points) ? count.points : []).map((p, i) => ({
        t: Date.parse(p.t),
        count: p.v,
        flagged: flagged.points && flagged.points[i] ? flagged.points[i].v : null,
        volume: volume.points && volume.points[i] ? volume.points[i].v : null,
    })).filter((p) => Number.isFinite(p.t) && Number.isFinite(p.count));
    return { points, window_ms: count.window_ms, currency: count.currency };
}

//  GET {api}/api/v1/{path} with the key: resolves to the JSON answer;
//  rejects with an Error fit to show (the API's message when it sent one,
//  after the parameter a 400 names) whose status is the HTTP status (0:
//  the API did not answer).
export async function apiGet(apiUrl, apiKey, path) {
    return apiSend(apiUrl, apiKey, 'GET', path);
}

//  The same for a change: METHOD {api}/api/v1/{path} with body (an object,
//  sent as JSON) if given.
export async function apiSend(apiUrl, apiKey, method, path, body) {
    let res;
    const headers = { Authorization: `Bearer ${apiKey}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
        res = await fetch(`${apiUrl}/api/v1/${path}`,
            { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
        throw Object.assign(new Error('query API unreachable'), { status: 0 });
    }
    let answer = null;
    try { answer = await res.json(); } catch { /* not JSON */ }
    if (res.ok && answer && typeof answer === 'object') return answer;
    let message = answer && typeof answer.message === 'string' ? answer.message : `HTTP ${res.status}`;
    if (answer && typeof answer.parameter === 'string') message = `${answer.parameter}: ${message}`;   // a 400's
    throw Object.assign(new Error(message), { status: res.ok ? 502 : res.status });
}

const s_sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

//  Resolves to the acked alert (the API's JSON); rejects with an Error whose
//  message is fit to show.
export async function ackAlert(apiUrl, key, apiKey, disposition) {
    const url = `${apiUrl}/api/v1/alerts/${encodeURIComponent(key)}/ack`;
    for (let attempt = 0; ; attempt++) {
        let res;
        try {
            res = await fetch(url, {
                method: 'POST',
                headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiKey}` },
                body: JSON.stringify(disposition ? { disposition } : {}),
            });
        } catch {
            throw new Error('query API unreachable');
        }
        if (res.ok) {
            try { return await res.json(); } catch { return {}; }
        }
        if (res.status === 404 && attempt < ACK_RETRY_MS.length) {
            await s_sleep(ACK_RETRY_MS[attempt]);
            continue;
        }
        let message = `HTTP ${res.status}`;
        try {
            const body = await res.json();
            if (body && typeof body.message === 'string') message = body.message;
        } catch { /* not JSON */ }
        throw new Error(res.status === 404 ? 'alert not stored yet' : message);
    }
}
