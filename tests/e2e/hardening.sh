#!/bin/bash
# hardening.sh - every binary is built hardened (the Makefile's HARDEN_CFLAGS
# and HARDEN_LDFLAGS), as readelf sees it
#
#   PIE              ELF type DYN (-fPIE -pie): ASLR moves the program too
#   RELRO            a GNU_RELRO segment (-z relro)
#   BIND_NOW         DT_FLAGS BIND_NOW or DT_FLAGS_1 NOW (-z now): every symbol
#                    is bound at start, so RELRO makes the whole GOT read-only
#   NX stack         a GNU_STACK segment, not executable
#   stack protector  __stack_chk_fail imported (-fstack-protector-strong)
#   fortify          a binary that imports a function glibc can check (printf
#                    family, mem*, str*, read...) imports at least one __*_chk
#                    (-D_FORTIFY_SOURCE=2)
#
# Checked for every ELF file in the build's bin/ (TXW_BIN, default build/bin),
# then, one line for all, for the unit tests and test tools built beside it
# (../tests, ../tools). The Makefile leaves _FORTIFY_SOURCE out of sanitizer
# builds (make sanitize: a binary importing __asan_* or __ubsan_*) and of
# builds without optimisation (-O0 or no -O in the debug info's producer),
# so for those the fortify check is skipped, with the reason. Then each check
# is shown to fail on a small program built with everything but its flag
# ("the checker catches: ..."), so a pass means something. Needs readelf
# (binutils) and a C compiler (build-essential).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

CC=${CC:-gcc}
CHECKS="pie relro now nxstack canary fortify"
declare -A WHAT=(
    [pie]="PIE: ELF type DYN (-fPIE -pie)"
    [relro]="RELRO: a GNU_RELRO segment (-z relro)"
    [now]="BIND_NOW: DT_FLAGS BIND_NOW or DT_FLAGS_1 NOW (-z now)"
    [nxstack]="NX stack: GNU_STACK present and not executable"
    [canary]="stack protector: imports __stack_chk_fail (-fstack-protector-strong)"
    [fortify]="fortify: imports __*_chk functions (-D_FORTIFY_SOURCE=2)"
)
# What glibc's _FORTIFY_SOURCE replaces by a __*_chk variant when it can.
FORTIFIABLE='(v?(f|d|s|sn|as)?printf|mem(cpy|move|set|pcpy)|st(r|p)n?cpy|strn?cat|read|pread(64)?|recv(from)?|fgets|fread|realpath|getcwd|readlink|poll|ppoll)'

is_elf()  { [ -f "$1" ] && [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }
# The dynamic symbols FILE takes from its libraries, without version.
imports() {
    readelf --dyn-syms -W "$1" 2>/dev/null |
        awk '$7 == "UND" && $8 != "" { sub(/@.*/, "", $8); print $8 }' | sort -u
}

# check_<name> FILE: 0 when FILE has the property, 1 when not; fortify says
# 2 (with the reason in SKIP_WHY) for a build left unfortified on purpose.
check_pie()     { readelf -hW "$1" | grep -qE '^ *Type: +DYN '; }
check_relro()   { readelf -lW "$1" | grep -qE '^ *GNU_RELRO '; }
check_now()     { readelf -dW "$1" | grep -qE '\(BIND_NOW\)|\(FLAGS\) .*BIND_NOW|\(FLAGS_1\) .*[: ]NOW( |$)'; }
check_nxstack() { readelf -lW "$1" | awk '$1 == "GNU_STACK" { f = $7 } END { exit !(f != "" && f !~ /E/) }'; }
SKIP_WHY=
# A sanitizer build has AddressSanitizer's own stack checks instead (the
# Makefile says why): the canary check is skipped for it, with the reason.
check_canary()  {
    local syms
    syms=$(imports "$1")
    SKIP_WHY=
    if grep -qE '^__(asan|ubsan|tsan|msan|hwasan)_' <<<"$syms"; then
        SKIP_WHY="sanitizer build: AddressSanitizer checks the stack instead"; return 2
    fi
    grep -qx '__stack_chk_fail' <<<"$syms"
}
check_fortify() {
    local syms producer opt
    syms=$(imports "$1")
    SKIP_WHY=
    [ -n "$syms" ] || return 1          # readelf failed: a dynamic binary imports something
    if grep -qE '^__(asan|ubsan|tsan|msan|hwasan)_' <<<"$syms"; then
        SKIP_WHY="sanitizer build: the sanitizers do not support _FORTIFY_SOURCE"; return 2
    fi
    producer=$(readelf --debug-dump=info "$1" 2>/dev/null | grep -m1 -oE 'DW_AT_producer .*GNU C.*')
    if [ -n "$producer" ]; then
        opt=$(grep -oE ' -O[^ ]*' <<<"$producer" | tail -1)
        if [ -z "$opt" ] || [ "$opt" = " -O0" ]; then
            SKIP_WHY="built without optimisation: _FORTIFY_SOURCE needs it"; return 2
        fi
    fi
    grep -qE '^__[a-z0-9_]+_chk$' <<<"$syms" && return 0
    # Nothing glibc could check is called: nothing to fortify.
    ! grep -qxE "$FORTIFIABLE" <<<"$syms"
}

# check_each CHECK FILE...: one line for CHECK over FILES, naming those that
# fail; the files skipped on purpose get a line of their own, with the reason.
check_each() {
    local c=$1 f rc failed=() skipped=() why=; shift
    for f in "$@"; do
        "check_$c" "$f"; rc=$?
        case $rc in
            0) ;;
            2) skipped+=("${f##*/}"); why=$SKIP_WHY ;;
            *) failed+=("${f##*/}") ;;
        esac
    done
    local checked=$(($# - ${#skipped[@]}))
    if [ ${#failed[@]} -gt 0 ]; then
        not_ok "${WHAT[$c]}: fails for ${failed[*]}"
    elif [ "$checked" -gt 0 ]; then
        ok "${WHAT[$c]}: all $checked binaries"
    fi
    if [ ${#skipped[@]} -gt 0 ]; then
        ok "${WHAT[$c]}: ${skipped[*]} # skip $why"
    fi
    [ ${#failed[@]} -eq 0 ]
}

# --- the build's binaries --------------------------------------------------------
have() { command -v "$1" >/dev/null; }
check "readelf is installed (binutils)" have readelf
check "a C compiler is installed for the controls ($CC)" have "$CC"
note "$(readelf --version | head -1)"
BINARIES=()
for f in "$BIN"/*; do is_elf "$f" && BINARIES+=("$f"); done
if [ ${#BINARIES[@]} -eq 0 ]; then
    not_ok "there are binaries to check in $BIN (make all)"; exit 1
fi
ok "there are binaries to check in ${BIN#"$ROOT"/} (${#BINARIES[@]})"
note "${BINARIES[*]##*/}"
bad=0
for c in $CHECKS; do check_each "$c" "${BINARIES[@]}" || bad=1; done
for f in "${BINARIES[@]}"; do
    chk=$(imports "$f" | grep -E '^__[a-z0-9_]+_chk$' | sed 's/^__//; s/_chk$//' | paste -sd ' ')
    note "${f##*/} checked calls: ${chk:-none}"
done
[ $bad -eq 0 ] || note "a binary built before the hardening flags is not rebuilt by make: make clean all"

# --- the unit tests and test tools beside bin/ -----------------------------------
# Only those whose source exists (a removed test may leave its binary).
BESIDE=()
OUT=$(dirname "$BIN")
for f in "$OUT"/tests/test_*; do
    is_elf "$f" && [ -f "$ROOT/tests/unit/${f##*/}.c" ] && BESIDE+=("$f")
done
for f in "$OUT"/tools/txw-*; do
    is_elf "$f" && [ -f "$ROOT/tests/tools/${f##*/txw-}.c" ] && BESIDE+=("$f")
done
if [ ${#BESIDE[@]} -eq 0 ]; then
    ok "the unit tests and test tools pass the same checks # skip none built in ${OUT#"$ROOT"/}"
else
    failures=()
    unfortified=0
    for f in "${BESIDE[@]}"; do
        missing=()
        for c in $CHECKS; do
            "check_$c" "$f"; rc=$?
            [ $rc -eq 2 ] && unfortified=$((unfortified + 1))
            [ $rc -eq 1 ] && missing+=("$c")
        done
        [ ${#missing[@]} -gt 0 ] && failures+=("${f##*/} (${missing[*]})")
    done
    what="the unit tests and test tools in ${OUT#"$ROOT"/} pass the same checks (${#BESIDE[@]}"
    [ $unfortified -gt 0 ] && what="$what; $unfortified checks skipped: $SKIP_WHY"
    if [ ${#failures[@]} -eq 0 ]; then ok "$what)"; else not_ok "$what): ${failures[*]}"; fi
fi

# --- the checks can fail -------------------------------------------------------------
# A small program that calls checkable functions, built with the flags the
# Makefile gives an optimised build (it must pass every check), then once
# with each flag undone in turn: that check must fail, the others pass.
cat >"$WORK/control.c" <<'C'
#include <stdio.h>
#include <string.h>

int
main (int argc, char **argv)
{
    char copy [32];
    size_t len = strlen (argv [0]);
    memcpy (copy, argv [0], len < sizeof copy? len + 1: 1);
    fprintf (stderr, "%d %s\n", argc, copy);
    return 0;
}
C
# HARDEN_CFLAGS -- HARDEN_LDFLAGS, as the Makefile sets them for CFLAGS="-O2
# -g" (not for whatever make runs this suite: its MAKEFLAGS are dropped).
makefile_flags() {
    env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$ROOT" -f Makefile -f - \
        BUILD="$WORK/mk" CFLAGS="-O2 -g" txw-print-hardening <<'MK'
txw-print-hardening: ; @echo '$(HARDEN_CFLAGS) -- $(HARDEN_LDFLAGS)'
MK
}
FLAGS=$(makefile_flags)
HC=${FLAGS%% -- *}
HL=${FLAGS#* -- }
note "the Makefile's hardening: $FLAGS"
check "the Makefile names its hardening flags (HARDEN_CFLAGS -- HARDEN_LDFLAGS)" \
    test -n "$HC" -a -n "$HL" -a "$FLAGS" != "$HC"
# The flags with one undone, by check.
declare -A UNDONE=(
    [pie]="${HC//-fPIE/-fno-PIE} -- ${HL//-pie/-no-pie}"
    [relro]="$HC -- ${HL//,relro/,norelro}"
    [now]="$HC -- ${HL//,now/,lazy}"
    [nxstack]="$HC -- $HL -Wl,-z,execstack"
    [canary]="${HC//-fstack-protector-strong/-fno-stack-protector} -- $HL"
    [fortify]="${HC//-D_FORTIFY_SOURCE=2/} -- $HL"
)
declare -A CHANGE=([pie]="-fno-PIE -no-pie" [relro]="-z norelro" [now]="-z lazy"
                   [nxstack]="-z execstack" [canary]="-fno-stack-protector"
                   [fortify]="no -D_FORTIFY_SOURCE")
# control NAME CFLAGS... -- LDFLAGS...: builds $WORK/control-NAME
control() {
    local name=$1 cflags=(); shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do cflags+=("$1"); shift; done
    shift
    "$CC" -O2 "${cflags[@]}" "$@" -o "$WORK/control-$name" "$WORK/control.c" \
        >"$WORK/control-$name.log" 2>&1 || { sed 's/^/# /' "$WORK/control-$name.log"; return 1; }
}
# fails_only CHECK FILE: FILE fails CHECK and passes every other one
fails_only() {
    local c rc=0
    for c in $CHECKS; do
        if [ "$c" = "$1" ]; then "check_$c" "$2" && { note "check $c passed"; rc=1; }
        else "check_$c" "$2" || { note "check $c failed too"; rc=1; }
        fi
    done
    return $rc
}
passes_all() {
    local c rc=0
    for c in $CHECKS; do "check_$c" "$1" || { note "check $c failed"; rc=1; }; done
    return $rc
}
# shellcheck disable=SC2086 # the flag lists are meant to split
if control hardened $FLAGS; then
    check "a control program built with the Makefile's flags passes every check" \
        passes_all "$WORK/control-hardened"
else
    not_ok "a control program builds with the Makefile's flags"
fi
for c in $CHECKS; do
    what="the checker catches: a build with ${CHANGE[$c]} (${WHAT[$c]%%:*})"
    if [ "${UNDONE[$c]}" = "$FLAGS" ]; then
        not_ok "$what: the flag is not where the suite undoes it"; continue
    fi
    # shellcheck disable=SC2086 # the flag lists are meant to split
    if control "no-$c" ${UNDONE[$c]}; then
        check "$what" fails_only "$c" "$WORK/control-no-$c"
    else
        not_ok "$what: the control program builds"
    fi
done
