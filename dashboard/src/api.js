/*  api - the query API: where it is, and acknowledging alerts

    GET /config.json on the gateway names the API: "" is this page's
    origin, ":PORT" this page's host on that port, anything else a base
    URL. Acknowledging posts to {api}/api/v1/alerts/{key}/ack with the key
    URL-encoded, with the signed-in key and the chosen disposition; the
    acker is the key. A live alert may not be stored yet (the aggregator
    flushes every 0.5 s), so a 404 is retried a few times over about 2 s.  */

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
