/*  charts - throughput and volume over the chosen range (uPlot)

    Over the last hour (the default) the charts are live: the gateway
    pushes the overall windows (one a minute), all of the last hour in a
    snapshot, then those that changed with each stats message. The series
    keeps them by window start. Throughput of a window is its count over
    its length; for the window still filling it is over the seconds
    elapsed, so the last point is live instead of dipping. Over a longer
    range the charts show the query API's series instead (api.js,
    fetchHistory: an hour or a day a point), and flagged and volume are
    per point. Volume is turned into major units for drawing only.  */

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { minorToChart, decimal, integer } from './format.js';

const KEEP_MS = 60 * 60 * 1000;
const AXIS = { stroke: '#9aa7b4', grid: { stroke: 'rgba(154,167,180,0.12)', width: 1 }, ticks: { stroke: 'rgba(154,167,180,0.25)', width: 1 } };

export class WindowSeries {
    constructor() {
        this.windows = new Map();
    }

    replace(list) {
        this.windows.clear();
        this.merge(list);
    }

    merge(list) {
        if (!Array.isArray(list)) return;
        for (const w of list) {
            const start = w && typeof w.window_start === 'string' ? Date.parse(w.window_start) : NaN;
            if (!Number.isFinite(start) || !Number.isFinite(w.count)) continue;
            this.windows.set(start, w);
        }
        const oldest = Date.now() - KEEP_MS - 60000;
        for (const start of this.windows.keys()) if (start < oldest) this.windows.delete(start);
    }

    //  [[x seconds], [tx/s], [flagged/min], [volume major]] oldest first.
    data(exponent, now = Date.now()) {
        const starts = [...this.windows.keys()].sort((a, b) => a - b);
        const x = [], tps = [], flagged = [], volume = [];
        for (const start of starts) {
            const w = this.windows.get(start);
            const length = Number.isFinite(w.window_ms) && w.window_ms > 0 ? w.window_ms : 60000;
            const elapsed = Math.min(length, Math.max(1000, now - start));
            const seconds = (w.closed === false ? elapsed : length) / 1000;
            x.push(start / 1000);
            tps.push(w.count / seconds);
            flagged.push(Number.isFinite(w.flagged) ? w.flagged : null);
            volume.push(minorToChart(w.volume_minor, exponent));
        }
        return { x, tps, flagged, volume };
    }
}

const LEGEND_PX = 34;

//  The plot fills its box; the legend goes below the plot, inside the box.
function s_size(el) {
    const r = el.getBoundingClientRect();
    return { width: Math.max(200, Math.floor(r.width)), height: Math.max(120, Math.floor(r.height) - LEGEND_PX) };
}

//  Live: up to the last hour, from the first window (at least 15 minutes
//  back) to now, so a young pipeline does not draw one dot at the right
//  edge. A longer range: all of it.
function s_timeRange(xs, minutes) {
    const now = Date.now() / 1000;
    if (minutes > 60) return [now - minutes * 60, now + 30];
    const first = xs && xs.length ? xs[0] - 60 : now;
    return [Math.max(now - 3600, Math.min(first, now - 900)), now + 30];
}

function s_chart(el, series, axes, minutesOf) {
    const plot = new uPlot({
        ...s_size(el),
        legend: { show: true, live: true },
        cursor: { points: { size: 6 } },
        scales: { x: { time: true, range: (u) => s_timeRange(u.data[0], minutesOf()) } },
        series: [{ label: 'time' }, ...series],
        axes,
    }, [[], ...series.map(() => [])], el);
    new ResizeObserver(() => plot.setSize(s_size(el))).observe(el);
    return plot;
}

export class Charts {
    constructor(throughputEl, volumeEl) {
        this.currency = 'EUR';
        this.minutes = 60;          //  the range shown; 60 is live
        const minutesOf = () => this.minutes;
        this.throughput = s_chart(throughputEl, [
            { label: 'tx/s', stroke: '#4aa3ff', width: 2, fill: 'rgba(74,163,255,0.12)', value: (u, v) => decimal(v), scale: 'y' },
            { label: 'flagged / window', stroke: '#ff7b72', width: 1.5, value: (u, v) => integer(v), scale: 'f' },
        ], [
            { ...AXIS },
            { ...AXIS, scale: 'y', label: 'tx/s', size: 50 },
            { ...AXIS, scale: 'f', side: 1, label: 'flagged', grid: { show: false }, size: 50 },
        ], minutesOf);
        this.volume = s_chart(volumeEl, [
            { label: 'volume / window', stroke: '#3fb950', width: 2, fill: 'rgba(63,185,80,0.14)',
              value: (u, v) => (v === null || v === undefined ? '\u2014' : this.s_money(v)) },
        ], [
            { ...AXIS },
            { ...AXIS, size: 70, values: (u, ticks) => ticks.map((v) => this.s_compact(v)) },
        ], minutesOf);
    }

    s_money(major) {
        try {
            return new Intl.NumberFormat(undefined, { style: 'currency', currency: this.currency }).format(major);
        } catch { return String(major); }
    }

    s_compact(major) {
        try {
            return new Intl.NumberFormat(undefined, { style: 'currency', currency: this.currency, notation: 'compact', maximumFractionDigits: 1 }).format(major);
        } catch { return String(major); }
    }

    //  The live windows; ignored while a longer range is shown.
    update(series, currency, exponent) {
        if (typeof currency === 'string') this.currency = currency;
        if (this.minutes > 60) return;
        const d = series.data(exponent);
        this.throughput.setData([d.x, d.tps, d.flagged]);
        this.volume.setData([d.x, d.volume]);
    }

    //  Back to live (minutes 60) or to a longer range, drawn empty until
    //  showHistory brings its points.
    setRange(minutes) {
        this.minutes = minutes;
        if (minutes > 60) {
            this.throughput.setData([[], [], []]);
            this.volume.setData([[], []]);
        }
    }

    //  A fetchHistory answer for the range shown.
    showHistory(history, exponent) {
        if (typeof history.currency === 'string') this.currency = history.currency;
        const seconds = (Number.isFinite(history.window_ms) && history.window_ms > 0 ? history.window_ms : 3600000) / 1000;
        const x = [], tps = [], flagged = [], volume = [];
        for (const p of history.points) {
            x.push(p.t / 1000);
            tps.push(p.count / seconds);
            flagged.push(Number.isFinite(p.flagged) ? p.flagged : null);
            volume.push(minorToChart(p.volume, exponent));
        }
        this.throughput.setData([x, tps, flagged]);
        this.volume.setData([x, volume]);
    }
}
