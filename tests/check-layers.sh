#!/usr/bin/env bash
# Checks that dependencies point one way. Each library may use only those below it:
#
#   common  <-  erasure, meta  <-  store  <-  gateway (with s3, which uses only common)
#
# and fails, naming the file, on:
#   1. an #include of a higher (or a sideways) layer in a library's sources, its binaries
#      (<module>/cmd/) or its unit tests (tests/unit/test_<module>*.c);
#   2. a link line of the Makefile (as `make -n` prints it) that links a library its target may
#      not use, lists libraries out of layer order, or hides an order with --start-group;
#   3. with a build folder given whose libraries exist: a library whose object files call a
#      symbol defined in a library it may not use (what the compiler was never shown);
#   4. inside the gateway, a file that reaches past its place in
#         gw_server.c (start-up)  ->  gw_s3.c (the router)  ->  handlers  ->  gw_request.c
#      : gw_server.h is included only by gw_server.c and the binaries' mains, the router's entry
#      (gw_s3.h) only by gw_server.c and gw_s3.c;
#   5. with a build folder: object files of one library that depend on each other in a circle
#      (a calls what b defines, and b, maybe through others, what a defines), named with the
#      circle: files that need each other are one concern, or are split wrongly.
# Usage: tests/check-layers.sh [BUILD]      (run by `make test` and `make lint`)
set -u
cd "$(dirname "$0")/.."
build=${1:-}
problems=0

declare -A may_use=(
    [common]="common"
    [erasure]="erasure common"
    [meta]="meta common"
    [store]="store meta erasure common"
    [s3]="s3 common"
    [gateway]="gateway s3 store meta erasure common"
)
order="gateway s3 store meta erasure common" # link order: each before what it uses

fail() {
    echo "layers: $*"
    problems=$((problems + 1))
}

allowed() { # allowed MODULE USED: 0 when MODULE may use USED
    [[ " ${may_use[$1]} " == *" $2 "* ]]
}

module_of_path() { # the module a source file or an included path belongs to; empty for none
    case $1 in
    common/*) echo common ;;
    erasure/*) echo erasure ;;
    meta/*) echo meta ;;
    store/*) echo store ;;
    gateway/s3/*) echo s3 ;;
    gateway/*) echo gateway ;;
    tests/unit/test_*)
        local m=${1#tests/unit/test_}
        m=${m%%_*}
        m=${m%.c}
        [ "$m" = gw ] && m=gateway
        [ -n "${may_use[$m]:-}" ] && echo "$m"
        ;;
    esac
}

# ---- 1. includes
while IFS= read -r file; do
    mod=$(module_of_path "$file")
    [ -n "$mod" ] || continue
    while IFS=: read -r line inc; do
        used=$(module_of_path "$inc")
        [ -n "$used" ] || continue
        allowed "$mod" "$used" || fail "$file:$line includes \"$inc\": $mod may not use $used"
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" | sed -E 's/^([0-9]+):[^"]*"([^"]*)".*/\1:\2/')
done < <(git ls-files 'common/*' 'erasure/*' 'meta/*' 'store/*' 'gateway/*' 'tests/unit/test_*.c' |
    grep -E '\.(c|cc|h)$')

# ---- 2. link lines
if grep -nE -- '--(start|end)-group' Makefile; then
    fail "Makefile: --start-group hides the link order; list the libraries in layer order instead"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
links=$(make -n -B BUILD="$tmp/b" BIN="$tmp/bin" all 2>/dev/null | grep -E -- " -o $tmp/(bin|b/tests)/")
[ -n "$links" ] || fail "no link line found in \`make -n all\`"
while IFS= read -r cmd; do
    target=$(sed -E 's/.* -o ([^ ]+).*/\1/' <<<"$cmd")
    name=${target##*/}
    libs=$(grep -oE "$tmp/b/lib[a-z0-9]+\.a" <<<"$cmd" | sed -E 's|.*/lib([a-z0-9]+)\.a|\1|' | tr '\n' ' ')
    case $target in
    */bin/yc-store) mod=store ;;
    */bin/yc-gateway | */bin/yc-admin) mod=gateway ;;
    */tests/*) mod=$(module_of_path "tests/unit/$name.c") ;;
    *) mod="" ;; # benchmarks stand outside the layers: only their order is checked
    esac
    for l in $libs; do
        [ -z "$mod" ] || allowed "$mod" "$l" || fail "$name links lib$l.a, which $mod may not use"
    done
    # each library before every one it may use: a later one must not use an earlier one
    seen=""
    for l in $libs; do
        for e in $seen; do
            [ "$e" != "$l" ] && allowed "$l" "$e" && fail "$name links lib$e.a before lib$l.a, which uses it"
        done
        seen="$seen $l"
    done
done <<<"$links"

# ---- 3. symbols of the built libraries
if [ -n "$build" ] && ls "$build"/lib*.a >/dev/null 2>&1; then
    declare -A owner=()
    for m in $order; do
        [ -f "$build/lib$m.a" ] || continue
        while read -r sym; do
            owner[$sym]=$m
        done < <(nm -g --defined-only "$build/lib$m.a" 2>/dev/null | awk 'NF == 3 && $2 != "U" && $2 != "w" && $2 != "v" {print $3}')
    done
    for m in $order; do
        [ -f "$build/lib$m.a" ] || continue
        while read -r obj sym; do
            o=${owner[$sym]:-}
            [ -n "$o" ] && [ "$o" != "$m" ] && ! allowed "$m" "$o" &&
                fail "lib$m.a (${obj}) uses $sym from lib$o.a: $m may not use $o"
        done < <(nm -A -u "$build/lib$m.a" 2>/dev/null | sed -nE 's/^[^:]*:([^:]*):[[:space:]]+U[[:space:]]+(.*)$/\1 \2/p')
    done
fi

# ---- 4. the gateway's own order
while IFS=: read -r file line inc; do
    case $inc in
    gateway/gw_server.h)
        case $file in gateway/gw_server.c | gateway/cmd/*) ;; *) fail "$file:$line includes \"$inc\": only the server and the mains may" ;; esac
        ;;
    gateway/gw_s3.h)
        case $file in gateway/gw_server.c | gateway/gw_s3.c) ;; *) fail "$file:$line includes \"$inc\": only the server calls the router" ;; esac
        ;;
    esac
done < <(git ls-files 'gateway/*.c' 'gateway/*.h' 'tests/unit/test_gw*.c' |
    xargs grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"gateway/gw_(server|s3)\.h"' 2>/dev/null |
    sed -E 's/^([^:]*):([0-9]+):[^"]*"([^"]*)".*/\1:\2:\3/')

# ---- 5. no circle between the object files of a library
if [ -n "$build" ] && ls "$build"/lib*.a >/dev/null 2>&1; then
    for m in $order; do
        lib="$build/lib$m.a"
        [ -f "$lib" ] || continue
        declare -A defined_in=()
        while read -r obj sym; do
            defined_in[$sym]=$obj
        done < <(nm -A -g --defined-only "$lib" 2>/dev/null |
            sed -nE 's/^[^:]*:([^:]*):[0-9a-fA-F]+ [A-TV-Za-tvxyz] (.*)$/\1 \2/p')
        edges=$(nm -A -u "$lib" 2>/dev/null | sed -nE 's/^[^:]*:([^:]*):[[:space:]]+U[[:space:]]+(.*)$/\1 \2/p' |
            while read -r obj sym; do
                o=${defined_in[$sym]:-}
                [ -n "$o" ] && [ "$o" != "$obj" ] && echo "$obj $o"
            done | sort -u)
        unset defined_in
        if [ -n "$edges" ] && ! loop=$(tsort <<<"$edges" 2>&1 >/dev/null); then
            fail "lib$m.a: object files that depend on each other in a circle: $(grep -v 'input contains a loop' <<<"$loop" | sed 's/^tsort: //' | sort -u | tr '\n' ' ' | sed 's/ $//')"
        fi
    done
fi

if [ $problems -ne 0 ]; then
    echo "layers: $problems problem(s); the order is common <- erasure, meta <- store <- gateway (s3: common only)"
    exit 1
fi
echo "layers: ok"
