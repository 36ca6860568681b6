// format.test.mjs - the dashboard's formatting rules, in Node (no browser)
//
//   node dashboard/test/format.test.mjs
//
// Money stays exact (integer minor units to a decimal string, never a
// float), each currency gets its own exponent, and anything malformed is a
// dash rather than an exception. Prints TAP lines; exit 1 on a failure.
import { money, minorToDecimal, currencyExponent, rate, change, clock, integer } from '../src/format.js';
import { describeReasons } from '../src/reasons.js';
import { resolveApiUrl } from '../src/api.js';

let failed = 0;
const eq = (what, got, want) => {
    if (got === want) console.log(`ok - ${what}`);
    else { failed++; console.log(`not ok - ${what} (got ${JSON.stringify(got)}, want ${JSON.stringify(want)})`); }
};
const DASH = '\u2014';
const nbsp = (s) => s.replace(/\u00a0/g, ' ');

eq('minor units to a decimal string', minorToDecimal(123456, 2), '1234.56');
eq('small amounts are padded', minorToDecimal(5, 2), '0.05');
eq('negative amounts keep their sign', minorToDecimal(-5, 2), '-0.05');
eq('exponent 0 leaves the digits alone', minorToDecimal(1000, 0), '1000');
eq('big integers stay exact past 2^53', minorToDecimal(12345678901234567890n, 2), '123456789012345678.90');
eq('a float is not an amount', minorToDecimal(1.5, 2), null);
eq('EUR has 2 minor digits', currencyExponent('EUR'), 2);
eq('JPY has none', currencyExponent('JPY'), 0);
eq('an exponent given wins', currencyExponent('EUR', 3), 3);
eq('EUR 1,234.56', nbsp(new Intl.NumberFormat('en-US', { style: 'currency', currency: 'EUR' }).format(minorToDecimal(123456, 2))), '€1,234.56');
eq('money() formats minor units exactly', /1,234\.56|1\.234,56/.test(money(123456, 'EUR', 2)), true);
eq('money() of JPY has no decimals', /1,000$|1\.000$/.test(nbsp(money(1000, 'JPY'))), true);
eq('money() of 0.1 + 0.2 in minor units is exact', /0\.30|0,30/.test(money(10 + 20, 'USD', 2)), true);
eq('a missing amount is a dash', money(undefined, 'EUR', 2), DASH);
eq('a bad currency is a dash', money(100, 'EURO', 2), DASH);
eq('a null currency is a dash', money(100, null, 2), DASH);
eq('rates are percentages', nbsp(rate(0.9312)), nbsp(new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(0.9312)));
eq('a null rate is a dash', rate(null), DASH);
eq('a string rate is a dash', rate('0.5'), DASH);
eq('a null change is a dash', change(null), DASH);
eq('a bad time is a dash', clock('yesterday'), DASH);
eq('a bad integer is a dash', integer('12'), DASH);
eq('reason codes get descriptions', describeReasons(['new_device'])[0].description, 'device not seen for this account');
eq('REST reason objects keep their description', describeReasons([{ code: 'x', description: 'why' }])[0].description, 'why');
eq('an unknown code reads as words', describeReasons(['brand_new_rule'])[0].description, 'brand new rule');
eq('junk reasons are skipped', describeReasons([null, 5, {}, 'amount_spike']).length, 1);
eq('reasons that are not an array are none', describeReasons('amount_spike').length, 0);
const loc = { origin: 'http://dash.example:8081', protocol: 'http:', hostname: 'dash.example' };
eq('api_url "" is this origin', resolveApiUrl('', loc), 'http://dash.example:8081');
eq('api_url ":8080" is this host on 8080', resolveApiUrl(':8080', loc), 'http://dash.example:8080');
eq('api_url as a URL loses its trailing slash', resolveApiUrl('https://api.example/', loc), 'https://api.example');
process.exit(failed ? 1 : 0);
