/*  connection - the gateway WebSocket, kept open with backoff and re-sync

    Opens ws(s)://<page host>/ws?topics=alerts,stats with the signed-in
    API key (session.js), hands every parsed
    message to onMessage and reports its state to onStatus: 'connecting',
    'connected', 'stale' (open but silent), 'reconnecting' (with the delay)
    or 'offline' (the browser says there is no network).

    proto/SERVING.md: every message carries seq, counting from 1 on each
    connection. A jump means messages were lost, and so does a `gap`
    message: the client sends {"op":"resync"} and the server answers with a
    fresh snapshot. Reconnects wait 0.5 s doubling to 15 s, with jitter; a
    connection that lived long enough resets the delay. The server sends
    stats every second, so 10 s of silence closes the socket and retries.  */

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;
const STALE_MS = 4000;
const DEAD_MS = 10000;
const STABLE_MS = 5000;

export class Connection {
    constructor(url, apiKey, { onMessage, onStatus, onResync }) {
        this.url = url;
        //  The key rides as a subprotocol; the gateway answers 'txwatch'.
        this.protocols = ['txwatch', `txwatch.key.${apiKey}`];
        this.onMessage = onMessage;
        this.onStatus = onStatus;
        this.onResync = onResync || (() => {});
        this.ws = null;
        this.seq = 0;
        this.delay = BACKOFF_MIN_MS;
        this.lastMessageAt = 0;
        this.openedAt = 0;
        this.retryTimer = null;
        this.resyncs = 0;
        this.watchdog = setInterval(() => this.s_watch(), 1000);
        window.addEventListener('online', () => this.s_retryNow());
        window.addEventListener('offline', () => this.onStatus('offline'));
    }

    start() {
        this.s_open();
    }

    send(obj) {
        if (this.ws && this.ws.readyState === WebSocket.OPEN) {
            this.ws.send(JSON.stringify(obj));
            return true;
        }
        return false;
    }

    resync(why) {
        this.resyncs++;
        this.onResync(why);
        if (!this.send({ op: 'resync' })) this.s_retryNow();
    }

    s_open() {
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
        this.seq = 0;
        this.onStatus('connecting');
        let ws;
        try {
            ws = new WebSocket(this.url, this.protocols);
        } catch (err) {
            console.warn('txwatch: cannot open', this.url, err);
            this.s_schedule();
            return;
        }
        this.ws = ws;
        ws.onopen = () => {
            this.openedAt = Date.now();
            this.lastMessageAt = Date.now();
        };
        ws.onmessage = (event) => this.s_receive(ws, event);
        ws.onclose = (event) => {
            if (this.ws !== ws) return;
            this.ws = null;
            if (event.code === 4008) console.info('txwatch: the gateway found this page too slow; reconnecting');
            if (this.openedAt && Date.now() - this.openedAt > STABLE_MS) this.delay = BACKOFF_MIN_MS;
            this.openedAt = 0;
            this.s_schedule();
        };
        ws.onerror = () => { /* onclose follows and reconnects */ };
    }

    s_receive(ws, event) {
        if (this.ws !== ws) return;
        this.lastMessageAt = Date.now();
        let msg;
        try {
            msg = JSON.parse(event.data);
        } catch {
            console.warn('txwatch: ignoring a message that is not JSON');
            return;
        }
        if (!msg || typeof msg !== 'object') return;
        if (Number.isInteger(msg.seq)) {
            const expected = this.seq + 1;
            this.seq = msg.seq;
            if (msg.seq > expected && msg.type !== 'hello') {
                this.onMessage(msg);
                this.resync(`seq jumped from ${expected - 1} to ${msg.seq}`);
                return;
            }
        }
        if (msg.type === 'hello') this.onStatus('connected');
        if (msg.type === 'gap') {
            this.resync(`gap: ${Number(msg.dropped) || 0} dropped (${String(msg.reason || 'unknown')})`);
            return;
        }
        this.onMessage(msg);
    }

    s_schedule() {
        const wait = Math.round(this.delay * (0.8 + Math.random() * 0.4));
        this.delay = Math.min(this.delay * 2, BACKOFF_MAX_MS);
        this.onStatus(navigator.onLine === false ? 'offline' : 'reconnecting', wait);
        this.retryTimer = setTimeout(() => this.s_open(), wait);
    }

    s_retryNow() {
        if (this.ws) {
            const ws = this.ws;
            this.ws = null;
            try { ws.close(); } catch { /* already closed */ }
        }
        this.delay = BACKOFF_MIN_MS;
        this.s_open();
    }

    s_watch() {
        if (!this.ws || this.ws.readyState !== WebSocket.OPEN || !this.lastMessageAt) return;
        const silent = Date.now() - this.lastMessageAt;
        if (silent > DEAD_MS) {
            console.info('txwatch: no message for 10 s; reconnecting');
            const ws = this.ws;
            ws.close();
            this.ws = null;
            this.s_schedule();
        } else if (silent > STALE_MS) {
            this.onStatus('stale', silent);
        } else if (this.seq > 0) {
            this.onStatus('connected');
        }
    }
}

//  The /ws URL of the gateway that served this page.
export function gatewayUrl(loc = window.location) {
    const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${loc.host}/ws?topics=alerts,stats`;
}
