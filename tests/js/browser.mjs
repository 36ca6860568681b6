// browser.mjs - what the dashboard's browser tests share
//
// TAP lines (check, note; failures() for the exit status), waitTrue, waitUntil, and
// Chromium started the way every one of them needs it (launch, runSteps). Imported by
// dashboard_test.mjs, customers_test.mjs and alerts_test.mjs.
import { chromium } from 'playwright-core';

let failed = 0;
export const check = (what, cond, detail = '') => {
    if (cond) console.log(`ok - ${what}`);
    else { failed++; console.log(`not ok - ${what}${detail ? ` (${detail})` : ''}`); }
};
export const failures = () => failed;
export const note = (text) => console.log(`# ${text}`);
// waitForFunction that answers true/false instead of throwing. It waits at
// least 15 s whatever ms asks: a deadline is how long a check gives a page
// to catch up on a shared, busy machine, never a claim about its speed
// (make bench measures that), and a passing check waits no longer for it.
const WAIT_FLOOR_MS = 15000;
export const waitTrue = (page, fn, arg, ms = WAIT_FLOOR_MS) =>
    page.waitForFunction(fn, arg, { timeout: Math.max(ms, WAIT_FLOOR_MS), polling: 100 })
        .then(() => true, () => false);
// The same for a condition the test itself holds (messages a socket
// proxy saw, say): polled every 100 ms, for at least as long.
export async function waitUntil(cond, ms = WAIT_FLOOR_MS) {
    const end = Date.now() + Math.max(ms, WAIT_FLOOR_MS);
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    return cond();
}

// Debian's headless Chromium. Under a faked clock it runs on the real one:
// libfaketime's preload breaks its multi-process start.
export function launch() {
    const env = { ...process.env };
    delete env.LD_PRELOAD;
    delete env.FAKETIME;
    return chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], env });
}

// A test that threw: a failed check named by the error's first line, the
// rest of its message (Playwright's call log: what an action waited for and
// what stood in its way) as notes, and a screenshot of every page still
// open, WORKDIR/stopped-N.png, when work names a folder.
export async function stopped(err, browser, work) {
    const [first, ...log] = String(err && err.message || err).split('\n');
    check('the browser test runs to its end', false, first);
    for (const line of log) if (line.trim()) note(line);
    if (!work) return;
    const pages = browser.contexts().flatMap((c) => c.pages());
    for (const [i, page] of pages.entries()) {
        const path = `${work}/stopped-${i + 1}.png`;
        // A page whose main thread is held answers no script at all.
        const answer = await Promise.race([
            page.evaluate(() => `${document.readyState}, the page's clock at ${new Date().toISOString()}`)
                .catch((e) => `an error: ${e.message.split('\n')[0]}`),
            new Promise((r) => setTimeout(() => r('nothing within 5 s'), 5000))]);
        note(`page ${i + 1} (${page.url()}) answers a script: ${answer}`);
        try {
            await page.screenshot({ path, timeout: 5000 });
            note(`the page as it stood: ${path}`);
        } catch { /* a page that cannot be drawn has nothing to show */ }
    }
}

// Runs the steps, each step(browser, errors), in turn in one Chromium, closed
// after; a step that throws is a failed check and ends the run (stopped).
// Returns the console errors the steps gathered into errors.
export async function runSteps(steps, work) {
    const browser = await launch();
    const errors = [];
    try {
        for (const step of steps) await step(browser, errors);
    } catch (err) {
        await stopped(err, browser, work);
    } finally {
        await browser.close();
    }
    return errors;
}
