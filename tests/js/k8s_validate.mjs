// k8s_validate.mjs - validates rendered Kubernetes manifests offline against
// the Kubernetes API schemas (the npm package kubernetes-models).
//
//   node k8s_validate.mjs LABEL FILE.yaml     one TAP line per object
//   node k8s_validate.mjs --self-test         shows that bad objects fail
//
// FILE is multi-document YAML (the output of `kubectl kustomize`). Each
// object is looked up by apiVersion and kind (kubernetes-models/<group>/
// <version>/<Kind>, the core group as v1/<Kind>) and validated against its
// schema, strictly: a field the schema does not define is refused too, by
// its path (see "Unknown fields" below), as the API server's strict field
// validation would. An object of a kind the package does not know is a
// failure, so is a document that is not an object with apiVersion, kind and
// metadata.name. Exit status 1 if any line is "not ok".

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseAllDocuments } from "yaml";

let failures = 0;
const ok = (what) => console.log(`ok - ${what}`);
const notOk = (what, why) => {
    failures++;
    console.log(`not ok - ${what}`);
    for (const line of String(why).split("\n").slice(0, 20))
        console.log(`# ${line}`);
};

//  Returns the model class for apiVersion/kind, or null if there is none.
async function modelFor (apiVersion, kind) {
    if (typeof apiVersion !== "string" || typeof kind !== "string"
    ||  !/^[A-Za-z0-9.\-\/]+$/.test(apiVersion) || !/^[A-Za-z0-9]+$/.test(kind))
        return null;
    try {
        const mod = await import(`kubernetes-models/${apiVersion}/${kind}`);
        const model = mod[kind];
        return typeof model === "function" && model.kind === kind
            && model.apiVersion === apiVersion? model: null;
    }
    catch (err) {
        if (err.code === "ERR_PACKAGE_PATH_NOT_EXPORTED"
        ||  err.code === "ERR_MODULE_NOT_FOUND")
            return null;
        throw err;
    }
}

//  The object as the API server decodes it. kustomize wraps long base64
//  values of a Secret's data over several lines; the server's decoder (Go's
//  encoding/base64) skips \r and \n, the schema's "byte" format does not.
function apiForm (obj) {
    if (obj.kind !== "Secret" || !obj.data || typeof obj.data !== "object")
        return obj;
    const data = {};
    for (const [key, value] of Object.entries(obj.data))
        data[key] = typeof value === "string"? value.replace(/[\r\n]/g, ""): value;
    return { ...obj, data };
}

//  --- Unknown fields ---------------------------------------------------------
//  A model's validate() refuses wrong types and missing required fields but
//  not a field the schema does not define: the Kubernetes schemas do not say
//  additionalProperties: false, since the API server's decoder is what
//  refuses unknown fields (kubectl's default, --validate=strict). So
//  `imagePullPolcy: Always` or `spec.replicaz: 3` would pass here and fail
//  at apply time, or with validation off be dropped without a word.
//
//  The package ships no JSON schema to walk: kubernetes-models/_schemas/
//  *.mjs (and @kubernetes-models/apimachinery's) are ajv's standalone code,
//  compiled from the OpenAPI definitions with each $ref turned into a call
//  of the referenced definition's function. That code reads `data.<name>`
//  for every property its schema declares, whether the object has it or not
//  (`void 0 === data.name || ...`), and reads every key of an object whose
//  schema is a map (additionalProperties: labels, annotations, ConfigMap
//  and Secret data, resource requests and limits, selectors). So the object
//  is validated as a copy in which each object records the names read from
//  it: a key that was never read is a field its schema does not define. An
//  object of which nothing at all was read has a free-form schema
//  (x-kubernetes-preserve-unknown-fields, RawExtension), where any field
//  goes. IntOrString and Quantity values are strings or numbers, never
//  objects, so they need nothing. The self-test shows both sides: unknown
//  fields at several depths are refused, maps and free-form objects are not.

//  "a.b[0].c", or a["odd key"] for a key that is not a plain name.
const fieldPath = (path, key) => /^[A-Za-z_$][\w$]*$/.test(key)
    ? (path ? `${path}.${key}` : key)
    : `${path}[${JSON.stringify(key)}]`;

//  A deep copy of value whose objects are proxies recording every property
//  name read from them; appends {path, keys, read} for each object to
//  `objects`, parents before their children (so the root is objects[0]).
function traced (value, path, objects) {
    if (Array.isArray(value))
        return value.map((item, i) => traced(item, `${path}[${i}]`, objects));
    if (value === null || typeof value !== "object")
        return value;
    const copy = {}, read = new Set();
    objects.push({ path, keys: Object.keys(value), read });
    for (const [key, item] of Object.entries(value))
        copy[key] = traced(item, fieldPath(path, key), objects);
    return new Proxy(copy, {
        get (target, name, receiver) {
            if (typeof name === "string")
                read.add(name);
            return Reflect.get(target, name, receiver);
        },
    });
}

//  Validates obj with Model's compiled schema; returns the problems: the
//  schema's errors and the path of every field the schema does not define.
function schemaProblems (Model, obj) {
    const objects = [];
    const copy = traced(obj, "", objects);
    const problems = [];
    //  setValidateFunc() made Model.prototype.validate run the compiled
    //  function on `this`, so called on the copy it validates the copy
    //  itself (new Model(copy) would read every key to copy it).
    try {
        Model.prototype.validate.call(copy);
    }
    catch (err) {
        problems.push(err.message || String(err));
    }
    //  Every schema of a kind declares apiVersion, kind and metadata: if
    //  none was read, no compiled schema ran and nothing above means a thing.
    if (objects[0].read.size === 0)
        return [...problems, "its schema read no field of it: unknown fields cannot be told"];
    const unknown = [];
    for (const { path, keys, read } of objects)
        if (read.size > 0)
            unknown.push(...keys.filter((key) => !read.has(key)).map((key) => fieldPath(path, key)));
    if (unknown.length)
        problems.push(`unknown field${unknown.length > 1 ? "s" : ""} (not in the schema): ${unknown.join(", ")}`);
    return problems;
}

//  Validates one object; returns null if valid, else the reason.
async function problemOf (obj) {
    if (!obj || typeof obj !== "object" || Array.isArray(obj))
        return "document is not an object";
    if (!obj.apiVersion || !obj.kind)
        return "apiVersion or kind missing";
    if (!obj.metadata || typeof obj.metadata.name !== "string" || !obj.metadata.name)
        return "metadata.name missing";
    const Model = await modelFor(obj.apiVersion, obj.kind);
    if (!Model)
        return `unknown kind ${obj.apiVersion} ${obj.kind}`;
    const problems = schemaProblems(Model, apiForm(obj));
    return problems.length ? problems.join("\n") : null;
}

const nameOf = (obj) => obj && obj.metadata
    ? `${obj.apiVersion} ${obj.kind} ${obj.metadata.namespace ? obj.metadata.namespace + "/" : ""}${obj.metadata.name}`
    : "(no metadata)";

//  Parses multi-document YAML; returns the objects, or throws on a syntax error.
export function parseObjects (text) {
    const docs = parseAllDocuments(text);
    const objects = [];
    for (const doc of docs) {
        if (doc.errors && doc.errors.length)
            throw new Error(doc.errors.map((e) => e.message).join("; "));
        const value = doc.toJS();
        if (value !== null && value !== undefined)
            objects.push(value);
    }
    return objects;
}

async function validateFile (label, file) {
    let objects;
    try {
        objects = parseObjects(readFileSync(file, "utf8"));
    }
    catch (err) {
        notOk(`${label}: ${file} parses as YAML`, err.message);
        return;
    }
    if (objects.length === 0) {
        notOk(`${label}: ${file} holds objects`, "no documents");
        return;
    }
    for (const obj of objects) {
        const problem = await problemOf(obj);
        const what = `${label}: ${nameOf(obj)} is valid against the API schema, with no unknown field`;
        if (problem)
            notOk(what, problem);
        else
            ok(what);
    }
}

//  Each case of `rejected` must be rejected, with the path of the unknown
//  field in the reason where one is given; each of `accepted` must pass. A
//  rejected case that validates, or an accepted one that does not, is a
//  broken validator.
async function selfTest () {
    const pod = () => ({ containers: [{ name: "c", image: "txwatch/x:0.1.0" }] });
    const deployment = (spec) => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "a" },
        spec: { selector: { matchLabels: { a: "b" } },
                template: { metadata: { labels: { a: "b" } }, spec: pod() }, ...spec } });
    const typo = deployment();
    typo.spec.template.spec.containers[0].imagePullPolcy = "Always";
    const cronTypo = { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "a" },
        spec: { schedule: "0 * * * *", jobTemplate: { spec: { template: { spec: {
            ...pod(), restartPolicy: "Never", securityContext: { runAsNonRoot: true, fsGroups: 10001 } } } } } } };
    const rejected = [
        ["an unknown kind", { apiVersion: "apps/v1", kind: "Deploymnet", metadata: { name: "a" } }],
        ["an unknown apiVersion", { apiVersion: "apps/v9", kind: "Deployment", metadata: { name: "a" } }],
        ["a Deployment without a selector", { apiVersion: "apps/v1", kind: "Deployment",
            metadata: { name: "a" }, spec: { template: { spec: pod() } } }],
        ["replicas given as a string", deployment({ replicas: "two" })],
        ["a container port out of range", { apiVersion: "v1", kind: "Pod", metadata: { name: "a" },
            spec: { containers: [{ name: "c", image: "i:1", ports: [{ containerPort: "x" }] }] } }],
        ["a Service port without a number", { apiVersion: "v1", kind: "Service",
            metadata: { name: "a" }, spec: { ports: [{ name: "http" }] } }],
        ["an HPA without maxReplicas", { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler",
            metadata: { name: "a" }, spec: { scaleTargetRef: { kind: "Deployment", name: "a" } } }],
        ["a Secret value that is not base64", { apiVersion: "v1", kind: "Secret",
            metadata: { name: "a" }, data: { K: "not base64!\n" } }],
        ["an object without a name", { apiVersion: "v1", kind: "ConfigMap", metadata: {} }],
        //  Unknown fields, which validate() alone lets through.
        ["an unknown field deep in a pod template (a misspelt imagePullPolicy)", typo,
            "spec.template.spec.containers[0].imagePullPolcy"],
        ["an unknown field at the top of a spec (replicaz)", deployment({ replicaz: 3 }), "spec.replicaz"],
        ["an unknown field in a CronJob's pod security context", cronTypo,
            "spec.jobTemplate.spec.template.spec.securityContext.fsGroups"],
        ["an unknown field in metadata (label for labels)", { apiVersion: "v1", kind: "ConfigMap",
            metadata: { name: "a", label: { a: "b" } }, data: { k: "v" } }, "metadata.label"],
        ["an unknown field at the top of an object", { apiVersion: "v1", kind: "ConfigMap",
            metadata: { name: "a" }, dat: { k: "v" } }, "dat"],
        ["an unknown field in a NetworkPolicy peer", { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
            metadata: { name: "a" }, spec: { podSelector: {}, ingress: [{ from: [{ podSelecter: {} }] }] } },
            "spec.ingress[0].from[0].podSelecter"],
    ];
    //  What must stay open: the maps (labels, annotations, selectors,
    //  resource quantities with an extended resource, ConfigMap data, Secret
    //  stringData), IntOrString values of either type, and a free-form
    //  object (a ControllerRevision's data, a RawExtension).
    const open = deployment({ strategy: { rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } } });
    open.metadata.labels = { "app.kubernetes.io/name": "a", "x-y": "z" };
    open.metadata.annotations = { "prometheus.io/scrape": "true", "any thing": "goes" };
    Object.assign(open.spec.template.spec.containers[0], {
        ports: [{ name: "admin", containerPort: 9100 }],
        readinessProbe: { httpGet: { path: "/readyz", port: "admin" } },
        resources: { requests: { cpu: "100m", memory: 64e6 }, limits: { cpu: 1, "example.com/dongle": 1 } },
    });
    const accepted = [
        ["a minimal valid Deployment", deployment()],
        ["free-form maps, quantities and IntOrString values in a Deployment", open],
        ["a ConfigMap and a Secret with any keys", { apiVersion: "v1", kind: "Secret", metadata: { name: "a" },
            stringData: { "rules.json": "{}", "a.b_c-d": "x" }, data: { K: "dg==" } }],
        ["a Service whose targetPort is a name", { apiVersion: "v1", kind: "Service", metadata: { name: "a" },
            spec: { selector: { a: "b" }, ports: [{ port: 80, targetPort: "http" }] } }],
        ["a free-form object (ControllerRevision data)", { apiVersion: "apps/v1", kind: "ControllerRevision",
            metadata: { name: "a" }, revision: 1, data: { anything: { nested: [1, { deeper: true }] } } }],
    ];
    for (const [what, obj, path] of rejected) {
        const problem = await problemOf(obj);
        if (!problem)
            notOk(`self-test: ${what} is rejected`, "it validated");
        else
        if (path && !problem.includes(path))
            notOk(`self-test: ${what} is rejected, naming ${path}`, problem);
        else
            ok(`self-test: ${what} is rejected (${problem.split("\n").pop()})`);
    }
    for (const [what, obj] of accepted) {
        const problem = await problemOf(obj);
        if (problem)
            notOk(`self-test: ${what} is accepted`, problem);
        else
            ok(`self-test: ${what} is accepted`);
    }
}

async function main () {
    const args = process.argv.slice(2);
    if (args[0] === "--self-test" && args.length === 1)
        await selfTest();
    else
    if (args.length === 2)
        await validateFile(args[0], args[1]);
    else {
        console.error("usage: node k8s_validate.mjs LABEL FILE.yaml | --self-test");
        process.exit(2);
    }
    process.exit(failures? 1: 0);
}

//  Run only as a script; k8s_check.mjs imports parseObjects.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
    await main();
