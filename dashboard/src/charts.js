/*  charts - throughput and volume over the last 60 minutes (uPlot)

    The gateway pushes the overall windows (one a minute): all of the last
    hour in a snapshot, then those that changed with each stats message.
    The series keeps them by window start. Throughput of a window is its
    count over its length; for the window still filling it is over the
    seconds elapsed, so the last point is live instead of dipping.
    Volume is turned into major units for drawing only.  */

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

//  Up to the last hour: from the first window (at least 15 minutes back)
//  to now, so a young pipeline does not draw one dot at the right edge.
function s_timeRange(xs) {
    const now = Date.now() / 1000;
    const first = xs && xs.length ? xs[0] - 60 : now;
    return [Math.max(now - 3600, Math.min(first, now - 900)), now + 30];
}

function s_chart(el, series, axes) {
    const plot = new uPlot({
        ...s_size(el),
        legend: { show: true, live: true },
        cursor: { points: { size: 6 } },
        scales: { x: { time: true, range: (u) => s_timeRange(u.data[0]) } },
        series: [{ label: 'time' }, ...series],
        axes,
    }, [[], ...series.map(() => [])], el);
    new ResizeObserver(() => plot.setSize(s_size(el))).observe(el);
    return plot;
}

export class Charts {
    constructor(throughputEl, volumeEl) {
        this.currency = 'EUR';
        this.throughput = s_chart(throughputEl, [
            { label: 'tx/s', stroke: '#4aa3ff', width: 2, fill: 'rgba(74,163,255,0.12)', value: (u, v) => decimal(v), scale: 'y' },
            { label: 'flagged / min', stroke: '#ff7b72', width: 1.5, value: (u, v) => integer(v), scale: 'f' },
        ], [
            { ...AXIS },
            { ...AXIS, scale: 'y', label: 'tx/s', size: 50 },
            { ...AXIS, scale: 'f', side: 1, label: 'flagged', grid: { show: false }, size: 50 },
        ]);
        this.volume = s_chart(volumeEl, [
            { label: 'volume / min', stroke: '#3fb950', width: 2, fill: 'rgba(63,185,80,0.14)',
              value: (u, v) => (v === null || v === undefined ? '\u2014' : this.s_money(v)) },
        ], [
            { ...AXIS },
            { ...AXIS, size: 70, values: (u, ticks) => ticks.map((v) => this.s_compact(v)) },
        ]);
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

    update(series, currency, exponent) {
        if (typeof currency === 'string') this.currency = currency;
        const d = series.data(exponent);
        this.throughput.setData([d.x, d.tps, d.flagged]);
        this.volume.setData([d.x, d.volume]);
    }
}
