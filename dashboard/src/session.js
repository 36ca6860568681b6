/*  session - who is looking: the API key and its role

    The dashboard asks for an API key and keeps it in sessionStorage, so it
    lives as long as the browser tab and is never written to disk by the
    page or sent anywhere but the query API (Authorization header) and the
    gateway (a WebSocket subprotocol, the only place a browser's WebSocket
    can carry it). GET /api/v1/whoami tells the key's name and role; the
    page shows and acts only within that role (viewer: no alert actions).
    The servers enforce the roles whatever the page shows.  */

const STORAGE_KEY = 'txwatch.key';
const KEY_PATTERN = /^txw_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/;

export function storedKey() {
    try {
        return sessionStorage.getItem(STORAGE_KEY);
    } catch {
        return null;
    }
}

export function forget() {
    try { sessionStorage.removeItem(STORAGE_KEY); } catch { /* storage off */ }
}

//  Resolves to {key, key_id, name, role}; rejects with an Error fit to show.
export async function signIn(apiUrl, key) {
    key = (key || '').trim();
    if (!KEY_PATTERN.test(key)) throw new Error('That is not an API key (txw_\u2026, from txwctl keys create).');
    let res;
    try {
        res = await fetch(`${apiUrl}/api/v1/whoami`, { headers: { Authorization: `Bearer ${key}` } });
    } catch {
        throw new Error('The query API is unreachable.');
    }
    if (res.status === 401) throw new Error('This key is not valid (unknown or revoked).');
    if (!res.ok) throw new Error(`The query API answered HTTP ${res.status}.`);
    const who = await res.json();
    try { sessionStorage.setItem(STORAGE_KEY, key); } catch { /* storage off: this page only */ }
    return { key, key_id: who.key_id, name: who.name, role: who.role };
}

export function canAct(role) {
    return role === 'analyst' || role === 'admin';
}
