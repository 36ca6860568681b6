// k8s_check.mjs - structural checks of the rendered txwatch manifests that a
// schema cannot make: probes, resources and security contexts of every
// container; pinned images; references to ConfigMaps, Secrets, Services and
// ports; network policies (every allowed port exists, every needed hop is
// allowed, the others are denied); the shard endpoint lists against the
// StatefulSet replicas; HPAs, PDBs, the Ingress; database logins (only the
// migration and bootstrap Jobs see the owner's URL, each client its own
// login); the first admin key (the bootstrap Job); secrets mounted as files
// (the pseudonym key in every service, the webhook signing secret in the
// notifier only); CURVE (on in every ZeroMQ service, the server certificate
// and the allowed folder only where a socket binds, each role's client
// certificate only in its own workload, none in query or the Jobs); the
// query API's per-address limit off behind the Ingress; browser access (keys
// required, CORS) and admin ports that the probes reach; overlay expectations.
//
//   node k8s_check.mjs LABEL FILE.yaml [options]     one TAP line per check
//       --rules FILE            the scorer-rules ConfigMap holds this file
//       --replicas a=N,b=M      workloads (Deployment/StatefulSet) replicas
//       --absent Kind/name,...  objects that must not be rendered
//       --external-secret NAME  a Secret created outside the manifests
//       --help-dir DIR          <service>.txt: `txw-<service> --help` output
//   node k8s_check.mjs --self-test FILE.yaml --rules FILE --help-dir DIR
//       breaks a good rendering in many ways; each check must catch its break
//
// Exit status 1 if any line is "not ok".

import { readFileSync } from "node:fs";
import { parseArgs as parseCliArgs } from "node:util";
import { parseObjects } from "./k8s_validate.mjs";

const NAMESPACE = "txwatch";
const WORKLOADS = ["Deployment", "StatefulSet", "Job"];

//  --- Helpers ---------------------------------------------------------------

const podTemplates = (objs) => objs
    .filter((o) => WORKLOADS.includes(o.kind) && o.spec && o.spec.template)
    .map((o) => ({ owner: o, name: `${o.kind}/${o.metadata.name}`,
                   labels: (o.spec.template.metadata || {}).labels || {},
                   spec: o.spec.template.spec || {} }));

const allContainers = (spec) => [...(spec.initContainers || []), ...(spec.containers || [])];

//  A label selector (matchLabels and matchExpressions) against labels.
function selects (selector, labels) {
    if (!selector)
        return false;
    for (const [k, v] of Object.entries(selector.matchLabels || {}))
        if (labels[k] !== v)
            return false;
    for (const e of selector.matchExpressions || []) {
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        const inValues = has && (e.values || []).includes(labels[e.key]);
        if ((e.operator === "In" && !inValues) || (e.operator === "NotIn" && inValues)
        ||  (e.operator === "Exists" && !has) || (e.operator === "DoesNotExist" && has))
            return false;
        if (!["In", "NotIn", "Exists", "DoesNotExist"].includes(e.operator))
            return false;
    }
    return true;
}
const selectsPlain = (labels, podLabels) => selects({ matchLabels: labels }, podLabels);

//  The container port a probe, Service or policy port names: a number or a
//  port name; returns the port object or null.
function findPort (spec, port, protocol = "TCP") {
    for (const c of spec.containers || [])
        for (const p of c.ports || [])
            if ((p.protocol || "TCP") === protocol
            &&  (typeof port === "number"? p.containerPort === port: p.name === port))
                return p;
    return null;
}

const find = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);
//  A generated ConfigMap or Secret: "name" or "name-<hash>".
const findGenerated = (objs, kind, base) => objs.find((o) => o.kind === kind
    && (o.metadata.name === base || new RegExp(`^${base}-[a-z0-9]{10}$`).test(o.metadata.name)));

const dataOf = (obj) => {
    if (obj.kind === "Secret") {
        const out = {};
        for (const [k, v] of Object.entries(obj.data || {}))
            out[k] = Buffer.from(String(v).replace(/\s/g, ""), "base64").toString("utf8");
        return { ...out, ...(obj.stringData || {}) };
    }
    return obj.data || {};
};

const replicasOf = (w) => (w.spec.replicas === undefined? 1: w.spec.replicas);

//  --- Checks: each returns a list of problems (empty: the check passes) ----

const checks = {};

checks["every container has resources and a restricted securityContext"] = (objs) => {
    const out = [];
    for (const t of podTemplates(objs)) {
        const psc = t.spec.securityContext || {};
        for (const c of allContainers(t.spec)) {
            const where = `${t.name} container ${c.name}`;
            const r = c.resources || {};
            for (const part of ["requests", "limits"])
                for (const res of ["cpu", "memory"])
                    if (!r[part] || r[part][res] === undefined)
                        out.push(`${where}: no resources.${part}.${res}`);
            const sc = c.securityContext || {};
            if (sc.allowPrivilegeEscalation !== false)
                out.push(`${where}: allowPrivilegeEscalation is not false`);
            if (sc.readOnlyRootFilesystem !== true)
                out.push(`${where}: readOnlyRootFilesystem is not true`);
            if (!sc.capabilities || !(sc.capabilities.drop || []).includes("ALL"))
                out.push(`${where}: capabilities do not drop ALL`);
            if ((sc.capabilities || {}).add && sc.capabilities.add.length)
                out.push(`${where}: adds capabilities`);
            if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true)
                out.push(`${where}: runAsNonRoot is not true`);
            if ((sc.runAsUser ?? psc.runAsUser) === 0)
                out.push(`${where}: runs as uid 0`);
            if (((sc.seccompProfile || psc.seccompProfile) || {}).type !== "RuntimeDefault")
                out.push(`${where}: seccompProfile is not RuntimeDefault`);
            if (sc.privileged)
                out.push(`${where}: privileged`);
        }
    }
    return out;
};

checks["every Deployment/StatefulSet container has liveness and readiness probes on its own ports"] = (objs) => {
    const out = [];
    for (const t of podTemplates(objs).filter((t) => t.owner.kind !== "Job"))
        for (const c of t.spec.containers || [])
            for (const kind of ["livenessProbe", "readinessProbe"]) {
                const probe = c[kind];
                const where = `${t.name} container ${c.name} ${kind}`;
                if (!probe) {
                    out.push(`${where}: missing`);
                    continue;
                }
                const action = probe.httpGet || probe.tcpSocket || probe.grpc;
                if (!action && !probe.exec)
                    out.push(`${where}: no action`);
                if (action && !findPort({ containers: [c] }, action.port))
                    out.push(`${where}: port ${action.port} is not a port of the container`);
                if (probe.httpGet && !/^\/(healthz|readyz)$/.test(probe.httpGet.path || ""))
                    out.push(`${where}: path ${probe.httpGet.path} is not /healthz or /readyz`);
            }
    return out;
};

checks["txwatch containers get a unique source id and no duplicate env names"] = (objs) => {
    const out = [];
    for (const t of podTemplates(objs))
        for (const c of allContainers(t.spec)) {
            const names = (c.env || []).map((e) => e.name);
            const dup = names.filter((n, i) => names.indexOf(n) !== i);
            if (dup.length)
                out.push(`${t.name} container ${c.name}: env set twice: ${dup.join(", ")}`);
            if (/^txwatch\/(?!postgres:)/.test(c.image || "") && t.owner.kind !== "Job") {
                const id = (c.env || []).find((e) => e.name === "TXW_ID");
                if (!id || !id.valueFrom || !id.valueFrom.fieldRef
                ||  id.valueFrom.fieldRef.fieldPath !== "metadata.name")
                    out.push(`${t.name} container ${c.name}: TXW_ID is not the pod name`);
            }
        }
    return out;
};

checks["image tags are pinned (no :latest, no missing tag)"] = (objs) => {
    const out = [];
    for (const t of podTemplates(objs))
        for (const c of allContainers(t.spec)) {
            const image = c.image || "";
            if (/@sha256:[0-9a-f]{64}$/.test(image))
                continue;
            const last = image.split("/").pop();
            const tag = last.includes(":")? last.split(":").pop(): "";
            if (!tag || tag === "latest")
                out.push(`${t.name} container ${c.name}: image "${image}" is not pinned`);
        }
    return out;
};

checks["every referenced ConfigMap, Secret and key exists"] = (objs, opt) => {
    const out = [];
    const external = opt.externalSecrets || [];
    const lookup = (kind, name) => find(objs, kind, name)
        || (kind === "Secret" && external.includes(name)? { external: true }: null);
    for (const t of podTemplates(objs)) {
        for (const c of allContainers(t.spec)) {
            const where = `${t.name} container ${c.name}`;
            for (const ef of c.envFrom || []) {
                const ref = ef.configMapRef || ef.secretRef;
                const kind = ef.configMapRef? "ConfigMap": "Secret";
                if (ref && !ref.optional && !lookup(kind, ref.name))
                    out.push(`${where}: envFrom ${kind} ${ref.name} does not exist`);
            }
            for (const e of c.env || []) {
                const vf = e.valueFrom || {};
                const ref = vf.configMapKeyRef || vf.secretKeyRef;
                if (!ref || ref.optional)
                    continue;
                const kind = vf.configMapKeyRef? "ConfigMap": "Secret";
                const obj = lookup(kind, ref.name);
                if (!obj)
                    out.push(`${where}: ${e.name} refers to missing ${kind} ${ref.name}`);
                else
                if (!obj.external && !(ref.key in dataOf(obj)))
                    out.push(`${where}: ${e.name} refers to missing key ${ref.key} of ${kind} ${ref.name}`);
            }
            const claims = (t.owner.spec.volumeClaimTemplates || []).map((v) => v.metadata.name);
            for (const m of c.volumeMounts || [])
                if (!(t.spec.volumes || []).some((v) => v.name === m.name) && !claims.includes(m.name))
                    out.push(`${where}: mounts undeclared volume ${m.name}`);
        }
        for (const v of t.spec.volumes || []) {
            if (v.configMap && !v.configMap.optional && !lookup("ConfigMap", v.configMap.name))
                out.push(`${t.name}: volume ${v.name}: ConfigMap ${v.configMap.name} does not exist`);
            if (v.secret && !v.secret.optional && !lookup("Secret", v.secret.secretName))
                out.push(`${t.name}: volume ${v.name}: Secret ${v.secret.secretName} does not exist`);
        }
    }
    return out;
};

checks["every Service selects pods that have its target ports; StatefulSets have headless Services"] = (objs) => {
    const out = [];
    const templates = podTemplates(objs);
    for (const s of objs.filter((o) => o.kind === "Service")) {
        const pods = templates.filter((t) => selectsPlain(s.spec.selector || {}, t.labels)
            && Object.keys(s.spec.selector || {}).length);
        if (!pods.length) {
            out.push(`Service ${s.metadata.name}: selects no pod template`);
            continue;
        }
        for (const p of s.spec.ports || [])
            for (const t of pods)
                if (!findPort(t.spec, p.targetPort ?? p.port, p.protocol || "TCP"))
                    out.push(`Service ${s.metadata.name} port ${p.port}: target ${p.targetPort} is not a port of ${t.name}`);
    }
    for (const ss of objs.filter((o) => o.kind === "StatefulSet")) {
        const svc = find(objs, "Service", ss.spec.serviceName);
        if (!svc || svc.spec.clusterIP !== "None")
            out.push(`StatefulSet ${ss.metadata.name}: serviceName ${ss.spec.serviceName} is not a headless Service`);
        else
        if (!selectsPlain(svc.spec.selector || {}, ss.spec.template.metadata.labels || {}))
            out.push(`StatefulSet ${ss.metadata.name}: Service ${svc.metadata.name} does not select its pods`);
    }
    return out;
};

//  Ports a policy rule allows, resolved on the pods they lead to.
function rulePortProblems (policy, rule, dir, pods) {
    const out = [];
    for (const p of rule.ports || []) {
        if (p.port === undefined)
            continue;
        for (const t of pods)
            if (!findPort(t.spec, p.port, p.protocol || "TCP"))
                out.push(`NetworkPolicy ${policy.metadata.name} ${dir}: port ${p.port} is not a port of ${t.name}`);
    }
    return out;
}

checks["every port a NetworkPolicy allows exists on the pods it leads to"] = (objs) => {
    const out = [];
    const templates = podTemplates(objs);
    for (const np of objs.filter((o) => o.kind === "NetworkPolicy")) {
        const sel = np.spec.podSelector || {};
        const empty = !Object.keys(sel.matchLabels || {}).length && !(sel.matchExpressions || []).length;
        const selected = templates.filter((t) => selects(sel, t.labels));
        if (!empty && !selected.length)
            out.push(`NetworkPolicy ${np.metadata.name}: selects no pod template`);
        for (const rule of np.spec.ingress || []) {
            if (!empty)
                out.push(...rulePortProblems(np, rule, "ingress", selected));
            for (const peer of rule.from || [])
                if (peer.podSelector && !peer.namespaceSelector
                &&  !templates.some((t) => selects(peer.podSelector, t.labels)))
                    out.push(`NetworkPolicy ${np.metadata.name} ingress: a from.podSelector selects no pod template`);
        }
        for (const rule of np.spec.egress || [])
            for (const peer of rule.to || []) {
                if (!peer.podSelector || peer.namespaceSelector)
                    continue;       //  other namespaces or ipBlocks: not ours to resolve
                const dest = templates.filter((t) => selects(peer.podSelector, t.labels));
                if (!dest.length)
                    out.push(`NetworkPolicy ${np.metadata.name} egress: a to.podSelector selects no pod template`);
                out.push(...rulePortProblems(np, rule, "egress", dest));
            }
    }
    return out;
};

//  Is a TCP connection from pod template src to dst:port allowed by the
//  namespace's policies? (Same namespace; peers with a namespaceSelector or
//  ipBlock do not match an in-namespace pod.)
function allowed (objs, src, dst, port) {
    const policies = objs.filter((o) => o.kind === "NetworkPolicy");
    const types = (np) => np.spec.policyTypes
        || (np.spec.egress? ["Ingress", "Egress"]: ["Ingress"]);
    const portOk = (rule, t) => !rule.ports || !rule.ports.length || rule.ports.some((p) =>
        p.port === undefined || ((p.protocol || "TCP") === "TCP"
            && (typeof p.port === "number"? p.port === port
                : (findPort(t.spec, p.port) || {}).containerPort === port)));
    const peerOk = (peers, t) => !peers || !peers.length || peers.some((peer) =>
        peer.podSelector && !peer.namespaceSelector && !peer.ipBlock && selects(peer.podSelector, t.labels));
    const side = (pod, type, key, peerKey, other, portPod) => {
        const mine = policies.filter((np) => types(np).includes(type) && selects(np.spec.podSelector || {}, pod.labels));
        return !mine.length || mine.some((np) => (np.spec[key] || []).some((rule) =>
            peerOk(rule[peerKey], other) && portOk(rule, portPod)));
    };
    return side(src, "Egress", "egress", "to", dst, dst) && side(dst, "Ingress", "ingress", "from", src, dst);
}

//  The producer subscribes to the acknowledgements of the aggregators and
//  validators; the notifier reads the stored alerts it did not hear live.
const HOPS_ALLOWED = [
    ["producer", "validator", 7001], ["validator", "scorer", 7011], ["scorer", "aggregator", 7021],
    ["producer", "aggregator", 7022], ["producer", "validator", 7002],
    ["ingest", "validator", 7001], ["ingest", "validator", 7002], ["ingest", "aggregator", 7022],
    ["ingest", "postgres", 5432],
    ["gateway", "scorer", 7012], ["gateway", "aggregator", 7022], ["gateway", "validator", 7002],
    ["notifier", "scorer", 7012], ["notifier", "aggregator", 7022], ["notifier", "postgres", 5432],
    ["validator", "postgres", 5432], ["scorer", "postgres", 5432], ["aggregator", "postgres", 5432],
    ["query", "postgres", 5432], ["gateway", "postgres", 5432], ["txw-migrate", "postgres", 5432],
    ["txw-bootstrap-key", "postgres", 5432],
];
const HOPS_DENIED = [
    ["producer", "scorer", 7011], ["producer", "aggregator", 7021], ["validator", "aggregator", 7021],
    ["query", "scorer", 7011], ["query", "aggregator", 7022], ["producer", "scorer", 7012],
    ["producer", "postgres", 5432], ["notifier", "validator", 7001], ["gateway", "scorer", 7011],
    ["scorer", "validator", 7001], ["aggregator", "scorer", 7012], ["query", "gateway", 8081],
    ["txw-bootstrap-key", "query", 8080], ["txw-bootstrap-key", "scorer", 7011],
    ["ingest", "scorer", 7011], ["ingest", "aggregator", 7021],
];

checks["NetworkPolicies allow every hop of the design and deny the others"] = (objs) => {
    const out = [];
    const templates = podTemplates(objs);
    const byName = (n) => templates.find((t) => t.labels["app.kubernetes.io/name"] === n);
    if (!objs.some((o) => o.kind === "NetworkPolicy" && o.metadata.name === "default-deny"
        && !Object.keys(o.spec.podSelector || {}).length
        && (o.spec.policyTypes || []).includes("Ingress") && (o.spec.policyTypes || []).includes("Egress")))
        out.push("no default-deny policy for ingress and egress");
    for (const [from, to, port] of HOPS_ALLOWED) {
        const s = byName(from), d = byName(to);
        if (s && d && !allowed(objs, s, d, port))
            out.push(`${from} -> ${to}:${port} is not allowed`);
    }
    for (const [from, to, port] of HOPS_DENIED) {
        const s = byName(from), d = byName(to);
        if (s && d && allowed(objs, s, d, port))
            out.push(`${from} -> ${to}:${port} is allowed but is not a hop of the design`);
    }
    return out;
};

//  Shard lists: key -> [[statefulset, port], ...] in order.
const SHARD_KEYS = {
    SCORER_WORK: [["scorer", 7011]], SCORER_ALERTS: [["scorer", 7012]],
    AGGREGATOR_WORK: [["aggregator", 7021]], AGGREGATOR_WINDOWS: [["aggregator", 7022]],
    NOTIFIER_ALERTS: [["scorer", 7012], ["aggregator", 7022]],
};
//  Which container env takes which key.
const SHARD_WIRING = [
    ["validator", "TXW_SCORER_ENDPOINTS", "SCORER_WORK"],
    ["scorer", "TXW_AGGREGATOR_ENDPOINTS", "AGGREGATOR_WORK"],
    ["gateway", "TXW_ALERT_ENDPOINTS", "SCORER_ALERTS"],
    ["gateway", "TXW_WINDOW_ENDPOINTS", "AGGREGATOR_WINDOWS"],
    ["notifier", "TXW_ALERT_ENDPOINTS", "NOTIFIER_ALERTS"],
];

checks["shard endpoint lists match the scorer and aggregator StatefulSets"] = (objs) => {
    const out = [];
    const cm = findGenerated(objs, "ConfigMap", "txwatch-shards");
    if (!cm)
        return ["no txwatch-shards ConfigMap"];
    const data = dataOf(cm);
    for (const [key, parts] of Object.entries(SHARD_KEYS)) {
        const expected = [];
        for (const [name, port] of parts) {
            const ss = find(objs, "StatefulSet", name);
            if (!ss) {
                out.push(`no StatefulSet ${name}`);
                continue;
            }
            const ns = ss.metadata.namespace || NAMESPACE;
            for (let i = 0; i < replicasOf(ss); i++)
                expected.push(`tcp://${name}-${i}.${ss.spec.serviceName}.${ns}.svc.cluster.local:${port}`);
        }
        const actual = (data[key] || "").split(",").map((s) => s.trim()).filter(Boolean);
        if (actual.join(",") !== expected.join(","))
            out.push(`${key} lists ${actual.length} endpoints [${actual.join(" ")}], the StatefulSets need ${expected.length} [${expected.join(" ")}]`);
    }
    const templates = podTemplates(objs);
    for (const [name, env, key] of SHARD_WIRING) {
        const t = templates.find((t) => t.labels["app.kubernetes.io/name"] === name);
        if (!t)
            continue;
        const e = (t.spec.containers[0].env || []).find((e) => e.name === env);
        const ref = e && e.valueFrom && e.valueFrom.configMapKeyRef;
        if (!ref || ref.key !== key || ref.name !== cm.metadata.name)
            out.push(`${name}: ${env} does not come from ${cm.metadata.name} key ${key}`);
    }
    for (const name of ["scorer", "aggregator"]) {
        const t = templates.find((t) => t.labels["app.kubernetes.io/name"] === name);
        const e = t && (t.spec.containers[0].env || []).find((e) => e.name === "TXW_SHARD");
        if (t && !(e && e.valueFrom && e.valueFrom.fieldRef
            && e.valueFrom.fieldRef.fieldPath === "metadata.labels['apps.kubernetes.io/pod-index']"))
            out.push(`${name}: TXW_SHARD is not the pod ordinal`);
    }
    return out;
};

checks["HPAs target existing workloads whose replicas are within bounds"] = (objs) => {
    const out = [];
    for (const h of objs.filter((o) => o.kind === "HorizontalPodAutoscaler")) {
        const ref = h.spec.scaleTargetRef;
        const w = find(objs, ref.kind, ref.name);
        const min = h.spec.minReplicas ?? 1, max = h.spec.maxReplicas;
        if (!w)
            out.push(`HPA ${h.metadata.name}: target ${ref.kind}/${ref.name} does not exist`);
        else
        if (replicasOf(w) < min || replicasOf(w) > max)
            out.push(`HPA ${h.metadata.name}: ${ref.kind}/${ref.name} replicas ${replicasOf(w)} outside ${min}..${max}`);
        if (min > max)
            out.push(`HPA ${h.metadata.name}: minReplicas ${min} > maxReplicas ${max}`);
        if (!(h.spec.metrics || []).length)
            out.push(`HPA ${h.metadata.name}: no metrics`);
    }
    return out;
};

checks["PodDisruptionBudgets select a workload and leave room for a drain"] = (objs) => {
    const out = [];
    const workloads = objs.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind));
    for (const p of objs.filter((o) => o.kind === "PodDisruptionBudget")) {
        const both = p.spec.minAvailable !== undefined && p.spec.maxUnavailable !== undefined;
        const none = p.spec.minAvailable === undefined && p.spec.maxUnavailable === undefined;
        if (both || none)
            out.push(`PDB ${p.metadata.name}: needs exactly one of minAvailable and maxUnavailable`);
        const ws = workloads.filter((w) => selects(p.spec.selector, w.spec.template.metadata.labels || {}));
        if (ws.length !== 1) {
            out.push(`PDB ${p.metadata.name}: selects ${ws.length} workloads`);
            continue;
        }
        const hpa = objs.find((o) => o.kind === "HorizontalPodAutoscaler"
            && o.spec.scaleTargetRef.name === ws[0].metadata.name);
        const floor = hpa? hpa.spec.minReplicas ?? 1: replicasOf(ws[0]);
        if (typeof p.spec.minAvailable === "number" && p.spec.minAvailable >= floor)
            out.push(`PDB ${p.metadata.name}: minAvailable ${p.spec.minAvailable} >= ${floor} replicas blocks every drain`);
        if (p.spec.maxUnavailable === 0)
            out.push(`PDB ${p.metadata.name}: maxUnavailable 0 blocks every drain`);
    }
    return out;
};

checks["Ingress backends are existing Services and ports"] = (objs) => {
    const out = [];
    const ingresses = objs.filter((o) => o.kind === "Ingress");
    if (!ingresses.length)
        out.push("no Ingress");
    for (const ing of ingresses)
        for (const rule of ing.spec.rules || [])
            for (const path of (rule.http || {}).paths || []) {
                const b = path.backend.service;
                const svc = b && find(objs, "Service", b.name);
                if (!svc) {
                    out.push(`Ingress ${ing.metadata.name} ${path.path}: Service ${b && b.name} does not exist`);
                    continue;
                }
                if (!(svc.spec.ports || []).some((p) => (b.port.name? p.name === b.port.name: p.port === b.port.number)))
                    out.push(`Ingress ${ing.metadata.name} ${path.path}: Service ${b.name} has no port ${b.port.name || b.port.number}`);
            }
    const want = { "/": "gateway", "/ws": "gateway", "/api": "query" };
    for (const [path, svc] of Object.entries(want))
        if (!ingresses.some((ing) => (ing.spec.rules || []).some((r) => ((r.http || {}).paths || [])
            .some((p) => p.path === path && p.backend.service && p.backend.service.name === svc))))
            out.push(`no Ingress path ${path} to ${svc}`);
    return out;
};

checks[`every namespaced object is in namespace ${NAMESPACE}`] = (objs) => {
    const out = [];
    if (!find(objs, "Namespace", NAMESPACE))
        out.push(`no Namespace ${NAMESPACE}`);
    for (const o of objs)
        if (o.kind !== "Namespace" && o.metadata.namespace !== NAMESPACE)
            out.push(`${o.kind}/${o.metadata.name} is in namespace ${o.metadata.namespace}`);
    return out;
};

checks["the scorer-rules ConfigMap holds services/scorer/default-rules.json"] = (objs, opt) => {
    if (!opt.rules)
        return ["no --rules FILE given"];
    const cm = findGenerated(objs, "ConfigMap", "scorer-rules");
    if (!cm)
        return ["no scorer-rules ConfigMap"];
    const want = readFileSync(opt.rules, "utf8");
    return dataOf(cm)["rules.json"] === want? []
        : ["rules.json differs from " + opt.rules + " (copy it to k8s/base/files/scorer-rules.json)"];
};

//  "txwatch/<service>:tag" runs build/bin/txw-<service>; --help-dir holds the
//  --help text of each binary as <service>.txt.
checks["every TXW_* variable and flag given to a txwatch container is an option of its binary"] = (objs, opt) => {
    if (!opt.helpDir)
        return ["no --help-dir given"];
    const out = [];
    for (const t of podTemplates(objs))
        for (const c of allContainers(t.spec)) {
            const m = /^(?:.*\/)?txwatch\/([a-z]+):/.exec(c.image || "");
            if (!m || m[1] === "postgres")      // the database: no txwatch binary
                continue;
            //  tools runs txwctl: tools.txt is its --help and that of the
            //  commands the manifests use, whose options stand in usage lines.
            const tool = m[1] === "tools", binary = tool? "txwctl": `txw-${m[1]}`;
            const option = (flag) => new RegExp(tool? `(^|[\\s\\[])--${flag}\\b`: `^\\s+--${flag}\\b`, "m");
            let help;
            try {
                help = readFileSync(`${opt.helpDir}/${m[1]}.txt`, "utf8");
            }
            catch {
                out.push(`${t.name}: no --help text for ${m[1]}`);
                continue;
            }
            const where = `${t.name} container ${c.name}`;
            const names = (c.env || []).map((e) => e.name);
            for (const ef of c.envFrom || [])
                if (ef.secretRef) {
                    const secret = find(objs, "Secret", ef.secretRef.name);
                    if (secret)
                        names.push(...Object.keys(dataOf(secret)));
                }
            for (const n of names.filter((n) => n.startsWith("TXW_")))
                if (!new RegExp(`\\b${n}\\b`).test(help))
                    out.push(`${where}: ${n} is not an option of ${binary}`);
            for (const a of [...(c.command || []).slice(1), ...(c.args || [])]) {
                const flag = /^--([a-z0-9-]+)/.exec(a);
                if (flag && !option(flag[1]).test(help))
                    out.push(`${where}: --${flag[1]} is not an option of ${binary}`);
            }
        }
    return out;
};

//  The group role each database client's login joins (proto/SQL.md, "Roles").
const DB_GROUPS = { aggregator: "txw_store", scorer: "txw_score", validator: "txw_ingest",
                    query: "txw_api", gateway: "txw_push", notifier: "txw_notify",
                    ingest: "txw_post" };
const DB_SECRET = "txwatch-db";
const OWNER_KEY = "TXW_DATABASE_URL";
const MIGRATE_JOB = "Job/txw-migrate";
const BOOTSTRAP_JOB = "Job/txw-bootstrap-key";
//  The Jobs that act as the schema's owner: the migrations and logins, the
//  first admin API key (its own check below) and the producer's product
//  catalogue (no service's login may write the products).
const OWNER_JOBS = [MIGRATE_JOB, BOOTSTRAP_JOB, "Job/txw-products"];
const dbKeyOf = (e) => {
    const ref = ((e || {}).valueFrom || {}).secretKeyRef;
    return ref && ref.name === DB_SECRET? ref.key: null;
};

checks["database logins: only the migration, bootstrap and product catalogue Jobs read the owner's URL; each client logs in as its own login, which the migration Job makes"] = (objs, opt) => {
    const out = [];
    const keyOf = dbKeyOf;
    const templates = podTemplates(objs);
    const job = templates.find((t) => t.name === MIGRATE_JOB);
    const jobEnv = Object.fromEntries(((job && job.spec.containers[0].env) || []).map((e) => [e.name, e]));
    if (!job)
        out.push(`no ${MIGRATE_JOB}`);
    else
    if (keyOf(jobEnv.TXW_DATABASE_URL) !== OWNER_KEY)
        out.push(`${MIGRATE_JOB}: TXW_DATABASE_URL is not ${DB_SECRET} key ${OWNER_KEY} (the owner)`);
    //  Secret key -> group, from the Job's TXW_LOGIN_ROLES ("GROUP=$(VAR)" items).
    const made = {};
    for (const item of String((jobEnv.TXW_LOGIN_ROLES || {}).value || "").split(/\s+/).filter(Boolean)) {
        const m = /^([a-z_]+)=\$\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(item);
        const key = m && keyOf(jobEnv[m[2]]);
        if (!key || key === OWNER_KEY)
            out.push(`${MIGRATE_JOB}: TXW_LOGIN_ROLES item ${item} is not GROUP=$(VAR), VAR a login's key of ${DB_SECRET}`);
        else
            made[key] = m[1];
    }
    for (const t of templates.filter((t) => !OWNER_JOBS.includes(t.name)))
        for (const c of allContainers(t.spec)) {
            const where = `${t.name} container ${c.name}`;
            if ((c.envFrom || []).some((ef) => ef.secretRef && ef.secretRef.name === DB_SECRET))
                out.push(`${where}: envFrom Secret ${DB_SECRET} would hand it the owner's URL`);
            for (const e of c.env || [])
                if (keyOf(e) === OWNER_KEY)
                    out.push(`${where}: ${e.name} is the owner's URL`);
            const url = (c.env || []).find((e) => e.name === "TXW_DATABASE_URL");
            if (t.labels["txwatch.io/db-client"] !== "true") {
                if (url)
                    out.push(`${where}: has TXW_DATABASE_URL but no label txwatch.io/db-client (no network path)`);
                continue;
            }
            const service = t.owner.metadata.name, group = DB_GROUPS[service];
            const key = `${service.toUpperCase()}_DATABASE_URL`;
            if (!group)
                out.push(`${where}: a database client without a group role (proto/SQL.md, "Roles")`);
            else
            if (keyOf(url) !== key)
                out.push(`${where}: TXW_DATABASE_URL is not its own login, ${DB_SECRET} key ${key}`);
            else
            if (made[key] !== group)
                out.push(`${where}: ${MIGRATE_JOB} does not make the login of ${key} in ${group}`);
            const migrate = (c.env || []).find((e) => e.name === "TXW_MIGRATE");
            if (["aggregator", "scorer", "validator"].includes(service) && (!migrate || migrate.value !== "false"))
                out.push(`${where}: TXW_MIGRATE is not "false" (its login cannot migrate)`);
        }
    //  The URLs themselves when the Secret is part of the manifests: one
    //  login per key, none the owner, all on the owner's server and database.
    const secret = find(objs, "Secret", DB_SECRET);
    if (secret) {
        const data = dataOf(secret);
        const parse = (k) => { try { return new URL(data[k]); } catch { return null; } };
        const owner = parse(OWNER_KEY);
        const users = {};
        for (const key of Object.keys(made)) {
            const u = parse(key);
            if (!owner || !u) {
                out.push(`Secret ${DB_SECRET}: ${!owner? OWNER_KEY: key} is not a URL`);
                continue;
            }
            if (u.username === owner.username)
                out.push(`Secret ${DB_SECRET}: ${key} logs in as the owner ${owner.username}`);
            if (u.host !== owner.host || u.pathname !== owner.pathname)
                out.push(`Secret ${DB_SECRET}: ${key} is not on the owner's server and database`);
            if (users[u.username])
                out.push(`Secret ${DB_SECRET}: ${key} and ${users[u.username]} share the login ${u.username}`);
            users[u.username] = key;
        }
    }
    return out;
};

//  The first admin API key: the Job txw-bootstrap-key runs `txwctl keys
//  create NAME admin --database-url $(VAR) --if-none`, VAR the owner's URL,
//  and prints the key in its log (no --out: a file in a Job's pod is lost
//  with it), which goes when the Job is deleted after its TTL.
checks["the first admin key: the bootstrap Job makes one as the owner only while none is active, into its log, and is deleted after a while"] = (objs) => {
    const out = [];
    const t = podTemplates(objs).find((t) => t.name === BOOTSTRAP_JOB);
    if (!t)
        return [`no ${BOOTSTRAP_JOB}`];
    const c = (t.spec.containers || [])[0] || {};
    const args = [...(c.command || []), ...(c.args || [])];
    const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
    if (!/^(?:.*\/)?txwatch\/tools:/.test(c.image || ""))
        out.push(`${BOOTSTRAP_JOB}: image ${c.image} is not txwatch/tools (txwctl)`);
    if (args.slice(0, 2).join(" ") !== "keys create" || args[3] !== "admin")
        out.push(`${BOOTSTRAP_JOB}: does not run \`txwctl keys create NAME admin\` (${args.join(" ")})`);
    if (!args.includes("--if-none"))
        out.push(`${BOOTSTRAP_JOB}: no --if-none: every run would make another admin key`);
    if (args.some((a) => /^--out\b/.test(a)))
        out.push(`${BOOTSTRAP_JOB}: --out writes the key into the pod, where nobody reads it; the log is the way out`);
    const i = args.indexOf("--database-url");
    const m = i >= 0 && /^\$\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(args[i + 1] || "");
    if (!m || dbKeyOf(env[m[1]]) !== OWNER_KEY)
        out.push(`${BOOTSTRAP_JOB}: --database-url is not $(VAR), VAR from ${DB_SECRET} key ${OWNER_KEY} (the owner)`);
    if (t.labels["txwatch.io/db-client"] !== "true")
        out.push(`${BOOTSTRAP_JOB}: no label txwatch.io/db-client (no network path to PostgreSQL)`);
    const ttl = t.owner.spec.ttlSecondsAfterFinished;
    if (typeof ttl !== "number" || ttl > 86400)
        out.push(`${BOOTSTRAP_JOB}: ttlSecondsAfterFinished ${ttl}: the key in its log must go within a day`);
    if (!((t.owner.spec.backoffLimit ?? 6) >= 1) || !["OnFailure", "Never"].includes(t.spec.restartPolicy))
        out.push(`${BOOTSTRAP_JOB}: not retried while the schema is not there yet`);
    return out;
};

//  Secrets read as files. A Secret volume's files are root's, in the pod's
//  fsGroup when it has one, with the volume's (or item's) mode: the
//  container's user (never root here) reads them through the group.
const PSEUDONYM_SECRET = "txwatch-pseudonym", PSEUDONYM_KEY = "pseudonym.key";
const SIGNING_SECRET = "txwatch-notifier-signing", SIGNING_KEY = "webhook-secret";
const octal = (mode) => "0" + mode.toString(8);

//  Problems with container c of template t reading key `key` of Secret
//  `secret` as the file its variable `variable` names.
function secretFileProblems (objs, t, c, secret, key, variable) {
    const where = `${t.name} container ${c.name}`;
    const env = (c.env || []).find((e) => e.name === variable);
    if (!env || typeof env.value !== "string" || !env.value)
        return [`${where}: ${variable} does not name a file`];
    const files = [];
    for (const v of (t.spec.volumes || []).filter((v) => v.secret && v.secret.secretName === secret))
        for (const m of (c.volumeMounts || []).filter((m) => m.name === v.name))
            for (const item of v.secret.items || [{ key, path: key }])
                files.push({ m, key: item.key, mode: item.mode ?? v.secret.defaultMode ?? 0o644,
                             path: m.subPath? m.mountPath: `${m.mountPath.replace(/\/$/, "")}/${item.path}` });
    const f = files.find((f) => f.path === env.value);
    if (!f)
        return [`${where}: ${variable}=${env.value} is not a file of a mounted Secret ${secret}`];
    const out = [];
    if (f.key !== key)
        out.push(`${where}: ${env.value} holds key ${f.key} of ${secret}, not ${key}`);
    if (f.m.subPath)
        out.push(`${where}: ${secret} is mounted with subPath, which never sees the Secret change`);
    if (f.m.readOnly !== true)
        out.push(`${where}: ${secret} is mounted writable`);
    if (f.mode & 0o007)
        out.push(`${where}: ${env.value} is readable by every user (mode ${octal(f.mode)})`);
    const fsGroup = (t.spec.securityContext || {}).fsGroup;
    if (fsGroup === undefined || !(f.mode & 0o040))
        out.push(`${where}: its user cannot read ${env.value} (owner root, mode ${octal(f.mode)}`
                 + `${fsGroup === undefined? ", no fsGroup": ""})`);
    const obj = find(objs, "Secret", secret);
    if (obj && !(key in dataOf(obj)))
        out.push(`Secret ${secret}: no key ${key}`);
    return out;
}

//  Whether a pod template or container takes Secret `secret` as variables.
const asVariables = (c, secret) => (c.envFrom || []).some((ef) => ef.secretRef && ef.secretRef.name === secret)
    || (c.env || []).some((e) => ((e.valueFrom || {}).secretKeyRef || {}).name === secret);
const mounts = (t, secret) => (t.spec.volumes || []).some((v) => v.secret && v.secret.secretName === secret);
//  The txwatch service an image runs (not the database's txwatch/postgres).
const serviceImage = (c) => {
    const m = /^(?:.*\/)?txwatch\/([a-z]+):/.exec(c.image || "");
    return m && m[1] !== "postgres"? m[1]: undefined;
};

checks["pseudonym key: every txwatch service reads the Secret txwatch-pseudonym as a read-only file (TXW_PSEUDONYM_KEY_FILE) that only its user may read; the Jobs do not"] = (objs) => {
    const out = [];
    for (const t of podTemplates(objs))
        for (const c of allContainers(t.spec)) {
            const svc = serviceImage(c);
            if (asVariables(c, PSEUDONYM_SECRET))
                out.push(`${t.name} container ${c.name}: takes ${PSEUDONYM_SECRET} as variables, not as a file`);
            if (!svc)
                continue;
            if (t.owner.kind === "Job" || svc === "tools") {
                if (mounts(t, PSEUDONYM_SECRET) || (c.env || []).some((e) => e.name === "TXW_PSEUDONYM_KEY_FILE"))
                    out.push(`${t.name}: a one-shot that masks no id gets the pseudonym key`);
                continue;
            }
            out.push(...secretFileProblems(objs, t, c, PSEUDONYM_SECRET, PSEUDONYM_KEY, "TXW_PSEUDONYM_KEY_FILE"));
        }
    return out;
};

checks["webhook signing: only the notifier reads the Secret txwatch-notifier-signing, as a read-only file (TXW_WEBHOOK_SECRET_FILE) that only its user may read"] = (objs) => {
    const out = [];
    let notifiers = 0;
    for (const t of podTemplates(objs)) {
        const notifier = t.labels["app.kubernetes.io/name"] === "notifier";
        if (!notifier && mounts(t, SIGNING_SECRET))
            out.push(`${t.name}: mounts ${SIGNING_SECRET}, the notifier's alone`);
        for (const c of allContainers(t.spec)) {
            if (asVariables(c, SIGNING_SECRET))
                out.push(`${t.name} container ${c.name}: takes ${SIGNING_SECRET} as variables, not as a file`);
            if (!notifier && (c.env || []).some((e) => e.name === "TXW_WEBHOOK_SECRET_FILE"))
                out.push(`${t.name} container ${c.name}: sets TXW_WEBHOOK_SECRET_FILE`);
            if (notifier && serviceImage(c) === "notifier") {
                notifiers++;
                out.push(...secretFileProblems(objs, t, c, SIGNING_SECRET, SIGNING_KEY, "TXW_WEBHOOK_SECRET_FILE"));
            }
        }
    }
    if (!notifiers)
        out.push("no notifier container");
    return out;
};

//  CURVE (ARCHITECTURE.md, "CURVE: who may talk to whom"): the folders of
//  `txw-keygen --all`, one Secret each, so each workload holds only what its
//  role needs.
const ZMQ_ROLES = ["producer", "validator", "scorer", "aggregator", "gateway", "notifier"];
//  The CURVE role of a container: its service's, but txw-ingest sends as a
//  producer (the producer role's certificate; ARCHITECTURE.md, "HTTP ingest").
const CURVE_ROLE_OF = { ingest: "producer" };
const curveRole = (c) => { const s = serviceImage(c); return CURVE_ROLE_OF[s] ?? s; };
const BINDING_ROLES = ["validator", "scorer", "aggregator"];
const CURVE_SERVER = "txwatch-curve-server", CURVE_PUBLIC = "txwatch-curve-public";
const CURVE_ALLOWED = "txwatch-curve-allowed";
const curveRoleSecret = (role) => `txwatch-curve-${role}`;
const CURVE_SECRETS = [CURVE_SERVER, CURVE_PUBLIC, CURVE_ALLOWED, ...ZMQ_ROLES.map(curveRoleSecret)];
const CURVE_VARS = ["TXW_CURVE_SECRET_KEY", "TXW_CURVE_CLIENT_KEY", "TXW_CURVE_SERVER_KEY", "TXW_CURVE_ALLOWED"];
const curveVars = (c) => (c.env || []).filter((e) => CURVE_VARS.includes(e.name)).map((e) => e.name);

//  Problems with the directory TXW_CURVE_ALLOWED names: the whole Secret
//  txwatch-curve-allowed mounted there (no subPath, so updates arrive),
//  read-only, readable by the container's user only.
function allowedDirProblems (objs, t, c) {
    const where = `${t.name} container ${c.name}`;
    const env = (c.env || []).find((e) => e.name === "TXW_CURVE_ALLOWED");
    if (!env || typeof env.value !== "string" || !env.value)
        return [`${where}: TXW_CURVE_ALLOWED does not name a directory (any client key would be admitted)`];
    const vols = (t.spec.volumes || []).filter((v) => v.secret && v.secret.secretName === CURVE_ALLOWED);
    const m = (c.volumeMounts || []).find((m) => vols.some((v) => v.name === m.name)
        && m.mountPath.replace(/\/$/, "") === env.value.replace(/\/$/, ""));
    if (!m)
        return [`${where}: TXW_CURVE_ALLOWED=${env.value} is not where Secret ${CURVE_ALLOWED} is mounted`];
    const v = vols.find((v) => v.name === m.name), out = [];
    const mode = v.secret.defaultMode ?? 0o644;
    if (m.subPath)
        out.push(`${where}: ${CURVE_ALLOWED} is mounted with subPath, which never sees the Secret change`);
    if (m.readOnly !== true)
        out.push(`${where}: ${CURVE_ALLOWED} is mounted writable`);
    if (v.secret.items)
        out.push(`${where}: ${CURVE_ALLOWED} is mounted with items: a key added later would not appear`);
    if (mode & 0o007)
        out.push(`${where}: ${env.value} is readable by every user (mode ${octal(mode)})`);
    if ((t.spec.securityContext || {}).fsGroup === undefined || !(mode & 0o040))
        out.push(`${where}: its user cannot read ${env.value}`);
    const obj = find(objs, "Secret", CURVE_ALLOWED);
    if (obj) {
        const keys = Object.keys(dataOf(obj));
        for (const r of ZMQ_ROLES)
            if (!keys.some((k) => k === `${r}.key` || k.startsWith(`${r}-`) && k.endsWith(".key")))
                out.push(`Secret ${CURVE_ALLOWED}: no key of role ${r} (${r}.key), so no ${r} is admitted`);
    }
    return out;
}

checks["CURVE: every ZeroMQ service (producer, validator, scorer, aggregator, gateway, notifier) has CURVE on, with its role's client certificate and the servers' public one; those that bind also the server certificate and the allowed folder, all read-only files"] = (objs) => {
    const out = [];
    const seen = new Set();
    for (const t of podTemplates(objs).filter((t) => t.owner.kind !== "Job"))
        for (const c of t.spec.containers || []) {
            const role = curveRole(c);
            if (!ZMQ_ROLES.includes(role))
                continue;
            seen.add(role);
            for (const secret of CURVE_SECRETS)
                if (asVariables(c, secret))
                    out.push(`${t.name} container ${c.name}: takes ${secret} as variables, not as a file`);
            out.push(...secretFileProblems(objs, t, c, curveRoleSecret(role), `${role}.key_secret`, "TXW_CURVE_CLIENT_KEY"));
            out.push(...secretFileProblems(objs, t, c, CURVE_PUBLIC, "cluster.key", "TXW_CURVE_SERVER_KEY"));
            if (BINDING_ROLES.includes(role)) {
                out.push(...secretFileProblems(objs, t, c, CURVE_SERVER, "cluster.key_secret", "TXW_CURVE_SECRET_KEY"));
                out.push(...allowedDirProblems(objs, t, c));
            }
        }
    for (const role of ["validator", "scorer", "aggregator", "gateway"])
        if (!seen.has(role))
            out.push(`no ${role} container`);
    return out;
};

checks["CURVE secrets: the server certificate and the allowed folder only in the workloads that bind (validator, scorer, aggregator); each role's client certificate only in that role's workload"] = (objs) => {
    const out = [];
    for (const t of podTemplates(objs)) {
        const roles = new Set(allContainers(t.spec).map(curveRole).filter(Boolean));
        const binds = [...roles].some((r) => BINDING_ROLES.includes(r)) && t.owner.kind !== "Job";
        for (const secret of [CURVE_SERVER, CURVE_ALLOWED])
            if (mounts(t, secret) && !binds)
                out.push(`${t.name}: mounts ${secret}, which only the services that bind hold`);
        for (const r of ZMQ_ROLES)
            if (mounts(t, curveRoleSecret(r)) && (!roles.has(r) || t.owner.kind === "Job"))
                out.push(`${t.name}: mounts ${curveRoleSecret(r)}, the ${r}'s own client certificate`);
        for (const c of allContainers(t.spec)) {
            const role = curveRole(c);
            const env = envOf(objs, c);
            if (env.TXW_CURVE_SECRET_KEY !== undefined && !(BINDING_ROLES.includes(role) && t.owner.kind !== "Job"))
                out.push(`${t.name} container ${c.name}: sets TXW_CURVE_SECRET_KEY, the server secret`);
            const ck = (c.env || []).find((e) => e.name === "TXW_CURVE_CLIENT_KEY");
            if (ck && role && typeof ck.value === "string"
                && ZMQ_ROLES.some((r) => r !== role && ck.value.endsWith(`/${r}.key_secret`)))
                out.push(`${t.name} container ${c.name}: TXW_CURVE_CLIENT_KEY=${ck.value} is another role's certificate`);
        }
    }
    return out;
};

checks["CURVE off where no ZeroMQ is spoken: the query API, the Jobs and the tools set no TXW_CURVE_* variable (txw-query refuses to start with one) and mount no CURVE Secret"] = (objs) => {
    const out = [];
    for (const t of podTemplates(objs))
        for (const c of allContainers(t.spec)) {
            const role = curveRole(c);
            if (!role || (ZMQ_ROLES.includes(role) && t.owner.kind !== "Job"))
                continue;
            const vars = Object.keys(envOf(objs, c)).filter((k) => k.startsWith("TXW_CURVE_"));
            if (vars.length)
                out.push(`${t.name} container ${c.name}: sets ${vars.join(", ")}`);
            for (const secret of CURVE_SECRETS)
                if (mounts(t, secret))
                    out.push(`${t.name}: mounts ${secret}`);
        }
    return out;
};

checks["query API behind the Ingress: no per-address rate limit (TXW_RATE_PER_CLIENT=0: every request comes from the ingress controller)"] = (objs) => {
    const t = podTemplates(objs).find((t) => t.labels["app.kubernetes.io/name"] === "query" && t.owner.kind !== "Job");
    if (!t || !objs.some((o) => o.kind === "Ingress"))
        return [];
    const env = envOf(objs, t.spec.containers[0]);
    return Number(env.TXW_RATE_PER_CLIENT) === 0 && env.TXW_RATE_PER_CLIENT !== undefined? []
        : [`${t.name}: TXW_RATE_PER_CLIENT is ${env.TXW_RATE_PER_CLIENT ?? "not set (50 req/s)"}: one budget for every user behind the Ingress`];
};

//  The variables a container gets, as far as the manifests tell: envFrom
//  ConfigMaps and Secrets, then env values and ConfigMap/Secret keys
//  (unknown: undefined).
function envOf (objs, c) {
    const out = {};
    for (const ef of c.envFrom || []) {
        const obj = ef.configMapRef? find(objs, "ConfigMap", ef.configMapRef.name)
            : ef.secretRef? find(objs, "Secret", ef.secretRef.name): null;
        for (const [k, v] of Object.entries(obj? dataOf(obj): {}))
            out[(ef.prefix || "") + k] = v;
    }
    for (const e of c.env || []) {
        const vf = e.valueFrom || {}, ref = vf.configMapKeyRef || vf.secretKeyRef;
        const obj = ref && find(objs, vf.configMapKeyRef? "ConfigMap": "Secret", ref.name);
        out[e.name] = "value" in e? String(e.value): obj? dataOf(obj)[ref.key]: undefined;
    }
    return out;
}

checks["probes reach the admin port: every txwatch container with an HTTP probe binds its admin port on all addresses (TXW_ADMIN_ADDRESS)"] = (objs) => {
    const out = [];
    for (const t of podTemplates(objs).filter((t) => t.owner.kind !== "Job"))
        for (const c of t.spec.containers || []) {
            if (!serviceImage(c) || !(c.livenessProbe || c.readinessProbe || {}).httpGet)
                continue;
            const address = envOf(objs, c).TXW_ADMIN_ADDRESS;
            if (!/^(0\.0\.0\.0|::|\[::\])$/.test(address || ""))
                out.push(`${t.name} container ${c.name}: TXW_ADMIN_ADDRESS is ${address === undefined? "not set (127.0.0.1)": address}:`
                         + " the kubelet's probes come over the pod network");
        }
    return out;
};

checks["browser access: keys are required (TXW_AUTH never off), CORS never allows *, and the dashboard calls the API on its own origin or one query lists"] = (objs) => {
    const out = [];
    const byName = (n) => podTemplates(objs).find((t) => t.labels["app.kubernetes.io/name"] === n);
    for (const t of podTemplates(objs))
        for (const c of allContainers(t.spec)) {
            if (!serviceImage(c))
                continue;
            const env = envOf(objs, c), where = `${t.name} container ${c.name}`;
            if (/^(off|false|no|0)$/i.test(env.TXW_AUTH || ""))
                out.push(`${where}: TXW_AUTH=${env.TXW_AUTH} lets anyone in`);
            if ((env.TXW_CORS_ORIGINS || "").split(",").some((o) => o.trim() === "*"))
                out.push(`${where}: TXW_CORS_ORIGINS allows every origin (* is refused)`);
        }
    const gateway = byName("gateway"), query = byName("query");
    if (!gateway || !query)
        return out;
    const apiUrl = envOf(objs, gateway.spec.containers[0]).TXW_API_URL;
    if (apiUrl === "")
        return out;             //  the same origin: the Ingress routes /api to query
    const cors = (envOf(objs, query.spec.containers[0]).TXW_CORS_ORIGINS || "").split(",").map((o) => o.trim());
    for (const ing of objs.filter((o) => o.kind === "Ingress"))
        for (const rule of ing.spec.rules || []) {
            const tls = (ing.spec.tls || []).some((x) => (x.hosts || []).includes(rule.host));
            const origin = `${tls? "https": "http"}://${rule.host}`;
            if (!cors.includes(origin))
                out.push(`the gateway sends the dashboard to the API at ${apiUrl === undefined? ":8080 (default)": apiUrl},`
                         + ` another origin, but query's TXW_CORS_ORIGINS does not list ${origin}`);
        }
    return out;
};

checks["overlay expectations (replicas, absent objects)"] = (objs, opt) => {
    const out = [];
    for (const [name, count] of Object.entries(opt.replicas || {})) {
        const w = objs.find((o) => ["Deployment", "StatefulSet"].includes(o.kind) && o.metadata.name === name);
        if (!w)
            out.push(`no workload ${name}`);
        else
        if (replicasOf(w) !== count)
            out.push(`${w.kind}/${name} has ${replicasOf(w)} replicas, expected ${count}`);
    }
    for (const ref of opt.absent || []) {
        const [kind, name] = ref.split("/");
        if (find(objs, kind, name))
            out.push(`${ref} is rendered but must not be`);
    }
    return out;
};

//  --- Running --------------------------------------------------------------

function runAll (objs, opt) {
    const results = {};
    for (const [name, check] of Object.entries(checks))
        results[name] = check(objs, opt);
    return results;
}

function report (label, results) {
    let failed = 0;
    for (const [name, problems] of Object.entries(results)) {
        if (problems.length) {
            failed++;
            console.log(`not ok - ${label}: ${name}`);
            for (const p of problems.slice(0, 15))
                console.log(`# ${p}`);
        }
        else
            console.log(`ok - ${label}: ${name}`);
    }
    return failed;
}

//  Mutations of a good rendering; each names the check that must catch it.
const clone = (x) => structuredClone(x);
const tpl = (objs, kind, name) => find(objs, kind, name).spec.template.spec;
const C = Object.keys(checks);
const byWord = (w) => C.find((n) => n.includes(w));
const MUTATIONS = [
    ["validator without a readiness probe", byWord("probes"),
        (o) => delete tpl(o, "Deployment", "validator").containers[0].readinessProbe],
    ["a liveness probe on a port the container lacks", byWord("probes"),
        (o) => { tpl(o, "StatefulSet", "scorer").containers[0].livenessProbe.httpGet.port = "nope"; }],
    ["scorer without a memory limit", byWord("resources"),
        (o) => delete tpl(o, "StatefulSet", "scorer").containers[0].resources.limits.memory],
    ["gateway with a writable root filesystem", byWord("resources"),
        (o) => { tpl(o, "Deployment", "gateway").containers[0].securityContext.readOnlyRootFilesystem = false; }],
    ["migration job without seccomp", byWord("resources"),
        (o) => delete tpl(o, "Job", "txw-migrate").securityContext.seccompProfile],
    ["query with TXW_LISTEN twice", byWord("duplicate env"),
        (o) => tpl(o, "Deployment", "query").containers[0].env.push({ name: "TXW_LISTEN", value: "1" })],
    ["gateway image :latest", byWord("pinned"),
        (o) => { tpl(o, "Deployment", "gateway").containers[0].image = "txwatch/gateway:latest"; }],
    ["notifier image without a tag", byWord("pinned"),
        (o) => { tpl(o, "Deployment", "notifier").containers[0].image = "registry:5000/txwatch/notifier"; }],
    ["validator reading a missing ConfigMap key", byWord("referenced"),
        (o) => { tpl(o, "Deployment", "validator").containers[0].env
            .find((e) => e.name === "TXW_SCORER_ENDPOINTS").valueFrom.configMapKeyRef.key = "SCORER_WROK"; }],
    ["query reading a missing Secret", byWord("referenced"),
        (o) => { tpl(o, "Deployment", "query").containers[0].env
            .find((e) => e.name === "TXW_DATABASE_URL").valueFrom.secretKeyRef.name = "nope"; }],
    ["query Service targeting a missing port", byWord("every Service"),
        (o) => { find(o, "Service", "query").spec.ports[0].targetPort = "nope"; }],
    ["scorer governed by a Service that is not headless", byWord("every Service"),
        (o) => delete find(o, "Service", "scorer").spec.clusterIP],
    ["scorer policy opening a port the scorer lacks", byWord("every port a NetworkPolicy"),
        (o) => { find(o, "NetworkPolicy", "scorer").spec.ingress[0].ports[0].port = 7013; }],
    ["gateway egress to a validator port that does not exist", byWord("every port a NetworkPolicy"),
        (o) => { find(o, "NetworkPolicy", "gateway").spec.egress[2].ports[0].port = 7003; }],
    ["scorer without egress to the aggregators", byWord("hop of the design"),
        (o) => { find(o, "NetworkPolicy", "scorer").spec.egress = []; }],
    ["an allow-all policy added", byWord("hop of the design"),
        (o) => o.push({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
            metadata: { name: "allow-all", namespace: NAMESPACE }, spec: { podSelector: {},
            policyTypes: ["Ingress", "Egress"], ingress: [{}], egress: [{}] } })],
    ["PostgreSQL opened to every pod of the namespace", byWord("hop of the design"),
        (o) => { find(o, "NetworkPolicy", "postgres").spec.ingress[0].from = [{ podSelector: {} }];
                 find(o, "NetworkPolicy", "db-client-egress").spec.podSelector = {}; }],
    ["one more scorer without a longer list", byWord("shard endpoint"),
        (o) => { find(o, "StatefulSet", "scorer").spec.replicas++; }],
    ["aggregator list in the wrong order or namespace", byWord("shard endpoint"),
        (o) => { const cm = findGenerated(o, "ConfigMap", "txwatch-shards");
            cm.data.AGGREGATOR_WORK = cm.data.AGGREGATOR_WORK.replace(".txwatch.", ".default."); }],
    ["scorer shard number not from the ordinal", byWord("shard endpoint"),
        (o) => { tpl(o, "StatefulSet", "scorer").containers[0].env
            .find((e) => e.name === "TXW_SHARD").valueFrom.fieldRef.fieldPath = "metadata.name"; }],
    ["validator replicas above the HPA maximum", byWord("HPAs"),
        (o) => { find(o, "Deployment", "validator").spec.replicas = 99; }],
    ["PDB with both minAvailable and maxUnavailable", byWord("PodDisruptionBudgets"),
        (o) => { find(o, "PodDisruptionBudget", "query").spec.minAvailable = 0; }],
    ["PDB minAvailable equal to the replicas", byWord("PodDisruptionBudgets"),
        (o) => { const p = find(o, "PodDisruptionBudget", "gateway").spec;
            delete p.maxUnavailable; p.minAvailable = 1; }],
    ["Ingress /api to a missing Service", byWord("Ingress"),
        (o) => { find(o, "Ingress", "txwatch").spec.rules[0].http.paths[0].backend.service.name = "api"; }],
    ["an object in another namespace", byWord("namespace"),
        (o) => { find(o, "Service", "gateway").metadata.namespace = "default"; }],
    ["edited rules", byWord("scorer-rules"),
        (o) => { const cm = findGenerated(o, "ConfigMap", "scorer-rules");
            cm.data["rules.json"] = cm.data["rules.json"].replace(/"weight": \d+/, '"weight": 1'); }],
    ["gateway with a misspelt variable", byWord("option of its binary"),
        (o) => tpl(o, "Deployment", "gateway").containers[0].env.push({ name: "TXW_DOCUMNET_ROOT", value: "/" })],
    ["migration job with an unknown flag", byWord("option of its binary"),
        (o) => { tpl(o, "Job", "txw-migrate").containers[0].args = ["--migrate-once"]; }],
    ["query logging in as the owner", byWord("database logins"),
        (o) => { tpl(o, "Deployment", "query").containers[0].env
            .find((e) => e.name === "TXW_DATABASE_URL").valueFrom.secretKeyRef.key = "TXW_DATABASE_URL"; }],
    ["the gateway handed the whole database Secret", byWord("database logins"),
        (o) => { tpl(o, "Deployment", "gateway").containers[0].envFrom.push({ secretRef: { name: "txwatch-db" } }); }],
    ["the migration Job not making the notifier's login", byWord("database logins"),
        (o) => { const e = tpl(o, "Job", "txw-migrate").containers[0].env.find((v) => v.name === "TXW_LOGIN_ROLES");
            e.value = e.value.replace(/txw_notify=\S+/, ""); }],
    ["two services sharing a login", byWord("database logins"),
        (o) => { const s = find(o, "Secret", "txwatch-db");
            s.data.SCORER_DATABASE_URL = s.data.AGGREGATOR_DATABASE_URL; }],
    ["a scorer that migrates", byWord("database logins"),
        (o) => { tpl(o, "StatefulSet", "scorer").containers[0].env
            .find((e) => e.name === "TXW_MIGRATE").value = "true"; }],
    ["the bootstrap Job reading a service's login instead of the owner's", byWord("first admin key"),
        (o) => { tpl(o, "Job", "txw-bootstrap-key").containers[0].env
            .find((e) => e.name === "OWNER_DATABASE_URL").valueFrom.secretKeyRef.key = "QUERY_DATABASE_URL"; }],
    ["the bootstrap Job without --if-none", byWord("first admin key"),
        (o) => { const c = tpl(o, "Job", "txw-bootstrap-key").containers[0];
            c.args = c.args.filter((a) => a !== "--if-none"); }],
    ["the bootstrap Job writing the key into its pod", byWord("first admin key"),
        (o) => { tpl(o, "Job", "txw-bootstrap-key").containers[0].args.push("--out", "/tmp/admin.key"); }],
    ["the bootstrap Job kept (with the key in its log) for good", byWord("first admin key"),
        (o) => delete find(o, "Job", "txw-bootstrap-key").spec.ttlSecondsAfterFinished],
    ["the bootstrap Job with an option txwctl lacks", byWord("option of its binary"),
        (o) => { tpl(o, "Job", "txw-bootstrap-key").containers[0].args.push("--if-nothing"); }],
    ["a service reading the owner's URL besides the two Jobs", byWord("database logins"),
        (o) => tpl(o, "Deployment", "notifier").containers[0].env.push({ name: "OWNER",
            valueFrom: { secretKeyRef: { name: "txwatch-db", key: "TXW_DATABASE_URL" } } })],
    ["the scorer without TXW_PSEUDONYM_KEY_FILE", byWord("pseudonym key:"),
        (o) => { const c = tpl(o, "StatefulSet", "scorer").containers[0];
            c.env = c.env.filter((e) => e.name !== "TXW_PSEUDONYM_KEY_FILE"); }],
    ["the producer's key file beside its mount", byWord("pseudonym key:"),
        (o) => { tpl(o, "Deployment", "producer").containers[0].env
            .find((e) => e.name === "TXW_PSEUDONYM_KEY_FILE").value = "/etc/txwatch/pseudonym.key"; }],
    ["the gateway's pseudonym key mounted writable", byWord("pseudonym key:"),
        (o) => { tpl(o, "Deployment", "gateway").containers[0].volumeMounts
            .find((m) => m.name === "pseudonym").readOnly = false; }],
    ["the query's pseudonym key readable by every user", byWord("pseudonym key:"),
        (o) => { tpl(o, "Deployment", "query").volumes.find((v) => v.name === "pseudonym").secret.defaultMode = 0o444; }],
    ["the validator without fsGroup (its user cannot read the key)", byWord("pseudonym key:"),
        (o) => delete tpl(o, "Deployment", "validator").securityContext.fsGroup],
    ["the aggregator mounting another Secret as its key", byWord("pseudonym key:"),
        (o) => { tpl(o, "StatefulSet", "aggregator").volumes.find((v) => v.name === "pseudonym")
            .secret.secretName = "txwatch-notifier-signing"; }],
    ["the migration Job given the pseudonym key", byWord("pseudonym key:"),
        (o) => tpl(o, "Job", "txw-migrate").containers[0].env.push({ name: "TXW_PSEUDONYM_KEY_FILE", value: "/k" })],
    ["the gateway mounting the webhook signing secret", byWord("webhook signing"),
        (o) => tpl(o, "Deployment", "gateway").volumes.push({ name: "s", secret: { secretName: "txwatch-notifier-signing" } })],
    ["the notifier without TXW_WEBHOOK_SECRET_FILE", byWord("webhook signing"),
        (o) => { const c = tpl(o, "Deployment", "notifier").containers[0];
            c.env = c.env.filter((e) => e.name !== "TXW_WEBHOOK_SECRET_FILE"); }],
    ["the notifier loading the signing secret as variables", byWord("webhook signing"),
        (o) => tpl(o, "Deployment", "notifier").containers[0].envFrom.push({ secretRef: { name: "txwatch-notifier-signing" } })],
    ["the gateway without CURVE (no client certificate)", byWord("CURVE: every ZeroMQ"),
        (o) => { const c = tpl(o, "Deployment", "gateway").containers[0];
            c.env = c.env.filter((e) => e.name !== "TXW_CURVE_CLIENT_KEY"); }],
    ["the scorer binding without the server certificate", byWord("CURVE: every ZeroMQ"),
        (o) => { const c = tpl(o, "StatefulSet", "scorer").containers[0];
            c.env = c.env.filter((e) => e.name !== "TXW_CURVE_SECRET_KEY"); }],
    ["the aggregator admitting any key (no allowed folder)", byWord("CURVE: every ZeroMQ"),
        (o) => { const c = tpl(o, "StatefulSet", "aggregator").containers[0];
            c.env = c.env.filter((e) => e.name !== "TXW_CURVE_ALLOWED"); }],
    ["the validator's allowed folder mounted with subPath", byWord("CURVE: every ZeroMQ"),
        (o) => { tpl(o, "Deployment", "validator").containers[0].volumeMounts
            .find((m) => m.name === "curve-allowed").subPath = "producer.key"; }],
    ["the producer's server key pointing beside its mount", byWord("CURVE: every ZeroMQ"),
        (o) => { tpl(o, "Deployment", "producer").containers[0].env
            .find((e) => e.name === "TXW_CURVE_SERVER_KEY").value = "/etc/txwatch/curve/cluster.key"; }],
    ["the notifier's certificate readable by every user", byWord("CURVE: every ZeroMQ"),
        (o) => { tpl(o, "Deployment", "notifier").volumes.find((v) => v.name === "curve-notifier")
            .secret.defaultMode = 0o444; }],
    ["the gateway given the server certificate", byWord("CURVE secrets:"),
        (o) => tpl(o, "Deployment", "gateway").volumes.push({ name: "x", secret: { secretName: "txwatch-curve-server" } })],
    ["the notifier given the allowed folder", byWord("CURVE secrets:"),
        (o) => tpl(o, "Deployment", "notifier").volumes.push({ name: "x", secret: { secretName: "txwatch-curve-allowed" } })],
    ["the scorer holding the aggregator's client certificate", byWord("CURVE secrets:"),
        (o) => tpl(o, "StatefulSet", "scorer").volumes.push({ name: "x", secret: { secretName: "txwatch-curve-aggregator" } })],
    ["the producer connecting with the validator's certificate", byWord("CURVE secrets:"),
        (o) => { const t = tpl(o, "Deployment", "producer");
            t.volumes.find((v) => v.name === "curve-producer").secret.secretName = "txwatch-curve-validator"; }],
    ["query given a CURVE variable", byWord("CURVE off"),
        (o) => tpl(o, "Deployment", "query").containers[0].env.push({ name: "TXW_CURVE_SERVER_KEY", value: "/k" })],
    ["the migration Job mounting the public certificate", byWord("CURVE off"),
        (o) => tpl(o, "Job", "txw-migrate").volumes = [{ name: "x", secret: { secretName: "txwatch-curve-public" } }]],
    ["a CURVE variable in txwatch-common (query loads it too)", byWord("CURVE off"),
        (o) => { findGenerated(o, "ConfigMap", "txwatch-common").data.TXW_CURVE_SERVER_KEY = "/k"; }],
    ["query limiting per address behind the Ingress", byWord("TXW_RATE_PER_CLIENT"),
        (o) => { const c = tpl(o, "Deployment", "query").containers[0];
            c.env = c.env.filter((e) => e.name !== "TXW_RATE_PER_CLIENT"); }],
    ["admin ports on loopback (TXW_ADMIN_ADDRESS gone from txwatch-common)", byWord("probes reach"),
        (o) => delete findGenerated(o, "ConfigMap", "txwatch-common").data.TXW_ADMIN_ADDRESS],
    ["the gateway's admin port on 127.0.0.1", byWord("probes reach"),
        (o) => tpl(o, "Deployment", "gateway").containers[0].env.push({ name: "TXW_ADMIN_ADDRESS", value: "127.0.0.1" })],
    ["the gateway letting anyone open /ws", byWord("browser access"),
        (o) => tpl(o, "Deployment", "gateway").containers[0].env.push({ name: "TXW_AUTH", value: "false" })],
    ["query allowing every origin", byWord("browser access"),
        (o) => tpl(o, "Deployment", "query").containers[0].env.push({ name: "TXW_CORS_ORIGINS", value: "*" })],
    ["the dashboard sent to an API origin query does not list", byWord("browser access"),
        (o) => { tpl(o, "Deployment", "gateway").containers[0].env
            .find((e) => e.name === "TXW_API_URL").value = "https://api.example.com"; }],
    ["a producer where none is expected", byWord("overlay expectations"),
        (o) => o.push({ kind: "Deployment", metadata: { name: "ghost", namespace: NAMESPACE },
            spec: { replicas: 1, template: { metadata: { labels: {} }, spec: {} } } }),
        { absent: ["Deployment/ghost"] }],
];

function selfTest (objs, opt) {
    let failed = 0;
    const base = runAll(objs, opt);
    const clean = Object.values(base).every((p) => !p.length);
    console.log(`${clean? "ok": "not ok"} - self-test: the unbroken rendering passes every check`);
    if (!clean)
        failed++;
    const caught = new Set();
    for (const [what, check, mutate, extra] of MUTATIONS) {
        const broken = clone(objs);
        mutate(broken);
        const problems = checks[check](broken, { ...opt, ...(extra || {}) });
        if (problems.length) {
            caught.add(check);
            console.log(`ok - self-test: ${what} fails "${check}" (${problems[0]})`);
        }
        else {
            failed++;
            console.log(`not ok - self-test: ${what} fails "${check}"`);
        }
    }
    for (const name of C)
        if (!caught.has(name)) {
            failed++;
            console.log(`not ok - self-test: a break is shown to fail "${name}"`);
        }
    return failed;
}

//  Node's own parser (node:util), strict: an unknown option or one
//  without its value throws.
function parseArgs (argv) {
    const { values: v, positionals: pos } = parseCliArgs({
        args: argv, allowPositionals: true, strict: true,
        options: {
            "rules": { type: "string" },
            "replicas": { type: "string", multiple: true },
            "absent": { type: "string", multiple: true },
            "help-dir": { type: "string" },
            "external-secret": { type: "string", multiple: true },
            "self-test": { type: "boolean" },
        },
    });
    const opt = { replicas: {}, absent: [], externalSecrets: v["external-secret"] || [],
                  rules: v.rules, helpDir: v["help-dir"], selfTest: v["self-test"] };
    for (const kv of (v.replicas || []).flatMap((list) => list.split(","))) {
        const [k, n] = kv.split("=");
        if (!k || !/^\d+$/.test(n || ""))
            throw new Error(`bad --replicas item "${kv}"`);
        opt.replicas[k] = Number(n);
    }
    for (const list of v.absent || [])
        opt.absent.push(...list.split(",").filter(Boolean));
    return { opt, pos };
}

let parsed;
try {
    parsed = parseArgs(process.argv.slice(2));
    if (parsed.opt.selfTest? parsed.pos.length !== 1: parsed.pos.length !== 2)
        throw new Error("wrong number of arguments");
}
catch (err) {
    console.error(`error: ${err.message}\nusage: node k8s_check.mjs LABEL FILE.yaml [--rules F] [--replicas a=N,..] [--absent Kind/name,..] [--external-secret NAME] [--help-dir D]\n       node k8s_check.mjs --self-test FILE.yaml --rules F --help-dir D`);
    process.exit(2);
}
const { opt, pos } = parsed;
const file = opt.selfTest? pos[0]: pos[1];
let objs;
try {
    objs = parseObjects(readFileSync(file, "utf8"));
}
catch (err) {
    console.log(`not ok - ${file} parses as YAML`);
    console.log(`# ${err.message}`);
    process.exit(1);
}
const failed = opt.selfTest? selfTest(objs, opt): report(pos[0], runAll(objs, opt));
process.exit(failed? 1: 0);
