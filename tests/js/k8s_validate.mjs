// k8s_validate.mjs - validates rendered Kubernetes manifests offline against
// the Kubernetes API schemas (the npm package kubernetes-models).
//
//   node k8s_validate.mjs LABEL FILE.yaml     one TAP line per object
//   node k8s_validate.mjs --self-test         shows that bad objects fail
//
// FILE is multi-document YAML (the output of `kubectl kustomize`). Each
// object is looked up by apiVersion and kind (kubernetes-models/<group>/
// <version>/<Kind>, the core group as v1/<Kind>) and its validate() is
// called; an object of a kind the package does not know is a failure, so is
// a document that is not an object with apiVersion, kind and metadata.name.
// Exit status 1 if any line is "not ok".

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
    try {
        new Model(apiForm(obj)).validate();
        return null;
    }
    catch (err) {
        return err.message || String(err);
    }
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
        if (problem)
            notOk(`${label}: ${nameOf(obj)} is valid against the API schema`, problem);
        else
            ok(`${label}: ${nameOf(obj)} is valid against the API schema`);
    }
}

//  Each case must be rejected; a case that validates is a broken validator.
async function selfTest () {
    const pod = { containers: [{ name: "c", image: "txwatch/x:0.1.0" }] };
    const cases = {
        "an unknown kind": { apiVersion: "apps/v1", kind: "Deploymnet", metadata: { name: "a" } },
        "an unknown apiVersion": { apiVersion: "apps/v9", kind: "Deployment", metadata: { name: "a" } },
        "a Deployment without a selector": { apiVersion: "apps/v1", kind: "Deployment",
            metadata: { name: "a" }, spec: { template: { spec: pod } } },
        "replicas given as a string": { apiVersion: "apps/v1", kind: "Deployment",
            metadata: { name: "a" }, spec: { replicas: "two", selector: { matchLabels: { a: "b" } },
            template: { metadata: { labels: { a: "b" } }, spec: pod } } },
        "a container port out of range": { apiVersion: "v1", kind: "Pod", metadata: { name: "a" },
            spec: { containers: [{ name: "c", image: "i:1", ports: [{ containerPort: "x" }] }] } },
        "a Service port without a number": { apiVersion: "v1", kind: "Service",
            metadata: { name: "a" }, spec: { ports: [{ name: "http" }] } },
        "an HPA without maxReplicas": { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler",
            metadata: { name: "a" }, spec: { scaleTargetRef: { kind: "Deployment", name: "a" } } },
        "a Secret value that is not base64": { apiVersion: "v1", kind: "Secret",
            metadata: { name: "a" }, data: { K: "not base64!\n" } },
        "an object without a name": { apiVersion: "v1", kind: "ConfigMap", metadata: {} },
    };
    for (const [what, obj] of Object.entries(cases)) {
        const problem = await problemOf(obj);
        if (problem)
            ok(`self-test: ${what} is rejected (${problem.split("\n")[0]})`);
        else
            notOk(`self-test: ${what} is rejected`, "it validated");
    }
    const good = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "a" },
        spec: { selector: { matchLabels: { a: "b" } },
                template: { metadata: { labels: { a: "b" } }, spec: pod } } };
    const problem = await problemOf(good);
    if (problem)
        notOk("self-test: a minimal valid Deployment is accepted", problem);
    else
        ok("self-test: a minimal valid Deployment is accepted");
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
