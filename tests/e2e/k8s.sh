#!/usr/bin/env bash
# k8s.sh - the Kubernetes manifests (k8s/), offline: no cluster, no PostgreSQL.
#
# Renders k8s/base and every overlay with `kubectl kustomize`, validates every
# object against the Kubernetes API schemas, strictly: a field a schema does
# not define is refused too (tests/js/k8s_validate.mjs, npm
# kubernetes-models), then runs the structural checks of tests/js/
# k8s_check.mjs: probes, resources and security contexts, pinned images,
# references, Services, network policies (ports and hops), shard endpoint
# lists against StatefulSet replicas, HPAs, PDBs, the Ingress, TXW_* variables
# against each binary's --help, database logins, the bootstrap Job of the
# first admin key, the secrets read as files (the pseudonym key everywhere,
# the webhook signing secret in the notifier only), CURVE (every ZeroMQ
# service, the server secret only where a socket binds, each role's
# certificate in its own workload, none in query), keys and CORS, admin
# ports the probes reach, and what each overlay must (not) contain.
# Then tests/js/deploy_match.mjs holds k8s/ and deploy/docker-compose.yml
# (rendered by docker-compose) to `make images` and to each other: every
# image either names is one `make images` builds, with its tag (tools/
# images.sh --list), the dev overlay and compose run every service image,
# and each service connects to PostgreSQL as the same login and has the
# same CURVE settings in compose as in the dev overlay.
# The three scripts first prove on purposely broken input that their checks fail.
# Last, the secret values of the overlays: dev's are usable (the CURVE
# certificates load), base's placeholders are refused by the services, prod
# has none.
#
# Needs: kubectl (kustomize built in), docker-compose (no engine), node
# with tests/js/node_modules (npm install in tests/js), and build/bin/txw-*
# and txwctl for their --help texts.

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"     # only sets up $WORK; this suite starts nothing
K8S=$ROOT/k8s
JS=$ROOT/tests/js
RULES=$ROOT/services/scorer/default-rules.json
SERVICES="producer validator scorer aggregator query ingest gateway notifier maint"

# --- prerequisites -----------------------------------------------------------
check "kubectl is installed" bash -c "command -v kubectl >/dev/null"
check "docker-compose is installed (Debian package docker-compose)" bash -c "command -v docker-compose >/dev/null"
check "node has kubernetes-models and yaml (cd tests/js && npm install)" \
    test -f "$JS/node_modules/kubernetes-models/package.json" -a -f "$JS/node_modules/yaml/package.json"

mkdir -p "$WORK/help"
help_ok=1
for s in $SERVICES; do
    "$BIN/txw-$s" --help >"$WORK/help/$s.txt" 2>&1 || help_ok=0
done
# The tools image runs txwctl: its --help and that of the commands used.
{ "$BIN/txwctl" --help && "$BIN/txwctl" keys create --help; } >"$WORK/help/tools.txt" 2>&1 || help_ok=0
check "every txw-* binary and txwctl print their --help (build/bin is built)" test $help_ok -eq 1

check "k8s/base/files/scorer-rules.json is a current copy of services/scorer/default-rules.json" \
    cmp -s "$RULES" "$K8S/base/files/scorer-rules.json"

# --- the scripts can fail ----------------------------------------------------
node "$JS/k8s_validate.mjs" --self-test
check "k8s_validate.mjs self-test exits 0" test $? -eq 0

# --- render ------------------------------------------------------------------
render() {   # name dir
    kubectl kustomize "$2" >"$WORK/$1.yaml" 2>"$WORK/$1.err" && test -s "$WORK/$1.yaml"
}
for o in base overlays/dev overlays/prod; do
    name=${o#overlays/}
    if ! check "kubectl kustomize k8s/$o renders" render "$name" "$K8S/$o"; then
        sed 's/^/# /' "$WORK/$name.err" | head -20
    fi
done

# An overlay that breaks kustomize's load restrictions must fail to render,
# which is why the rules file is a copy inside k8s/base.
mkdir -p "$WORK/escape"
cat >"$WORK/escape/kustomization.yaml" <<EOF
configMapGenerator:
  - name: rules
    files: [rules.json=$RULES]
EOF
check "kustomize refuses a file outside the kustomization (load restrictions)" \
    bash -c "! kubectl kustomize '$WORK/escape' >/dev/null 2>&1"

# --- validate against the API schemas -----------------------------------------
for name in base dev prod; do
    [ -s "$WORK/$name.yaml" ] || { not_ok "$name: rendered, so it can be validated"; continue; }
    node "$JS/k8s_validate.mjs" "$name" "$WORK/$name.yaml"
    check "$name: every object validates (k8s_validate.mjs exit status)" test $? -eq 0
done

# --- structural checks -----------------------------------------------------
if [ -s "$WORK/dev.yaml" ]; then
    node "$JS/k8s_check.mjs" --self-test "$WORK/dev.yaml" --rules "$RULES" --help-dir "$WORK/help"
    check "k8s_check.mjs self-test exits 0" test $? -eq 0
fi

run_checks() {   # name, then k8s_check.mjs options
    local name=$1; shift
    [ -s "$WORK/$name.yaml" ] || { not_ok "$name: rendered, so it can be checked"; return; }
    node "$JS/k8s_check.mjs" "$name" "$WORK/$name.yaml" --rules "$RULES" --help-dir "$WORK/help" "$@"
    check "$name: every structural check passes (k8s_check.mjs exit status)" test $? -eq 0
}
run_checks base --replicas validator=2,scorer=2,aggregator=2,query=2,gateway=1,notifier=1 \
    --absent StatefulSet/postgres,Deployment/producer
run_checks dev --replicas validator=2,scorer=1,aggregator=1,query=1,gateway=1,notifier=1,producer=1,postgres=1
run_checks prod --replicas validator=3,scorer=4,aggregator=2,query=2,gateway=2,notifier=1 \
    --absent StatefulSet/postgres,Deployment/producer,Secret/txwatch-db,Secret/txwatch-notifier \
    --absent Secret/txwatch-pseudonym,Secret/txwatch-notifier-signing \
    --absent Secret/txwatch-curve-server,Secret/txwatch-curve-public,Secret/txwatch-curve-allowed,Secret/txwatch-curve-producer,Secret/txwatch-curve-validator,Secret/txwatch-curve-scorer,Secret/txwatch-curve-aggregator,Secret/txwatch-curve-gateway,Secret/txwatch-curve-notifier \
    --external-secret txwatch-db --external-secret txwatch-notifier \
    --external-secret txwatch-pseudonym --external-secret txwatch-notifier-signing \
    --external-secret txwatch-curve-server --external-secret txwatch-curve-public --external-secret txwatch-curve-allowed \
    --external-secret txwatch-curve-producer --external-secret txwatch-curve-validator --external-secret txwatch-curve-scorer \
    --external-secret txwatch-curve-aggregator --external-secret txwatch-curve-gateway --external-secret txwatch-curve-notifier

# --- compose and k8s agree with `make images` and with each other ------------
# The images `make images` builds, as tools/images.sh itself derives them from
# deploy/Dockerfile (not a copy of its rule), with the tag it gives them when
# TXW_TAG is unset: TXW_VERSION of common/version.h.
images_list() {
    env -u TXW_TAG bash "$ROOT/tools/images.sh" --list >"$WORK/images.txt" 2>"$WORK/images.err" \
        && test -s "$WORK/images.txt"
}
images_versioned() {   # every listed image has the tag of common/version.h
    local tag
    tag=$(sed -n '1s/.*://p' "$WORK/images.txt")
    note "make images builds $(wc -l <"$WORK/images.txt") images tagged $tag"
    grep -qxF "#define TXW_VERSION \"$tag\"" "$ROOT/common/version.h" \
        && ! grep -vqF ":$tag" "$WORK/images.txt"
}
check "tools/images.sh --list names the images make images builds" images_list
check "each is tagged TXW_VERSION of common/version.h" images_versioned

# The compose file as a user renders it (deploy/.env read: its TXW_TAG is a
# second copy of the version), and with an empty env file (the file's own
# ${TXW_TAG:-...} defaults, a third). Only TXW_TAG of the shell would change
# what is checked: it is unset.
compose_render() {   # OUT [docker-compose options]
    local out=$1; shift
    env -u TXW_TAG docker-compose "$@" -f "$ROOT/deploy/docker-compose.yml" config >"$out" 2>"$out.err" \
        && test -s "$out"
}
: >"$WORK/empty.env"
check "docker-compose config renders deploy/docker-compose.yml (with deploy/.env)" \
    compose_render "$WORK/compose.yml"
check "docker-compose config renders it with an empty env file (its own defaults)" \
    compose_render "$WORK/compose-defaults.yml" --env-file "$WORK/empty.env"

match=(--images "$WORK/images.txt" --dockerfile "$ROOT/deploy/Dockerfile"
       --compose "compose=$WORK/compose.yml" --compose "compose-defaults=$WORK/compose-defaults.yml"
       --complete compose --complete dev --wiring dev)
for name in base dev prod; do match+=(--k8s "$name=$WORK/$name.yaml"); done
if [ -s "$WORK/images.txt" ] && [ -s "$WORK/compose.yml" ] && [ -s "$WORK/compose-defaults.yml" ] \
   && [ -s "$WORK/base.yaml" ] && [ -s "$WORK/dev.yaml" ] && [ -s "$WORK/prod.yaml" ]; then
    node "$JS/deploy_match.mjs" --self-test "${match[@]}"
    check "deploy_match.mjs self-test exits 0" test $? -eq 0
    node "$JS/deploy_match.mjs" "${match[@]}"
    check "compose and k8s name the images make images builds, and wire logins and CURVE alike (deploy_match.mjs exit status)" \
        test $? -eq 0
else
    not_ok "the image list, compose and every overlay rendered, so they can be matched"
fi

# --- overlay specifics the generic checks do not cover -----------------------
# dev: the database URL points at the in-cluster PostgreSQL with its credentials.
dev_db() {
    node --input-type=module -e '
        import { readFileSync } from "node:fs";
        import { parseObjects } from "'"$JS"'/k8s_validate.mjs";
        const objs = parseObjects(readFileSync(process.argv[1], "utf8"));
        const get = (name) => objs.find((o) => o.kind === "Secret" && o.metadata.name.startsWith(name));
        const dec = (v) => Buffer.from(String(v).replace(/\s/g, ""), "base64").toString();
        const url = new URL(dec(get("txwatch-db").data.TXW_DATABASE_URL));
        const pg = Object.fromEntries(Object.entries(get("postgres-auth").data).map(([k, v]) => [k, dec(v)]));
        const svc = objs.find((o) => o.kind === "Service" && o.metadata.name === "postgres");
        const host = `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`;
        const bad = [];
        if (url.hostname !== host) bad.push(`host ${url.hostname} is not ${host}`);
        if (Number(url.port || 5432) !== svc.spec.ports[0].port) bad.push(`port ${url.port}`);
        if (url.username !== pg.POSTGRES_USER) bad.push(`user ${url.username}`);
        if (decodeURIComponent(url.password) !== pg.POSTGRES_PASSWORD) bad.push("password differs");
        if (url.pathname !== "/" + pg.POSTGRES_DB) bad.push(`database ${url.pathname}`);
        if (bad.length) { console.log("# " + bad.join("; ")); process.exit(1); }
    ' "$WORK/dev.yaml"
}
check "dev: TXW_DATABASE_URL matches the in-cluster PostgreSQL Service and credentials" dev_db

# dev: the producer runs at a modest rate.
dev_rate() {
    local rate
    rate=$(awk '/name: TXW_RATE$/ { getline; gsub(/[^0-9.]/, "", $2); print $2; exit }' "$WORK/dev.yaml")
    note "dev producer TXW_RATE=$rate"
    [ -n "$rate" ] && awk -v r="$rate" 'BEGIN { exit !(r > 0 && r <= 100) }'
}
check "dev: the producer's rate is modest (0 < TXW_RATE <= 100)" dev_rate

# The CronJob txw-maint (k8s_check.mjs reads the pod templates of
# Deployments, StatefulSets and Jobs, not a CronJob's): one run at a time,
# a task txw-maint knows, only variables of its --help, its own login
# (MAINT_DATABASE_URL, made by the migration Job in txw_maint) with the
# label that opens the way to PostgreSQL, as the others are run.
maint_cronjob() {   # name
    node --input-type=module -e '
        import { readFileSync } from "node:fs";
        import { parseObjects } from "'"$JS"'/k8s_validate.mjs";
        const objs = parseObjects(readFileSync(process.argv[1], "utf8"));
        const help = readFileSync(process.argv[2], "utf8");
        const cj = objs.find((o) => o.kind === "CronJob" && o.metadata.name === "txw-maint");
        const job = objs.find((o) => o.kind === "Job" && o.metadata.name === "txw-migrate");
        const bad = [];
        if (!cj || !job) { console.log("# no CronJob txw-maint or Job txw-migrate"); process.exit(1); }
        const t = cj.spec.jobTemplate.spec.template, c = t.spec.containers[0];
        const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
        const ref = ((env.TXW_DATABASE_URL || {}).valueFrom || {}).secretKeyRef || {};
        const roles = (job.spec.template.spec.containers[0].env || [])
            .find((e) => e.name === "TXW_LOGIN_ROLES").value.split(/\s+/);
        if (cj.spec.concurrencyPolicy !== "Forbid") bad.push("concurrencyPolicy is not Forbid");
        if (!/^txwatch\/maint:[0-9]/.test(c.image)) bad.push(`image ${c.image}`);
        if (!(c.args || []).length || !(c.args || []).every((a) => ["retention", "segments", "all"].includes(a)))
            bad.push(`args ${c.args}: not tasks of txw-maint`);
        for (const n of Object.keys(env))
            if (!new RegExp(`\\b${n}\\b`).test(help)) bad.push(`${n} is not an option of txw-maint`);
        if (ref.name !== "txwatch-db" || ref.key !== "MAINT_DATABASE_URL")
            bad.push("TXW_DATABASE_URL is not txwatch-db MAINT_DATABASE_URL");
        if (!roles.includes("txw_maint=$(MAINT_DATABASE_URL)"))
            bad.push("txw-migrate does not make the login of MAINT_DATABASE_URL in txw_maint");
        if (t.metadata.labels["txwatch.io/db-client"] !== "true") bad.push("no label txwatch.io/db-client");
        if (t.spec.securityContext.runAsNonRoot !== true || c.securityContext.readOnlyRootFilesystem !== true)
            bad.push("not non-root with a read-only root filesystem");
        if (bad.length) { console.log("# " + bad.join("; ")); process.exit(1); }
    ' "$WORK/$1.yaml" "$WORK/help/maint.txt"
}
for name in base dev prod; do
    check "$name: the CronJob txw-maint runs a task of txw-maint, one at a time, as its own login" maint_cronjob "$name"
done

# The secrets read as files, by the services' own rules: a pseudonym key is
# 64 hex digits (blanks around it ignored: common/pii.c), a webhook signing
# secret 16 to 4096 bytes once its line end is dropped (services/notifier/
# signature.c). dev's must be usable; base's placeholders must be refused,
# so nothing runs under a value from git by mistake.
secret_values() {   # name usable|refused
    node --input-type=module -e '
        import { readFileSync } from "node:fs";
        import { parseObjects } from "'"$JS"'/k8s_validate.mjs";
        const objs = parseObjects(readFileSync(process.argv[1], "utf8"));
        const want = process.argv[2];
        const value = (name, key) => {
            const s = objs.find((o) => o.kind === "Secret" && o.metadata.name === name);
            return s && s.data && key in s.data
                ? Buffer.from(String(s.data[key]).replace(/\s/g, ""), "base64").toString(): null;
        };
        const key = value("txwatch-pseudonym", "pseudonym.key");
        const signing = value("txwatch-notifier-signing", "webhook-secret");
        const bad = [];
        if (key === null || signing === null)
            bad.push("no txwatch-pseudonym pseudonym.key or txwatch-notifier-signing webhook-secret");
        else {
            const keyOk = /^\s*[0-9a-fA-F]{64}\s*$/.test(key);
            const len = Buffer.byteLength(signing.replace(/\r?\n$/, ""));
            const signingOk = len >= 16 && len <= 4096;
            if (keyOk !== (want === "usable"))
                bad.push(`the pseudonym key is ${keyOk? "": "not "}64 hex digits`);
            if (signingOk !== (want === "usable"))
                bad.push(`the signing secret is ${len} bytes`);
        }
        if (bad.length) { console.log("# " + bad.join("; ")); process.exit(1); }
    ' "$WORK/$1.yaml" "$2"
}
check "dev: the pseudonym key and the webhook signing secret are usable" secret_values dev usable
check "base: the placeholder pseudonym key and signing secret are refused by the services" secret_values base refused
check "dev: its pseudonym key is marked DEVELOPMENT ONLY, PUBLIC where it is written" \
    grep -q 'DEVELOPMENT ONLY, PUBLIC: this pseudonym key' "$K8S/overlays/dev/kustomization.yaml"
# The CURVE certificates, by the binaries' own rule: a service given one
# that does not load does not start. dev's must load (txw-producer, the one
# service that needs no database, started with each as it would be, and a
# client and a server certificate) and be marked DEVELOPMENT ONLY, PUBLIC;
# base's placeholders must be refused.
curve_files() {   # name dir: writes each CURVE Secret's keys as DIR/<secret>/<key>
    node --input-type=module -e '
        import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
        import { parseObjects } from "'"$JS"'/k8s_validate.mjs";
        const objs = parseObjects(readFileSync(process.argv[1], "utf8"));
        for (const s of objs.filter((o) => o.kind === "Secret" && o.metadata.name.startsWith("txwatch-curve-"))) {
            const dir = `${process.argv[2]}/${s.metadata.name}`;
            mkdirSync(dir, { recursive: true });
            for (const [k, v] of Object.entries(s.data || {}))
                writeFileSync(`${dir}/${k}`, Buffer.from(String(v).replace(/\s/g, ""), "base64"));
        }
    ' "$WORK/$1.yaml" "$2"
}
# A producer that started is killed after a second: asked to stop, it would
# wait to drain to a validator that is not there.
curve_loads() {   # dir client-secret server-public: 0 if txw-producer starts with them
    timeout -s KILL 1 "$BIN/txw-producer" --rate 1 --admin-port 0 --validator-endpoints tcp://127.0.0.1:1 \
        --curve-client-key "$2" --curve-server-key "$3" >"$1/producer.log" 2>&1
    [ $? -eq 137 ] && grep -q 'CURVE on' "$1/producer.log"
}
curve_values() {   # name usable|refused
    local d=$WORK/curve-$1 r bad=0 sets
    rm -rf "$d" && mkdir -p "$d" && curve_files "$1" "$d" || return 1
    sets="$d/txwatch-curve-server/cluster.key_secret"
    for r in producer validator scorer aggregator gateway notifier; do
        sets="$sets $d/txwatch-curve-$r/$r.key_secret"
        [ -f "$d/txwatch-curve-allowed/$r.key" ] || { note "$1: no allowed/$r.key"; bad=1; }
    done
    for f in $sets; do
        [ -f "$f" ] || { note "$1: no $f"; bad=1; continue; }
        if curve_loads "$d" "$f" "$d/txwatch-curve-public/cluster.key"; then
            [ "$2" = usable ] || { note "$1: ${f#"$d"/} loads"; bad=1; }
        else
            [ "$2" = refused ] || { note "$1: ${f#"$d"/} with public/cluster.key does not load"; bad=1; }
        fi
    done
    return $bad
}
check "dev: every CURVE certificate loads (server, public, each role's)" curve_values dev usable
check "base: the placeholder CURVE certificates are refused by the services" curve_values base refused
dev_curve_marked() {
    local f bad=0
    grep -q 'DEVELOPMENT ONLY, PUBLIC: these CURVE certificates' "$K8S/overlays/dev/kustomization.yaml" || bad=1
    for f in "$K8S"/overlays/dev/curve/*/*; do
        head -1 "$f" | grep -q 'DEVELOPMENT ONLY, PUBLIC' || { note "not marked: $f"; bad=1; }
    done
    return $bad
}
check "dev: its CURVE certificates are marked DEVELOPMENT ONLY, PUBLIC, in the overlay and in each file" dev_curve_marked
dev_curve_pairs() {   # each allowed/<role>.key is the public half of that role's secret
    local r pub sec bad=0
    for r in producer validator scorer aggregator gateway notifier; do
        pub=$(grep -o 'public-key = ".*"' "$K8S/overlays/dev/curve/allowed/$r.key")
        sec=$(grep -o 'public-key = ".*"' "$K8S/overlays/dev/curve/$r/$r.key_secret")
        [ -n "$pub" ] && [ "$pub" = "$sec" ] || { note "allowed/$r.key is not $r's"; bad=1; }
    done
    return $bad
}
check "dev: allowed/<role>.key is the public half of each role's client certificate" dev_curve_pairs

# And the rules those checks assume are the binaries': txw-keygen's key is
# 64 hex digits on a line.
keygen_format() {
    "$BIN/txw-keygen" --pseudonym-key "$WORK/keygen.key" >/dev/null && grep -qxE '[0-9a-f]{64}' "$WORK/keygen.key"
}
check "txw-keygen --pseudonym-key writes 64 hex digits on a line" keygen_format

# No :latest anywhere in the sources either (a patch could hide one).
check "no ':latest' image tag in k8s/" bash -c "! grep -rnE 'image:.*:latest\b' '$K8S'"
