#!/usr/bin/env bash
# arm64.sh — the arm64 cross build's pieces, for `make cross-arm64` and `make test-arm64`
# (docs/platforms.md):
#
#   arm64.sh deps          installs Debian's aarch64 cross compiler and qemu-user when missing, and
#                          unpacks the :arm64 builds of the libraries the project links into
#                          sysroot-arm64/. They are downloaded, not installed: librocksdb-dev,
#                          libisal-dev and libh2o-evloop-dev are not "Multi-Arch: same", so
#                          installing their :arm64 builds would remove the machine's own.
#   arm64.sh flags         the compiler flags that point the cross compiler at that sysroot
#   arm64.sh test BIN...   runs unit test binaries under qemu-user (the CPU "max", which has the
#                          ARMv8.2 SM4 instructions; test_sm4 also on a Cortex-A72, which has
#                          NEON only), and prints one summary line as tests/run-unit.sh does
set -euo pipefail
cd "$(dirname "$0")/.."
SYSROOT=${ARM64_SYSROOT:-sysroot-arm64}
TRIPLET=aarch64-linux-gnu
# the libraries of the Makefile's LDLIBS, with their headers, and what their .so files need; the C
# and C++ runtimes too, so that qemu-user runs the tests with the sysroot as its prefix and one
# glibc: a machine with libc6:arm64 installed would otherwise give the cross toolchain's loader
# its own libc.so.6 of another build, and threads hang in pthread_create
LIB_PKGS="libc6 libgcc-s1 libstdc++6 libh2o-evloop-dev libh2o-evloop0.13 libwslay1 librocksdb-dev librocksdb7.8 libbz2-1.0 libgflags2.2
  liblz4-1 libsnappy1v5 libzstd1 libisal-dev libisal2 libxxhash-dev libxxhash0 libssl-dev libssl3 libexpat1-dev
  libexpat1 libjansson-dev libjansson4 libyaml-dev libyaml-0-2 zlib1g-dev zlib1g libnghttp2-dev libnghttp2-14"
HOST_PKGS="crossbuild-essential-arm64 qemu-user-static"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

deps() {
    local missing="" p
    for p in $HOST_PKGS; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
    done
    local need_update=0
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        echo "arm64.sh: adding the arm64 architecture to dpkg (for apt-get download)"
        as_root dpkg --add-architecture arm64
        need_update=1
    fi
    if [ -n "$missing" ]; then
        echo "installing:$missing"
        need_update=1
    fi
    if [ "$need_update" = 1 ]; then
        as_root apt-get update -q
    fi
    if [ -n "$missing" ]; then
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q $missing
    fi

    # the sysroot is remade when the package list or a version changes
    local want
    # shellcheck disable=SC2086
    want=$(apt-cache policy $(for p in $LIB_PKGS; do echo "$p:arm64"; done) 2>/dev/null |
        awk '/^[^ ]/ { p = $1 } /Candidate:/ { print p, $2 }')
    if [ -f "$SYSROOT/.packages" ] && [ "$(cat "$SYSROOT/.packages")" = "$want" ]; then
        return 0
    fi
    echo "arm64.sh: unpacking the :arm64 libraries into $SYSROOT"
    local tmp
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/yc-arm64.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" RETURN
    # shellcheck disable=SC2046
    (cd "$tmp" && apt-get download -q -o APT::Sandbox::User="$(id -un)" $(for p in $LIB_PKGS; do echo "$p:arm64"; done))
    rm -rf "$SYSROOT"
    mkdir -p "$SYSROOT"
    for deb in "$tmp"/*.deb; do
        dpkg-deb -x "$deb" "$SYSROOT"
    done
    # absolute symlinks (libz.so -> /lib/...) would point at the machine's own files
    local link target
    while IFS= read -r link; do
        target=$(readlink "$link")
        case $target in /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$SYSROOT$target")" "$link" ;; esac
    done < <(find "$SYSROOT" -type l)
    echo "$want" >"$SYSROOT/.packages"
}

libdirs() {
    echo "$PWD/$SYSROOT/usr/lib/$TRIPLET $PWD/$SYSROOT/lib/$TRIPLET"
}

flags() {
    local f="-isystem $PWD/$SYSROOT/usr/include -isystem $PWD/$SYSROOT/usr/include/$TRIPLET" d
    for d in $(libdirs); do
        f="$f -L$d -Wl,-rpath-link=$d"
    done
    echo "$f"
}

qemu() {
    if command -v qemu-aarch64-static >/dev/null; then echo qemu-aarch64-static; else echo qemu-aarch64; fi
}

# Unit tests that cannot run under qemu-user, with the reason (none known today).
declare -A skip=()

run_tests() {
    local passed=0 failed=0 broken=0 t name out rc line cpu cpus
    local ld_path
    ld_path=$(libdirs | tr ' ' ':')
    for t in "$@"; do
        name=$(basename "$t")
        if [ -n "${skip[$name]:-}" ]; then
            echo "$name: skipped under qemu-user: ${skip[$name]}"
            continue
        fi
        cpus=max
        [ "$name" = test_sm4 ] && cpus="max cortex-a72"
        for cpu in $cpus; do
            out=$(QEMU_LD_PREFIX=$PWD/$SYSROOT LD_LIBRARY_PATH=$ld_path "$(qemu)" -cpu "$cpu" "$t" 2>&1) && rc=0 || rc=$?
            line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1 || true)
            echo "$name (qemu-aarch64 -cpu $cpu): ${line:-no summary (exit $rc)}"
            printf '%s\n' "$out" | grep -E '^  sm4 ' || true
            if [ $rc -ne 0 ] || [ -z "$line" ]; then printf '%s\n' "$out" | grep -vE '^[0-9]+ passed' | tail -n 40; fi
            if [ -n "$line" ]; then
                passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
                failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
            fi
            if [ $rc -ne 0 ] && { [ -z "$line" ] || [ "$(echo "$line" | cut -d' ' -f3)" = 0 ]; }; then
                broken=$((broken + 1))
            fi
        done
    done
    echo "unit (arm64, qemu-user): $passed passed, $((failed + broken)) failed"
    [ $failed -eq 0 ] && [ $broken -eq 0 ]
}

case ${1:-} in
deps) deps ;;
flags) flags ;;
test)
    shift
    run_tests "$@"
    ;;
*)
    echo "usage: tests/arm64.sh deps | flags | test BIN..." >&2
    exit 2
    ;;
esac
