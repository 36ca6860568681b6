#!/bin/bash
# contracts.sh - every contract checked by its own ecosystem's checker
#
#   redocly lint         proto/openapi.yaml (npm @redocly/cli, rules in
#                        redocly.yaml): no error and no warning
#   promtool check metrics
#                        the live /metrics of every service binary, started
#                        for real with a little traffic flowing
#   ShellCheck, at severity warning, following sourced files (-x):
#                        every shell script in the repo (*.sh, *.bash, .ci/run
#                        and any file without extension with a sh/bash shebang)
#   yamllint --strict    every YAML file (k8s/, deploy/ compose files,
#                        proto/openapi.yaml, redocly.yaml) and .yamllint itself
#
# Each checker is first shown to fail on a broken copy of a file ("the
# checker catches: ..."), so a pass means something. Needs shellcheck,
# yamllint and promtool (Debian package prometheus; only promtool is used,
# no Prometheus server is started), node with tests/js/node_modules, git,
# PostgreSQL and build/bin/txw-*.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=192   # port prefix for this suite (loopback only)
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
REDOCLY=$ROOT/tests/js/node_modules/.bin/redocly
SERVICES="producer validator scorer aggregator query gateway notifier"

# --- prerequisites -------------------------------------------------------------
have() { command -v "$1" >/dev/null; }
for tool in shellcheck yamllint promtool git; do
    check "$tool is installed (make deps)" have $tool
done
check "redocly is installed (npm ci in tests/js)" test -x "$REDOCLY"
note "$(shellcheck --version | sed -n 's/^version: /shellcheck /p'), $(yamllint --version)," \
     "$(promtool --version 2>&1 | head -1 | cut -d' ' -f1-3), redocly $("$REDOCLY" --version 2>/dev/null | tail -1)"
for s in $SERVICES; do
    [ -x "$BIN/txw-$s" ] || { not_ok "build/bin/txw-$s is built (make all)"; exit 1; }
done

# Files under version control or about to be (untracked but not ignored).
repo_files() { git -C "$ROOT" ls-files --cached --others --exclude-standard | sort -u; }

# ====================================================================== redocly
# redocly_lint SPEC: no error and no warning, and the config itself is valid;
# prints the problems otherwise.
redocly_lint() {
    local out=$WORK/redocly-${1##*/}.json
    "$REDOCLY" lint --config "$ROOT/redocly.yaml" --lint-config error --format json "$1" \
        >"$out" 2>"$out.err"
    python3 - "$out" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except ValueError as e:
    print(f"# redocly printed no JSON report: {e}")
    sys.exit(1)
for p in r["problems"]:
    loc = p["location"][0] if p.get("location") else {}
    print(f'# {p["severity"]} {p["ruleId"]} at {loc.get("pointer", "?")}: {p["message"]}')
t = r["totals"]
sys.exit(1 if t["errors"] or t["warnings"] else 0)
PY
}
check "redocly lint: proto/openapi.yaml has no error and no warning" redocly_lint "$ROOT/proto/openapi.yaml"

# redocly_catches WHAT RULE SED-SCRIPT: a copy changed by SED-SCRIPT fails with RULE
redocly_catches() {
    local copy=$WORK/openapi-mutant.yaml
    sed "$3" "$ROOT/proto/openapi.yaml" >"$copy"
    if cmp -s "$copy" "$ROOT/proto/openapi.yaml"; then not_ok "mutant '$1' differs from the original"; return; fi
    if ! redocly_lint "$copy" >"$WORK/redocly-mutant.out" && grep -q " $2 " "$WORK/redocly-mutant.out"; then
        ok "the checker catches: $1 (redocly $2)"
    else
        not_ok "the checker catches: $1 (redocly $2)"; cat "$WORK/redocly-mutant.out"
    fi
}
redocly_catches "a description cut by a comma in a flow mapping" struct \
    "s/description: The name of the key that acked it./description: The name of the key, the one that acked it./"
redocly_catches "a \$ref to a missing component" no-unresolved-refs \
    "s|{\$ref: '#/components/schemas/Currency'}|{\$ref: '#/components/schemas/Money'}|"
redocly_catches "an operation without a success response" operation-2xx-response \
    '/^  \/api\/v1\/branches\/performance:/,/^  \/api/{/^        .200.:/,/schema:/d}'

# ===================================================================== promtool
pg_start 25355
mkdir -p "$WORK/www" && echo '<!doctype html><title>contracts</title>' >"$WORK/www/index.html"
python3 "$ROOT/tests/tools/webhook_receiver.py" --port ${P}81 --out "$WORK/hooks.jsonl" \
    >"$WORK/receiver.log" 2>&1 &
PIDS+=($!)
start_pipeline $P
start query ${P}94 "$BIN/txw-query" --database-url "$DB" --listen 127.0.0.1:${P}80 --admin-port ${P}94
start gateway ${P}95 "$BIN/txw-gateway" --listen 127.0.0.1:${P}82 --admin-port ${P}95 \
    --document-root "$WORK/www" --database-url "$DB" --alert-endpoints tcp://127.0.0.1:${P}12 \
    --window-endpoints tcp://127.0.0.1:${P}22 --dead-letter-endpoints tcp://127.0.0.1:${P}02
start notifier ${P}96 "$BIN/txw-notifier" --admin-port ${P}96 \
    --alert-endpoints tcp://127.0.0.1:${P}12,tcp://127.0.0.1:${P}22 \
    --webhook-url "http://127.0.0.1:${P}81/hook"
# A live producer (its own /metrics), and a burst of 2000 records flat out.
start producer ${P}90 "$BIN/txw-producer" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port ${P}90 --seed 3 --shape flat --rate 50 --invalid-rate 0.05 --fraud-rate 0.05
"$BIN/txw-producer" --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 --seed 4 \
    --shape flat --count 2000 --rate 0 >"$WORK/burst.log" 2>&1
check "a producer sends 2000 records flat out and exits 0" test $? -eq 0
check "the records reach the aggregator" wait_metric ${P}93 txw_records_in_total 2000 30
for path in /api/v1/stats/realtime /api/v1/alerts /api/v1/nowhere "/api/v1/alerts?limit=0"; do
    curl -s -o /dev/null "http://127.0.0.1:${P}80$path"
done

declare -A ADMIN=([producer]=${P}90 [validator]=${P}91 [scorer]=${P}92 [aggregator]=${P}93
                  [query]=${P}94 [gateway]=${P}95 [notifier]=${P}96)
for s in $SERVICES; do
    m=$WORK/metrics-$s.txt
    curl -sf "http://127.0.0.1:${ADMIN[$s]}/metrics" >"$m"
    if [ ! -s "$m" ] || ! grep -q '^txw_records_in_total ' "$m"; then
        not_ok "txw-$s serves /metrics"; continue
    fi
    families=$(grep -c '^# TYPE ' "$m")
    if promtool check metrics <"$m" >"$WORK/promtool-$s.out" 2>&1; then
        ok "promtool check metrics: txw-$s /metrics ($families families)"
    else
        not_ok "promtool check metrics: txw-$s /metrics ($families families)"
        sed 's/^/# /' "$WORK/promtool-$s.out"
    fi
done
# txw-maint in its loop: a run of retention, then its own metrics.
start maint ${P}97 "$BIN/txw-maint" retention --every 3600 --admin-port ${P}97 --database-url "$DB"
m=$WORK/metrics-maint.txt
if wait_metric ${P}97 'txw_maint_runs_total{task="retention"}' 1 20 \
   && curl -sf "http://127.0.0.1:${P}97/metrics" >"$m" && promtool check metrics <"$m" >"$WORK/promtool-maint.out" 2>&1; then
    ok "promtool check metrics: txw-maint /metrics ($(grep -c '^# TYPE ' "$m") families)"
else
    not_ok "promtool check metrics: txw-maint /metrics"
    sed 's/^/# /' "$WORK/promtool-maint.out" 2>/dev/null
fi
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "txw-maint stops cleanly on SIGTERM" stop_clean $PID_maint
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "every service stops cleanly on SIGTERM" stop_clean $PID_producer $PID_notifier $PID_gateway \
    $PID_query $PID_validator $PID_scorer $PID_aggregator

# promtool_catches WHAT PATTERN SED-SCRIPT: promtool fails on a copy of the
# validator's /metrics changed by SED-SCRIPT and names the problem (PATTERN).
promtool_catches() {
    local copy=$WORK/metrics-mutant.txt
    sed "$3" "$WORK/metrics-validator.txt" >"$copy"
    if cmp -s "$copy" "$WORK/metrics-validator.txt"; then not_ok "mutant '$1' differs from the original"; return; fi
    if ! promtool check metrics <"$copy" >"$WORK/promtool-mutant.out" 2>&1 &&
       grep -qE "$2" "$WORK/promtool-mutant.out"; then
        ok "the checker catches: $1 (promtool)"
    else
        not_ok "the checker catches: $1 (promtool)"; sed 's/^/# /' "$WORK/promtool-mutant.out"
    fi
}
promtool_catches "a metric without HELP" 'txw_errors_total.*no help text' '/^# HELP txw_errors_total /d'
promtool_catches "a metric line without TYPE (untyped, no help)" 'txw_errors_total.*no help text' \
    '/^# \(HELP\|TYPE\) txw_errors_total /d'
promtool_catches "a counter not ending in _total" 'txw_errors.*counter metrics should have "_total" suffix' \
    's/^\(# [A-Z]* \)\?txw_errors_total/\1txw_errors/'
promtool_catches "an abbreviated unit" 'txw_processing_ms.*abbreviated units' \
    's/txw_processing_seconds/txw_processing_ms/'
promtool_catches "a broken sample line" 'error while linting' 's/^txw_records_in_total .*/txw_records_in_total one/'

# =================================================================== shellcheck
# Every shell script: *.sh and *.bash, .ci/run, and any file without an
# extension whose first line is a sh or bash shebang.
SCRIPTS=()
while IFS= read -r f; do
    [ -f "$ROOT/$f" ] || continue
    case $f in
        node_modules/* | */node_modules/*) continue ;;
        *.sh | *.bash | .ci/run) SCRIPTS+=("$f"); continue ;;
    esac
    case ${f##*/} in
        *.*) ;;     # another extension
        *) head -1 "$ROOT/$f" | grep -qE '^#!.*[/ ](ba|da)?sh( |$)' && SCRIPTS+=("$f") ;;
    esac
done < <(repo_files)
check "there are shell scripts to check (${#SCRIPTS[@]}, lib.sh and .ci/run among them)" \
    bash -c 'printf "%s\n" "$@" | grep -qx tests/e2e/lib.sh && printf "%s\n" "$@" | grep -qx .ci/run' _ "${SCRIPTS[@]}"
note "shellcheck: ${SCRIPTS[*]}"
# -x follows `source`; the scripts' source= and source-path= directives say where.
run_shellcheck() { (cd "$ROOT" && shellcheck -x -S warning -f gcc "$@"); }
run_shellcheck "${SCRIPTS[@]}" >"$WORK/shellcheck.out" 2>&1
check "shellcheck -x -S warning: every shell script ($(wc -l <"$WORK/shellcheck.out") findings)" \
    test ! -s "$WORK/shellcheck.out"
sed 's/^/# /' "$WORK/shellcheck.out" | head -40

# script_catches WHAT PATTERN FILE SED-SCRIPT: a copy of FILE changed by
# SED-SCRIPT gets a finding matching PATTERN. The copy sits in a folder of
# its own beside copies of the files the suites source, so -x still follows
# them and only the change can be the finding.
mkdir -p "$WORK/sc"
cp "$ROOT/tests/e2e/lib.sh" "$ROOT/tests/e2e/query_data.bash" "$WORK/sc/"
script_catches() {
    local copy
    copy=$WORK/sc/$(basename "$3")
    sed "$4" "$ROOT/$3" >"$copy"
    if cmp -s "$copy" "$ROOT/$3"; then not_ok "mutant '$1' differs from the original"; return; fi
    if ! (cd "$WORK/sc" && shellcheck -x -S warning -f gcc "$copy") >"$WORK/shellcheck-mutant.out" 2>&1 &&
       grep -qE "$2" "$WORK/shellcheck-mutant.out"; then
        ok "the checker catches: $1 (shellcheck)"
    else
        not_ok "the checker catches: $1 (shellcheck)"; sed 's/^/# /' "$WORK/shellcheck-mutant.out"
    fi
}
script_catches "cd without || exit" 'SC2164' deploy/local/run.sh 's/^cd \(.*\) || exit 1$/cd \1/'
script_catches "an unquoted array element" 'SC2206' tests/e2e/curve.sh \
    's/^PIDS+=("$ROGUE" "$PLAIN")$/PIDS+=($ROGUE $PLAIN)/'
script_catches "a PID_<name> used without its directive" 'PID_validator is referenced but not assigned.*SC2154' \
    tests/e2e/pipeline.sh '/# shellcheck disable=SC2154/d'
script_catches "a command substitution split into words" 'SC2046' tests/run.sh \
    's/^    counts=\$(count_cmocka "\$out")$/    set -- $(count_cmocka "$out")/'

# ===================================================================== yamllint
YAMLS=()
while IFS= read -r f; do
    [ -f "$ROOT/$f" ] || continue
    case $f in
        node_modules/* | */node_modules/*) ;;
        *.yaml | *.yml | .yamllint) YAMLS+=("$f") ;;
    esac
done < <(repo_files)
check "there are YAML files to check (${#YAMLS[@]}: k8s/, deploy/, proto/openapi.yaml, .yamllint)" \
    bash -c 'printf "%s\n" "$@" | grep -q "^k8s/overlays/" && printf "%s\n" "$@" | grep -qx deploy/docker-compose.yml &&
             printf "%s\n" "$@" | grep -qx proto/openapi.yaml && printf "%s\n" "$@" | grep -qx .yamllint' _ "${YAMLS[@]}"
run_yamllint() { (cd "$ROOT" && yamllint --strict -c "$ROOT/.yamllint" -f parsable "$@"); }
run_yamllint "${YAMLS[@]}" >"$WORK/yamllint.out" 2>&1
rc=$?
check "yamllint --strict: every YAML file ($(wc -l <"$WORK/yamllint.out") findings)" test $rc -eq 0
sed 's/^/# /' "$WORK/yamllint.out" | head -40

# yamllint_catches WHAT RULE FILE SED-SCRIPT: a copy of FILE changed by
# SED-SCRIPT fails with RULE. The copies go to a temporary folder outside the
# repo: .yamllint ignores build/, where $WORK is.
YTMP=$(mktemp -d)
trap 'rm -rf "$YTMP"; cleanup' EXIT
yamllint_catches() {
    local copy=$YTMP/${3##*/}
    sed "$4" "$ROOT/$3" >"$copy"
    if cmp -s "$copy" "$ROOT/$3"; then not_ok "mutant '$1' differs from the original"; return; fi
    if ! run_yamllint "$copy" >"$WORK/yamllint-mutant.out" 2>&1 && grep -q "($2)" "$WORK/yamllint-mutant.out"; then
        ok "the checker catches: $1 (yamllint $2)"
    else
        not_ok "the checker catches: $1 (yamllint $2)"; sed 's/^/# /' "$WORK/yamllint-mutant.out"
    fi
}
yamllint_catches "a bad indent" indentation k8s/base/query.yaml '0,/^  name: /s/^  name: /   name: /'
yamllint_catches "a duplicated key" key-duplicates deploy/docker-compose.yml '0,/^    image: /s/^\(    image: .*\)$/\1\n\1/'
yamllint_catches "a line over 120 columns" line-length proto/openapi.yaml \
    "0,/^    description: /s/^\(    description: .*\)\$/\1 $(printf 'x%.0s' {1..120})/"
yamllint_catches "a trailing space" trailing-spaces .yamllint 's/^extends: default$/extends: default /'
