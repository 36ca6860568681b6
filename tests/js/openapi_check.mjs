// openapi_check.mjs - validates recorded API responses against proto/openapi.yaml
//
// Usage: node openapi_check.mjs SPEC.yaml RECORDS.tsv
// RECORDS.tsv holds one response per line: METHOD<TAB>PATH TEMPLATE<TAB>STATUS<TAB>BODY FILE
// (the template as written in the spec, e.g. /api/v1/top/{dimension}).
// Each body is validated (ajv, JSON Schema 2020-12, with formats) against
// the schema the spec gives for that path, method and status; a response the
// spec does not describe is a failure. Prints one TAP line per response and
// notes the described responses no record exercised. Exits 1 on a failure.
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

const [specPath, recordsPath] = process.argv.slice(2);
if (!specPath || !recordsPath) {
    console.error('usage: node openapi_check.mjs SPEC.yaml RECORDS.tsv');
    process.exit(2);
}
const specText = readFileSync(specPath, 'utf8');
const spec = YAML.parse(specText);
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, 'openapi.json');

const pointer = (parts) => parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

// Follows a local $ref such as '#/components/responses/BadParameter';
// returns [object, its JSON pointer path parts].
function follow(obj, parts) {
    while (obj && obj.$ref) {
        parts = obj.$ref.replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
        obj = parts.reduce((o, k) => (o ? o[k] : undefined), spec);
    }
    return [obj, parts];
}

const validators = new Map();
function validatorFor(parts) {
    const ref = `openapi.json#/${pointer(parts)}`;
    if (!validators.has(ref)) validators.set(ref, ajv.compile({ $ref: ref }));
    return validators.get(ref);
}

const exercised = new Set();
let failures = 0, count = 0;
const lines = readFileSync(recordsPath, 'utf8').split('\n').filter((l) => l.trim());
for (const line of lines) {
    const [method, template, status, file] = line.split('\t');
    const what = `${method} ${template} ${status} (${file.split('/').pop()})`;
    count++;
    const fail = (why) => { failures++; console.log(`not ok - ${what}: ${why}`); };
    const operation = spec.paths?.[template]?.[method.toLowerCase()];
    let described, respParts;
    if (operation) {
        described = operation.responses?.[status];
        respParts = ['paths', template, method.toLowerCase(), 'responses', status];
    } else if (spec.paths?.[template] && status === '405' && spec['x-method-not-allowed']) {
        // Another method on a described path: the spec's x-method-not-allowed.
        described = spec['x-method-not-allowed'];
        respParts = ['x-method-not-allowed'];
    } else { fail('path and method not described'); continue; }
    const [response, parts] = follow(described, respParts);
    if (!response) { fail('status not described'); continue; }
    exercised.add(`${method} ${template} ${status}`);
    const body = readFileSync(file, 'utf8');
    const content = response.content || {};
    if (content['application/json']) {
        let data;
        try { data = JSON.parse(body); } catch (e) { fail(`body is not JSON: ${e.message}`); continue; }
        const validate = validatorFor([...parts, 'content', 'application/json', 'schema']);
        if (validate(data)) console.log(`ok - ${what}`);
        else fail(ajv.errorsText(validate.errors, { separator: '; ' }));
    } else if (content['application/yaml']) {
        let doc;
        try { doc = YAML.parse(body); } catch (e) { fail(`body is not YAML: ${e.message}`); continue; }
        if (isDeepStrictEqual(doc, spec)) console.log(`ok - ${what}: serves this very description`);
        else fail('the served description differs from the spec file');
    } else if (Object.keys(content).length === 0) {
        if (body.length === 0) console.log(`ok - ${what}: no body`);
        else fail('a body where the spec describes none');
    } else {
        fail(`no validator for ${Object.keys(content).join(', ')}`);
    }
}
for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
        for (const status of Object.keys(op.responses || {})) {
            const key = `${method.toUpperCase()} ${path} ${status}`;
            if (!exercised.has(key)) console.log(`# not exercised: ${key}`);
        }
    }
}
console.log(`# ${count} responses checked, ${failures} failed`);
process.exit(failures || count === 0 ? 1 : 0);
