// role_matrix.mjs - every operation of proto/openapi.yaml against every role
//
// Usage: node role_matrix.mjs SPEC.yaml BASE_URL KEYS.json PARAMS.json [SERVICE]
// KEYS.json maps each role (viewer, analyst, admin) to an API key;
// PARAMS.json gives a value for each path parameter name (an existing
// transaction, account, alert, a key that may be revoked, ...).
// The operations and their roles come from the document itself: every
// operation with a non-empty security requirement must answer 401 without a
// key and with a malformed key, 403 to each role below its x-txwatch-role,
// and its first 2xx status to that role (a request body is the operation's
// example, its query x-txwatch-example-query). An operation without
// x-txwatch-role is a failure: the document must say who may call it.
// SERVICE (default txw-query) picks the operations of one service: those
// whose x-txwatch-service names it (none names txw-query).
// Prints TAP lines; exits 1 on a failure.
import YAML from 'yaml';
import { readFileSync } from 'node:fs';

const [specPath, base, keysPath, paramsPath, service = 'txw-query'] = process.argv.slice(2);
if (!paramsPath) {
    console.error('usage: node role_matrix.mjs SPEC.yaml BASE_URL KEYS.json PARAMS.json [SERVICE]');
    process.exit(2);
}
const spec = YAML.parse(readFileSync(specPath, 'utf8'));
const keys = JSON.parse(readFileSync(keysPath, 'utf8'));
const params = JSON.parse(readFileSync(paramsPath, 'utf8'));
const ROLES = ['viewer', 'analyst', 'admin'];
let failed = 0, passed = 0;

function report(ok, what, detail) {
    if (ok) { passed++; console.log(`ok - ${what}`); }
    else { failed++; console.log(`not ok - ${what}`); if (detail) console.log(`# ${detail}`); }
}

async function call(method, url, key, body) {
    const headers = {};
    if (key !== undefined) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(url, { method: method.toUpperCase(), headers,
                                   body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, text };
}

const operations = [];
for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
        const op = item[method];
        if (!op) continue;
        const security = op.security ?? spec.security ?? [];
        if (security.length === 0) continue;          // open: the OpenAPI document
        if ((op['x-txwatch-service'] ?? 'txw-query') !== service) continue;
        operations.push({ path, method, op });
    }
}
report(operations.length >= (service === 'txw-query' ? 10 : 1),
       `the document describes ${operations.length} secured operations of ${service}`);

for (const { path, method, op } of operations) {
    const name = `${method.toUpperCase()} ${path}`;
    const role = op['x-txwatch-role'];
    if (!ROLES.includes(role)) {
        report(false, `${name} names its role`, `x-txwatch-role is ${role}`);
        continue;
    }
    let url = base + path.replace(/\{([^}]+)\}/g, (_, p) => {
        if (!(p in params)) throw new Error(`no value for path parameter ${p} (${name})`);
        return encodeURIComponent(params[p]);
    });
    // An operation that needs a query parameter names one that succeeds.
    if (op['x-txwatch-example-query']) url += `?${op['x-txwatch-example-query']}`;
    const example = op.requestBody?.content?.['application/json']?.example;
    const success = Object.keys(op.responses).find((code) => /^2\d\d$/.test(code));
    let r = await call(method, url, undefined, example);
    report(r.status === 401, `${name} without a key: 401`, `got ${r.status} ${r.text.slice(0, 200)}`);
    r = await call(method, url, 'txw_0000000000000000_not-a-key', example);
    report(r.status === 401, `${name} with a malformed key: 401`, `got ${r.status} ${r.text.slice(0, 200)}`);
    for (const lower of ROLES.slice(0, ROLES.indexOf(role))) {
        r = await call(method, url, keys[lower], example);
        report(r.status === 403, `${name} as ${lower} (needs ${role}): 403`, `got ${r.status} ${r.text.slice(0, 200)}`);
    }
    r = await call(method, url, keys[role], example);
    report(r.status === Number(success), `${name} as ${role}: ${success}`, `got ${r.status} ${r.text.slice(0, 300)}`);
}
console.log(`# role matrix: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
