#!/usr/bin/env bash
# Builds every fuzz target given with libFuzzer (+ASan/UBSan) over the parser libraries and runs
# each for a bounded time. Usage: tests/run-fuzz.sh SECONDS tests/fuzz/fuzz_x.c ...
set -eu
secs=$1; shift
out=build-fuzz
mkdir -p "$out"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -DH2O_USE_EPOLL=1 -I."
# meta/'s C++ part (RocksDB options the C API lacks, no parser) is compiled on its own: it needs
# C++17, and UBSan's C++ checks need a runtime that clang (not clang++) does not link
for cc in meta/*.cc; do
    clang++ -std=c++17 -g -O1 -fsanitize=address -D_GNU_SOURCE -I. -c "$cc" -o "$out/$(basename "$cc" .cc).o"
done
# SM4 and AES-GCM (common/sm4*.c, common/aes_gcm.c) parse nothing a client sends, and Debian's
# clang 14 does not know the "vaes" feature their CPU checks name: they stay out of the fuzz builds
srcs="$(ls common/*.c gateway/s3/*.c meta/*.c erasure/*.c 2>/dev/null | grep -v -e '^common/sm4' -e '^common/aes_gcm') gateway/gw_config.c gateway/gw_cli_creds.c gateway/gw_cli_json.c $(ls "$out"/*.o 2>/dev/null)"
libs="-lh2o-evloop -lnghttp2 -lrocksdb -lisal -lxxhash -lssl -lcrypto -lexpat -ljansson -lyaml -lz -lstdc++ -lpthread -lm"
failed=0 passed=0
for t in "$@"; do
    name=$(basename "$t" .c)
    # the yc-store daemon's targets need store/ too (the others are spared compiling it)
    extra=""
    case "$name" in fuzz_store_*) extra="$(ls store/*.c)" ;; esac
    # the console's resolver needs its table of files, generated as the Makefile does
    if [ "$name" = fuzz_console ]; then
        /usr/bin/python3 gateway/console/embed.py $(ls gateway/console/* | grep -v '\.py$') >"$out/console_files.c"
        extra="gateway/gw_console_files.c $out/console_files.c"
    fi
    # the audit record's parser is the gateway's (the verifier reads files someone may have forged)
    case "$name" in fuzz_audit_*) extra="gateway/gw_audit_chain.c" ;; esac
    # the admin API's bodies are the gateway's (their parsers stand apart from the handlers)
    case "$name" in fuzz_admin_*) extra="gateway/gw_admin_body.c" ;; esac
    clang $flags "$t" $srcs $extra $libs -o "$out/$name"
    mkdir -p "$out/corpus-$name"
    seeds=tests/fuzz/seeds/$name
    if "$out/$name" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 "$out/corpus-$name" $( [ -d "$seeds" ] && echo "$seeds" ) \
        >"$out/$name.log" 2>&1; then
        echo "$name: ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$name.log" | awk '{print $2}' || true) runs)"
        passed=$((passed + 1))
    else
        echo "$name: FAILED (see $out/$name.log)"; tail -n 30 "$out/$name.log"
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
