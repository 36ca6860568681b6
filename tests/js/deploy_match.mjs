// deploy_match.mjs - the two deployments agree with `make images` and with
// each other: the rendered compose file (deploy/docker-compose.yml) and the
// rendered kustomize overlays (k8s/).
//
//   node deploy_match.mjs [--self-test] --images FILE --dockerfile FILE
//       --compose LABEL=FILE...  --k8s LABEL=FILE...
//       [--complete LABEL...] [--wiring LABEL]
//
//   --images FILE       `tools/images.sh --list`: the images `make images`
//                       builds, txwatch/<stage>:<version>, one a line
//   --dockerfile FILE   deploy/Dockerfile, for the stages that are only the
//                       layer others are built FROM (runtime), which nothing runs
//   --compose L=FILE    a `docker-compose config` render
//   --k8s L=FILE        a `kubectl kustomize` render
//   --complete L        that render must run every service image built
//   --wiring L          the k8s render whose database logins and CURVE
//                       settings must be those of the (first) compose render
//   --self-test         breaks the inputs in many ways; each check must
//                       catch its break, and the unbroken inputs pass
//
// Checks (one TAP line each; exit status 1 if any is "not ok"):
//   - images: every image a render names is one `make images` builds, with
//     its tag; compose builds each image from the stage it is named after;
//     a complete render uses every service image built.
//   - wiring (deploy/README.md and k8s/README.md, "Secrets", "CURVE",
//     "Database roles"): each compose service and its k8s counterpart
//     connect to PostgreSQL as the same login, the migration makes the same
//     login in each group role, the database's owner is the same, and each
//     has the same TXW_CURVE_* variables naming the same file of
//     `txw-keygen --all`'s folders (compose: one volume holding them all;
//     k8s: one Secret per folder, txwatch-curve-<folder>, mounted where
//     needed), so a certificate role cannot differ between the two.

import { readFileSync } from "node:fs";
import { parseArgs as parseCliArgs } from "node:util";
import { parse } from "yaml";
import { parseObjects } from "./k8s_validate.mjs";

//  --- Images -------------------------------------------------------------------

//  Stages that another stage is built FROM: a shared layer, not a service
//  (runtime); built by `make images` but run by nothing.
function layerStages (dockerfile) {
    const stages = new Set(), bases = new Set();
    for (const line of dockerfile.split("\n")) {
        const m = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)\s+AS\s+(\S+)\s*$/i.exec(line);
        if (m) {
            bases.add(m[1]);
            stages.add(m[2]);
        }
    }
    return new Set([...bases].filter((b) => stages.has(b)));
}

//  The built images: {images: Set of references, stages: Map stage -> tag}.
function parseBuilt (text) {
    const images = new Set(), stages = new Map(), bad = [];
    for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
        const m = /^txwatch\/([a-z0-9-]+):([A-Za-z0-9_][A-Za-z0-9_.-]*)$/.exec(line);
        if (m) {
            images.add(line);
            stages.set(m[1], m[2]);
        }
        else
            bad.push(line);
    }
    return { images, stages, bad };
}

//  Every pod spec (an object with a `containers` list) in a k8s object, at
//  any depth: Deployments, StatefulSets, Jobs, a CronJob's job template...
function * podSpecs (node) {
    if (Array.isArray(node)) {
        for (const item of node)
            yield * podSpecs(item);
        return;
    }
    if (node === null || typeof node !== "object")
        return;
    if (Array.isArray(node.containers))
        yield node;
    for (const value of Object.values(node))
        yield * podSpecs(value);
}
const containersOf = (spec) => [...(spec.initContainers || []), ...(spec.containers || []),
    ...(spec.ephemeralContainers || [])];

//  [where, image] for every container of a render.
function imagesOf (render) {
    if (render.type === "compose")
        return Object.entries(render.cfg.services || {}).map(([name, s]) => [`service ${name}`, s.image]);
    const out = [];
    for (const obj of render.objs)
        for (const spec of podSpecs(obj))
            for (const c of containersOf(spec))
                out.push([`${obj.kind}/${obj.metadata.name} container ${c.name}`, c.image]);
    return out;
}

//  --- Wiring -------------------------------------------------------------------
//  A unit is what runs one binary: a compose service, a k8s container. Each
//  is reduced to what must agree: the logins it connects as, the logins the
//  migration makes, the database's owner, its CURVE files.

//  k8s container -> compose service, where the names differ.
const K8S_ALIASES = {
    "bootstrap-key": "bootstrap",       // the first admin key, as the owner
    "products-load": "products",        // loads the catalogue the init container `catalogue` writes
    retrain: "rescore",                 // compose's rescore retrains too (TXW_RETRAIN_EVERY)
};
//  Units with no counterpart, by design. Listed rather than skipped, so a
//  new service on one side only fails until it is classified here.
const COMPOSE_ONLY = {
    keys: "makes the secrets at run time into a volume; k8s takes them from Secrets",
};
const K8S_ONLY = {
    rollback: "by hand, on the model files only; compose runs txw-train --rollback in rescore",
};

const decode = (v) => Buffer.from(String(v).replace(/\s/g, ""), "base64").toString();
const findObj = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata && o.metadata.name === name);
//  A Secret's or ConfigMap's values, decoded; null if it is not rendered.
function valuesOf (objs, kind, name) {
    const o = findObj(objs, kind, name);
    if (!o)
        return null;
    const values = { ...(o.stringData || {}) };
    for (const [k, v] of Object.entries(o.data || {}))
        values[k] = kind === "Secret" ? decode(v) : String(v);
    return values;
}

//  Kubernetes' $(VAR) expansion from the variables defined before; $$ is $.
const expand = (text, env) => String(text).replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
    (m, name) => (m === "$$" ? "$" : (env[name] !== undefined ? env[name] : m)));

//  A container's environment as far as the render tells (a value it cannot
//  know, from a field or a Secret not rendered, is undefined).
function k8sEnv (objs, c) {
    const env = {};
    for (const ef of c.envFrom || []) {
        const ref = ef.configMapRef || ef.secretRef;
        const values = ref && valuesOf(objs, ef.configMapRef ? "ConfigMap" : "Secret", ref.name);
        for (const [k, v] of Object.entries(values || {}))
            env[(ef.prefix || "") + k] = v;
    }
    for (const e of c.env || []) {
        const from = e.valueFrom || {};
        const ref = from.secretKeyRef || from.configMapKeyRef;
        if (e.value !== undefined)
            env[e.name] = expand(e.value, env);
        else
        if (ref)
            env[e.name] = (valuesOf(objs, from.secretKeyRef ? "Secret" : "ConfigMap", ref.name) || {})[ref.key];
        else
            env[e.name] = undefined;
    }
    return env;
}

//  The file a k8s path names, as a path in `txw-keygen --all`'s folders: the
//  Secret txwatch-curve-<folder> holds that folder (k8s/README.md, "CURVE"),
//  so <mount>/<key> is <folder>/<key>, the mount itself <folder>.
function k8sCurveFile (objs, spec, c, path) {
    for (const m of c.volumeMounts || []) {
        if (path !== m.mountPath && !path.startsWith(`${m.mountPath}/`))
            continue;
        const v = (spec.volumes || []).find((vol) => vol.name === m.name);
        if (!v || !v.secret)
            return `${path} (volume ${m.name}, not a Secret)`;
        const folder = v.secret.secretName.replace(/^txwatch-curve-/, "");
        if (folder === v.secret.secretName)
            return `${path} (Secret ${v.secret.secretName}, not a txwatch-curve-<folder>)`;
        let rest = path.slice(m.mountPath.length + 1);
        if (m.subPath)
            rest = path === m.mountPath ? m.subPath : `${m.subPath}/${rest}`;
        if (!rest)
            return folder;
        const item = (v.secret.items || []).find((i) => i.path === rest);
        const key = item ? item.key : rest;
        if (v.secret.items && !item)
            return `${folder}/${rest} (not an item of the volume)`;
        const values = valuesOf(objs, "Secret", v.secret.secretName);
        return values && !(key in values) ? `${folder}/${key} (no such key in ${v.secret.secretName})` : `${folder}/${key}`;
    }
    return `${path} (not mounted)`;
}

//  The logins a unit connects as: TXW_DATABASE_URL and --database-url.
function loginsOf (env, args) {
    const urls = [];
    if ("TXW_DATABASE_URL" in env)
        urls.push(env.TXW_DATABASE_URL);
    args.forEach((a, i) => {
        if (a === "--database-url")
            urls.push(args[i + 1]);
        else
        if (a.startsWith("--database-url="))
            urls.push(a.slice("--database-url=".length));
    });
    return [...new Set(urls.map(userOf))].sort();
}
function userOf (url) {
    try {
        return decodeURIComponent(new URL(url).username) || `(no user in ${url})`;
    }
    catch {
        return `(not a URL: ${url})`;
    }
}
//  TXW_LOGIN_ROLES, "GROUP=URL ...", as GROUP=login items.
const loginRolesOf = (env) => (env.TXW_LOGIN_ROLES === undefined ? []
    : String(env.TXW_LOGIN_ROLES).split(/\s+/).filter(Boolean).map((item) => {
        const eq = item.indexOf("=");
        return eq < 0 ? `(not GROUP=URL: ${item})` : `${item.slice(0, eq)}=${userOf(item.slice(eq + 1))}`;
    }).sort());

function k8sUnits (objs) {
    const units = [];
    for (const obj of objs)
        for (const spec of podSpecs(obj))
            for (const c of containersOf(spec)) {
                const env = k8sEnv(objs, c);
                const args = [...(c.command || []), ...(c.args || [])].map((a) => expand(a, env));
                const curve = {};
                for (const [k, v] of Object.entries(env))
                    if (k.startsWith("TXW_CURVE_"))
                        curve[k] = v === undefined ? "(unknown)" : k8sCurveFile(objs, spec, c, v);
                units.push({ name: c.name, key: Object.hasOwn(K8S_ALIASES, c.name) ? K8S_ALIASES[c.name] : c.name,
                    where: `${obj.kind}/${obj.metadata.name} container ${c.name}`,
                    logins: loginsOf(env, args), roles: loginRolesOf(env),
                    owner: env.POSTGRES_USER, curve });
            }
    return units;
}

const words = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : String(v).split(/\s+/));
//  Where `txw-keygen --all DIR` puts the certificates in compose: the
//  command of the service that makes them.
function composeCurveRoot (cfg) {
    for (const s of Object.values(cfg.services || {})) {
        const m = /txw-keygen\s+--all\s+(\S+)/.exec([...words(s.entrypoint), ...words(s.command)].join(" "));
        if (m)
            return m[1].replace(/\/+$/, "");
    }
    return null;
}

function composeUnits (cfg) {
    const root = composeCurveRoot(cfg);
    return Object.entries(cfg.services || {}).map(([name, s]) => {
        let env = s.environment || {};
        if (Array.isArray(env))     // KEY=VALUE items
            env = Object.fromEntries(env.map((e) => [e.split("=")[0], e.slice(e.indexOf("=") + 1)]));
        const curve = {};
        for (const [k, v] of Object.entries(env))
            if (k.startsWith("TXW_CURVE_")) {
                const path = String(v).replace(/\/+$/, "");
                curve[k] = root === null ? `${path} (no txw-keygen --all in any service)`
                    : path === root ? "."
                    : path.startsWith(`${root}/`) ? path.slice(root.length + 1)
                    : `${path} (outside ${root}, where txw-keygen --all writes)`;
            }
        return { name, key: name, where: `service ${name}`,
            logins: loginsOf(env, [...words(s.entrypoint), ...words(s.command)]),
            roles: loginRolesOf(env), owner: env.POSTGRES_USER, curve };
    });
}

//  [k8s unit, its compose unit] for every k8s unit that has one.
function pairs (compose, k8s) {
    const byName = new Map(compose.map((u) => [u.name, u]));
    return k8s.filter((u) => byName.has(u.key)).map((u) => [u, byName.get(u.key)]);
}

//  --- Checks: each returns a list of problems (empty: it passes) ------------------

function makeChecks (inp) {
    const checks = {};
    const { stages } = inp.built;
    const layers = [...inp.layers].filter((s) => stages.has(s));
    const services = [...inp.built.images].filter((i) => !layers.includes(/^txwatch\/([^:]+)/.exec(i)[1]));

    checks["images: tools/images.sh --list names images txwatch/<stage>:<tag>, one tag"] = () => {
        const out = inp.built.bad.map((l) => `not txwatch/<stage>:<tag>: ${l}`);
        const tags = new Set(stages.values());
        if (!stages.size)
            out.push("no image");
        if (tags.size > 1)
            out.push(`several tags: ${[...tags].join(" ")}`);
        return out;
    };
    for (const [label, render] of Object.entries(inp.renders))
        checks[`images: ${label}: every image is one make images builds, txwatch/<stage>:<version>`] = () => {
            const out = [];
            for (const [where, image] of imagesOf(render)) {
                if (inp.built.images.has(image))
                    continue;
                const m = /^txwatch\/([a-z0-9-]+):(.*)$/.exec(String(image));
                if (!image)
                    out.push(`${where}: no image`);
                else
                if (m && stages.has(m[1]))
                    out.push(`${where}: ${image}: make images tags txwatch/${m[1]} ${stages.get(m[1])}, not ${m[2]}`);
                else
                    out.push(`${where}: ${image}: not an image make images builds (stages: ${[...stages.keys()].join(" ")})`);
            }
            return out;
        };
    for (const [label, render] of Object.entries(inp.renders).filter(([, r]) => r.type === "compose"))
        checks[`images: ${label}: each service builds its image from the stage the image is named after`] = () => {
            //  `docker-compose build` tags the target's build with `image:`: a
            //  different target would make txwatch/<stage> another image there.
            const out = [];
            for (const [name, s] of Object.entries(render.cfg.services || {})) {
                const m = /^txwatch\/([a-z0-9-]+):/.exec(String(s.image));
                const target = s.build && typeof s.build === "object" ? s.build.target : undefined;
                if (m && s.build && target !== m[1])
                    out.push(`service ${name}: builds target ${target} as ${s.image}`);
            }
            return out;
        };
    for (const label of inp.complete)
        checks[`images: ${label}: runs every service image make images builds (all but the layer ${layers.join(", ")})`] = () => {
            const used = new Set(imagesOf(inp.renders[label]).map(([, image]) => image));
            return services.filter((i) => !used.has(i)).map((i) => `${i} is built but not used`);
        };

    if (!inp.wiring)
        return checks;
    const [cLabel, kLabel] = [inp.compose, inp.wiring];
    const ctx = () => {
        const compose = composeUnits(inp.renders[cLabel].cfg), k8s = k8sUnits(inp.renders[kLabel].objs);
        return { compose, k8s, pairs: pairs(compose, k8s) };
    };
    //  Each pair's attribute as a list of items; a difference is told by the
    //  items on one side only.
    const diff = (what, attr, items) => () => {
        const out = [];
        for (const [k, c] of ctx().pairs) {
            const [a, b] = [items(c[attr]), items(k[attr])];
            const [onlyA, onlyB] = [a.filter((x) => !b.includes(x)), b.filter((x) => !a.includes(x))];
            if (onlyA.length || onlyB.length)
                out.push(`${c.name} / ${k.where}: ${what}: ${cLabel} ${list(onlyA)}, ${kLabel} ${list(onlyB)}`);
        }
        return out;
    };
    const list = (v) => (v.length ? v.join(" ") : "none");
    checks[`wiring: every ${cLabel} service has its ${kLabel} counterpart and back (or none by design)`] = () => {
        const { compose, k8s } = ctx(), out = [];
        const keys = new Set(k8s.map((u) => u.key)), names = new Set(compose.map((u) => u.name));
        for (const u of compose)
            if (!keys.has(u.name) && !Object.hasOwn(COMPOSE_ONLY, u.name))
                out.push(`${cLabel} service ${u.name}: no ${kLabel} container of that name (or K8S_ALIASES entry)`);
        for (const u of k8s)
            if (!names.has(u.key) && !Object.hasOwn(K8S_ONLY, u.name))
                out.push(`${kLabel} ${u.where}: no ${cLabel} service ${u.key}`);
        //  The tables must not outlive what they describe.
        for (const name of Object.keys(COMPOSE_ONLY))
            if (!names.has(name) || keys.has(name))
                out.push(`COMPOSE_ONLY ${name}: ${names.has(name) ? `has a ${kLabel} counterpart` : "no such service"}`);
        for (const name of [...Object.keys(K8S_ONLY), ...Object.keys(K8S_ALIASES)])
            if (!k8s.some((u) => u.name === name))
                out.push(`${name} (K8S_ONLY or K8S_ALIASES): no such ${kLabel} container`);
        return out;
    };
    checks[`wiring: each service connects to PostgreSQL as the same login in ${cLabel} and ${kLabel} (TXW_DATABASE_URL, --database-url)`] =
        diff("logs in as", "logins", (v) => v);
    checks[`wiring: the migration makes the same login in each group role in ${cLabel} and ${kLabel} (TXW_LOGIN_ROLES), under the same owner`] = () => [
        ...diff("makes the logins", "roles", (v) => v)(),
        ...diff("has the database owner (POSTGRES_USER)", "owner", (v) => (v === undefined ? [] : [v]))(),
    ];
    checks[`wiring: each service has the same CURVE settings in ${cLabel} and ${kLabel} (TXW_CURVE_* and the txw-keygen --all file each names)`] =
        diff("has CURVE", "curve", (v) => Object.keys(v).sort().map((k) => `${k}=${v[k]}`));
    return checks;
}

function runChecks (inp) {
    const results = {};
    for (const [name, check] of Object.entries(makeChecks(inp)))
        results[name] = check();
    return results;
}

//  --- Self-test: mutations of good inputs; each names the check it must fail ---

const k8sContainer = (objs, kind, name, container) => {
    const o = findObj(objs, kind, name);
    const spec = [...podSpecs(o)][0];
    return { spec, c: containersOf(spec).find((c) => !container || c.name === container) };
};
const setEnv = (c, name, value) => {
    const e = (c.env || []).find((v) => v.name === name);
    if (e) {
        delete e.valueFrom;
        e.value = value;
    }
    else
        (c.env = c.env || []).push({ name, value });
};

function mutations (inp) {
    const c0 = inp.compose, k = inp.wiring;
    const svc = (i, name) => i.renders[c0].cfg.services[name];
    const tag = [...inp.built.stages.values()][0];
    const m = [
        ["a list line that is no image", "tools/images.sh --list", (i) => i.built.bad.push("txwatch/scorer")],
    ];
    //  Every compose render: a service built from another stage.
    for (const [label, r] of Object.entries(inp.renders).filter(([, r]) => r.type === "compose"))
        m.push([`${label}: query built from the gateway's stage`, `images: ${label}: each service builds`,
            (i) => { i.renders[label].cfg.services.query.build.target = "gateway"; }]);
    //  Every render: a txwatch image with another tag.
    for (const [label, r] of Object.entries(inp.renders))
        m.push([`${label}: an image tagged latest`, `images: ${label}: every image`, (i) => {
            const rr = i.renders[label];
            if (r.type === "compose")
                rr.cfg.services.scorer.image = "txwatch/scorer:latest";
            else
                for (const obj of rr.objs)
                    for (const spec of podSpecs(obj))
                        spec.containers[0].image = spec.containers[0].image.replace(/:[^:]+$/, ":latest");
        }]);
    m.push(
        [`${k}: an image of a stage make images does not build (builder)`, `images: ${k}: every image`,
            (i) => { k8sContainer(i.renders[k].objs, "Job", "txw-migrate").c.image = `txwatch/builder:${tag}`; }],
        [`${k}: an image from elsewhere (busybox) in an init container`, `images: ${k}: every image`,
            (i) => { k8sContainer(i.renders[k].objs, "Job", "txw-products", "catalogue").c.image = "busybox:1.36"; }],
        [`${c0}: an image with the tag of no build`, `images: ${c0}: every image`,
            (i) => { svc(i, "query").image = "txwatch/query:0.0.9"; }],
        [`${k}: the rescore image used by nothing (the CronJobs run tools)`, `images: ${k}: runs every`,
            (i) => { for (const obj of i.renders[k].objs)
                for (const spec of podSpecs(obj))
                    for (const c of containersOf(spec))
                        c.image = c.image.replace(/^txwatch\/rescore:/, "txwatch/tools:"); }],
        [`${c0}: the rescore image used by nothing`, `images: ${c0}: runs every`,
            (i) => { Object.assign(svc(i, "rescore"), { image: `txwatch/tools:${tag}` });
                     svc(i, "rescore").build.target = "tools"; }],
        [`${c0}: a service k8s lacks`, "counterpart and back",
            (i) => { i.renders[c0].cfg.services.exporter = { image: `txwatch/tools:${tag}` }; }],
        [`${k}: a container compose lacks`, "counterpart and back",
            (i) => { const { spec } = k8sContainer(i.renders[k].objs, "Deployment", "query");
                     spec.containers.push({ name: "sidecar", image: `txwatch/tools:${tag}` }); }],
        [`${k}: the scorer logging in as the aggregator`, "connects to PostgreSQL as the same login",
            (i) => { k8sContainer(i.renders[k].objs, "StatefulSet", "scorer").c.env
                .find((e) => e.name === "TXW_DATABASE_URL").valueFrom.secretKeyRef.key = "AGGREGATOR_DATABASE_URL"; }],
        [`${c0}: the first admin key made as the query login`, "connects to PostgreSQL as the same login",
            (i) => { const s = svc(i, "bootstrap");
                     s.command = s.command.map((a) => a.replace(/\/\/[^:@]+:[^@]*@/, "//txw_query:x@")); }],
        [`${k}: the migration making the API's login in the push group`, "makes the same login in each group role",
            (i) => { const e = k8sContainer(i.renders[k].objs, "Job", "txw-migrate").c.env
                         .find((v) => v.name === "TXW_LOGIN_ROLES");
                     e.value = e.value.replace(/txw_api=\S+/, "txw_api=$(GATEWAY_DATABASE_URL)"); }],
        [`${c0}: another database owner`, "makes the same login in each group role",
            (i) => { svc(i, "postgres").environment.POSTGRES_USER = "postgres"; }],
        [`${k}: the gateway's certificate from the notifier's Secret`, "same CURVE settings",
            (i) => { k8sContainer(i.renders[k].objs, "Deployment", "gateway").spec.volumes
                .find((v) => v.name === "curve-gateway").secret.secretName = "txwatch-curve-notifier"; }],
        [`${c0}: the validator admitting any client (no TXW_CURVE_ALLOWED)`, "same CURVE settings",
            (i) => { delete svc(i, "validator").environment.TXW_CURVE_ALLOWED; }],
        [`${c0}: ingest sending with an ingest certificate, not a producer's`, "same CURVE settings",
            (i) => { const e = svc(i, "ingest").environment;
                     e.TXW_CURVE_CLIENT_KEY = e.TXW_CURVE_CLIENT_KEY.replace(/producer/g, "ingest"); }],
        [`${k}: query given the servers' public key`, "same CURVE settings",
            (i) => setEnv(k8sContainer(i.renders[k].objs, "Deployment", "query").c,
                "TXW_CURVE_SERVER_KEY", "/etc/txwatch/curve/public/cluster.key")],
    );
    return m;
}

function selfTest (inp) {
    let failed = 0;
    const line = (good, what) => {
        console.log(`${good ? "ok" : "not ok"} - self-test: ${what}`);
        failed += good ? 0 : 1;
    };
    const clean = runChecks(inp);
    const bad = Object.entries(clean).filter(([, p]) => p.length);
    line(!bad.length, "the unbroken inputs pass every check");
    for (const [name, problems] of bad)
        console.log(`# ${name}: ${problems[0]}`);
    const names = Object.keys(clean), caught = new Set();
    for (const [what, word, mutate] of mutations(inp)) {
        const check = names.find((n) => n.includes(word));
        const broken = { ...inp, built: structuredClone(inp.built), renders: structuredClone(inp.renders) };
        mutate(broken);
        const problems = check ? makeChecks(broken)[check]() : [];
        if (problems.length)
            caught.add(check);
        line(problems.length > 0, `${what} fails "${check || word}"${problems.length ? ` (${problems[0]})` : ""}`);
    }
    for (const name of names)
        if (!caught.has(name))
            line(false, `a break is shown to fail "${name}"`);
    return failed;
}

//  --- Running ------------------------------------------------------------------

function parseArgs (argv) {
    const inp = { renders: {}, complete: [], selfTest: false };
    const labelled = (v, a) => {
        const eq = v.indexOf("=");
        if (eq < 1)
            throw new Error(`${a} wants LABEL=FILE, not ${v}`);
        return [v.slice(0, eq), v.slice(eq + 1)];
    };
    //  Node's own parser (node:util), strict: an unknown option or one
    //  without its value throws.
    const { values: v } = parseCliArgs({
        args: argv, strict: true,
        options: {
            "images": { type: "string" },
            "dockerfile": { type: "string" },
            "compose": { type: "string", multiple: true },
            "k8s": { type: "string", multiple: true },
            "complete": { type: "string", multiple: true },
            "wiring": { type: "string" },
            "self-test": { type: "boolean" },
        },
    });
    if (v.images !== undefined)
        inp.built = parseBuilt(readFileSync(v.images, "utf8"));
    if (v.dockerfile !== undefined)
        inp.layers = layerStages(readFileSync(v.dockerfile, "utf8"));
    for (const item of v.compose || []) {
        const [label, file] = labelled(item, "--compose");
        inp.renders[label] = { type: "compose", cfg: parse(readFileSync(file, "utf8")) };
        inp.compose = inp.compose || label;
    }
    for (const item of v.k8s || []) {
        const [label, file] = labelled(item, "--k8s");
        inp.renders[label] = { type: "k8s", objs: parseObjects(readFileSync(file, "utf8")) };
    }
    inp.complete = v.complete || [];
    inp.wiring = v.wiring;
    inp.selfTest = Boolean(v["self-test"]);
    if (!inp.built || !inp.layers || !inp.compose)
        throw new Error("--images, --dockerfile and --compose are needed");
    for (const label of [...inp.complete, ...(inp.wiring ? [inp.wiring] : [])])
        if (!inp.renders[label])
            throw new Error(`no render labelled ${label}`);
    if (inp.wiring && inp.renders[inp.wiring].type !== "k8s")
        throw new Error("--wiring names a k8s render");
    //  The mutations break the wiring render and the first compose render.
    if (inp.selfTest && !inp.wiring)
        throw new Error("--self-test needs --wiring");
    return inp;
}

let inp;
try {
    inp = parseArgs(process.argv.slice(2));
}
catch (err) {
    console.log(`not ok - deploy_match.mjs reads its inputs`);
    console.log(`# ${err.message}`);
    console.error("usage: node deploy_match.mjs [--self-test] --images FILE --dockerfile FILE --compose L=FILE... --k8s L=FILE... [--complete L...] [--wiring L]");
    process.exit(2);
}
let failed = 0;
if (inp.selfTest)
    failed = selfTest(inp);
else
    for (const [name, problems] of Object.entries(runChecks(inp))) {
        console.log(`${problems.length ? "not ok" : "ok"} - ${name}`);
        for (const p of problems.slice(0, 15))
            console.log(`# ${p}`);
        failed += problems.length ? 1 : 0;
    }
process.exit(failed ? 1 : 0);
