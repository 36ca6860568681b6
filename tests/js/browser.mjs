// browser.mjs - what the dashboard's browser tests share
//
// TAP lines (check, note; failures() for the exit status), waitTrue, and
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
// waitForFunction that answers true/false instead of throwing.
export const waitTrue = (page, fn, arg, ms = 10000) =>
    page.waitForFunction(fn, arg, { timeout: ms, polling: 100 }).then(() => true, () => false);

// Debian's headless Chromium. Under a faked clock it runs on the real one:
// libfaketime's preload breaks its multi-process start.
export function launch() {
    const env = { ...process.env };
    delete env.LD_PRELOAD;
    delete env.FAKETIME;
    return chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], env });
}

// Runs the steps, each step(browser, errors), in turn in one Chromium, closed
// after; a step that throws is a failed check and ends the run. Returns the
// console errors the steps gathered into errors.
export async function runSteps(steps) {
    const browser = await launch();
    const errors = [];
    try {
        for (const step of steps) await step(browser, errors);
    } catch (err) {
        check('the browser test runs to its end', false, err.message.split('\n')[0]);
    } finally {
        await browser.close();
    }
    return errors;
}
