#!/usr/bin/env bash
# The AWS CLI and s3cmd against a real yc-gateway started here over temporary drives.
# Each check counts as passed or failed; the last line is "integration-cli: N passed, N failed"
# and the exit status is non-zero when any check failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${YC_BIN_DIR:-$root/bin}
AWS_BIN=${AWS_BIN:-/usr/bin/aws}
S3CMD_BIN=${S3CMD_BIN:-/usr/bin/s3cmd}
PY=${PYTHON:-/usr/bin/python3}
BIG_MB=${YC_CLI_BIG_MB:-100}

passed=0
failed=0
work=$(mktemp -d -t yc-cli.XXXXXX)
gw_pid=

finish() {
    if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then
        kill -TERM "$gw_pid" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$gw_pid" 2>/dev/null
        wait "$gw_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap finish EXIT
trap 'exit 130' INT TERM HUP PIPE

summary() {
    echo "integration-cli: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# check NAME CMD...: runs CMD, counts the result, shows the output's tail on failure.
check() {
    local name=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name (exit $rc)"
        printf '%s\n' "$out" | tail -n 15 | sed 's/^/     /'
    fi
    return $rc
}

# ---------------------------------------------------------------- the gateway

if [ ! -x "$bin/yc-gateway" ]; then
    echo "FAIL gateway binary $bin/yc-gateway is missing (run make all)"
    failed=1
    summary
    exit 1
fi

port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
access_key=YC$("$PY" -c 'import secrets; print(secrets.token_hex(9).upper())')
secret_key=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(30))')
endpoint=http://127.0.0.1:$port
mkdir -p "$work/data"
YC_ROOT_USER=$access_key YC_ROOT_PASSWORD=$secret_key \
    "$bin/yc-gateway" --listen "127.0.0.1:$port" --data "$work/data" 2>"$work/gateway.log" >/dev/null &
gw_pid=$!

ready=0
for _ in $(seq 1 200); do # 20 s
    if ! kill -0 "$gw_pid" 2>/dev/null; then break; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then ready=1; break; fi
    sleep 0.1
done
if [ $ready -ne 1 ]; then
    echo "FAIL gateway did not start on $endpoint; stderr tail:"
    tail -n 30 "$work/gateway.log" | sed 's/^/     /'
    failed=1
    summary
    exit 1
fi

# ---------------------------------------------------------------- test data

mkdir -p "$work/src/sub/deeper" "$work/out"
printf 'hello from the cli test\n' >"$work/small.txt"
head -c 300000 /dev/urandom >"$work/medium.bin"
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$work/big.bin"
for i in 1 2 3 4 5; do head -c $((i * 7000)) /dev/urandom >"$work/src/file$i.bin"; done
printf 'a' >"$work/src/sub/a.txt"
head -c 200000 /dev/urandom >"$work/src/sub/deeper/b.bin"
printf 'name with space' >"$work/src/sub/with space.txt"
: >"$work/src/empty"

md5_of() { md5sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- AWS CLI

export AWS_ACCESS_KEY_ID=$access_key AWS_SECRET_ACCESS_KEY=$secret_key AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$work/aws-config AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=
: >"$AWS_SHARED_CREDENTIALS_FILE"
cat >"$AWS_CONFIG_FILE" <<EOF
[default]
region = us-east-1
max_attempts = 1
s3 =
    addressing_style = path
    multipart_threshold = 8MB
    multipart_chunksize = 8MB
EOF

aws() { "$AWS_BIN" --endpoint-url "$endpoint" "$@"; }

b1=yc-cli-aws-$RANDOM$RANDOM

check "aws s3 mb" aws s3 mb "s3://$b1"
check "aws s3 ls lists the bucket" bash -c "\"$AWS_BIN\" --endpoint-url $endpoint s3 ls | grep -q ' $b1\$'"

check "aws s3 cp upload small" aws s3 cp "$work/small.txt" "s3://$b1/dir/small.txt"
check "aws s3 cp download small" aws s3 cp "s3://$b1/dir/small.txt" "$work/out/small.txt"
check "aws s3 cp small bytes equal" cmp "$work/small.txt" "$work/out/small.txt"

check "aws s3 cp upload ${BIG_MB} MiB (multipart)" aws s3 cp "$work/big.bin" "s3://$b1/big.bin"
big_parts=$(( (BIG_MB + 7) / 8 ))
aws_etag_is_multipart() {
    local etag
    etag=$(aws s3api head-object --bucket "$b1" --key big.bin --query ETag --output text) || return 1
    echo "ETag $etag, expected suffix -$big_parts"
    case "$etag" in *"-$big_parts\""|*"-$big_parts") return 0 ;; *) return 1 ;; esac
}
check "aws s3 cp big ETag is multipart" aws_etag_is_multipart
check "aws s3 cp download ${BIG_MB} MiB" aws s3 cp "s3://$b1/big.bin" "$work/out/big.bin"
check "aws s3 cp big bytes equal" cmp "$work/big.bin" "$work/out/big.bin"
rm -f "$work/out/big.bin"

# A 20 MiB single PUT with a stored CRC32, fetched in ranges: by `aws s3 cp` (ranged GETs above the
# 8 MiB threshold) with AWS_RESPONSE_CHECKSUM_VALIDATION unset, and by get-object with the checksum
# mode current SDKs send, which fails when a range answer carries the whole object's checksum.
head -c $((20 * 1024 * 1024)) /dev/urandom >"$work/cksum.bin"
awsc() { env -u AWS_RESPONSE_CHECKSUM_VALIDATION -u AWS_REQUEST_CHECKSUM_CALCULATION "$AWS_BIN" --endpoint-url "$endpoint" "$@"; }
check "aws s3api put-object 20 MiB with a CRC32" awsc s3api put-object --bucket "$b1" --key cksum.bin \
    --body "$work/cksum.bin" --checksum-algorithm CRC32
check "aws s3 cp download 20 MiB (ranged)" awsc s3 cp "s3://$b1/cksum.bin" "$work/out/cksum.bin"
check "aws s3 cp 20 MiB bytes equal" cmp "$work/cksum.bin" "$work/out/cksum.bin"
check "aws s3api get-object --range with --checksum-mode ENABLED" awsc s3api get-object --bucket "$b1" \
    --key cksum.bin --range bytes=8388608-16777215 --checksum-mode ENABLED "$work/out/cksum-range.bin"
check "aws s3api get-object range bytes equal" cmp "$work/out/cksum-range.bin" \
    <(tail -c +8388609 "$work/cksum.bin" | head -c 8388608)
check "aws s3api get-object whole with --checksum-mode ENABLED" awsc s3api get-object --bucket "$b1" \
    --key cksum.bin --checksum-mode ENABLED "$work/out/cksum-whole.bin"
check "aws s3 cp upload 20 MiB (multipart) round trip" bash -c "env -u AWS_RESPONSE_CHECKSUM_VALIDATION \
    \"$AWS_BIN\" --endpoint-url $endpoint s3 cp \"$work/cksum.bin\" s3://$b1/cksum-mp.bin &&
    env -u AWS_RESPONSE_CHECKSUM_VALIDATION \"$AWS_BIN\" --endpoint-url $endpoint s3 cp s3://$b1/cksum-mp.bin \
    \"$work/out/cksum-mp.bin\" && cmp \"$work/cksum.bin\" \"$work/out/cksum-mp.bin\""
check "aws s3 rm the 20 MiB objects" awsc s3 rm --recursive "s3://$b1/" --exclude "*" --include "cksum*"
rm -f "$work/cksum.bin" "$work/out/cksum"*.bin

check "aws s3 sync up" aws s3 sync "$work/src" "s3://$b1/sync"
count_aws_keys() { # prefix expected
    local n
    n=$(aws s3api list-objects-v2 --bucket "$b1" --prefix "$1" --query 'length(Contents || `[]`)' --output text) || return 1
    echo "found $n keys under $1, expected $2"
    [ "$n" = "$2" ]
}
check "aws s3 sync uploaded every file" count_aws_keys sync/ 9
check "aws s3 ls --recursive" bash -c "\"$AWS_BIN\" --endpoint-url $endpoint s3 ls --recursive s3://$b1/sync/ | grep -q 'sync/sub/with space.txt\$'"
check "aws s3 sync down" aws s3 sync "s3://$b1/sync" "$work/out/sync"
check "aws s3 sync round trip equal" diff -r "$work/src" "$work/out/sync"
rm "$work/src/file1.bin"
printf 'changed' >"$work/src/file2.bin"
check "aws s3 sync --delete" aws s3 sync --delete "$work/src" "s3://$b1/sync"
check "aws s3 sync --delete removed the file" count_aws_keys sync/ 8
rm -rf "$work/out/sync"
check "aws s3 sync down after change" aws s3 sync "s3://$b1/sync" "$work/out/sync"
check "aws s3 sync changed files equal" diff -r "$work/src" "$work/out/sync"

check "aws s3api put-object" aws s3api put-object --bucket "$b1" --key api/medium.bin --body "$work/medium.bin" \
    --content-type application/x-yc --metadata color=blue,size=medium
head_matches() {
    local out
    out=$(aws s3api head-object --bucket "$b1" --key api/medium.bin --output json) || return 1
    echo "$out"
    echo "$out" | grep -q '"ContentType": "application/x-yc"' &&
        echo "$out" | grep -q '"color": "blue"' &&
        echo "$out" | grep -q '"ContentLength": 300000' &&
        echo "$out" | grep -q "$(md5_of "$work/medium.bin")"
}
check "aws s3api head-object" head_matches
check "aws s3api get-object" aws s3api get-object --bucket "$b1" --key api/medium.bin "$work/out/medium.bin"
check "aws s3api get-object bytes equal" cmp "$work/medium.bin" "$work/out/medium.bin"
check "aws s3api get-object --range" aws s3api get-object --bucket "$b1" --key api/medium.bin --range bytes=1000-1999 \
    "$work/out/range.bin"
check "aws s3api get-object range bytes equal" cmp "$work/out/range.bin" <(tail -c +1001 "$work/medium.bin" | head -c 1000)
missing_key_fails() {
    local out
    if out=$(aws s3api get-object --bucket "$b1" --key no/such/key "$work/out/none" 2>&1); then return 1; fi
    echo "$out"
    echo "$out" | grep -q NoSuchKey
}
check "aws s3api get-object missing key -> NoSuchKey" missing_key_fails
list_v2_prefix() {
    local out
    out=$(aws s3api list-objects-v2 --no-paginate --bucket "$b1" --prefix sync/sub/ --delimiter / --output json) || return 1
    echo "$out"
    echo "$out" | grep -q '"Prefix": "sync/sub/deeper/"' &&
        echo "$out" | grep -q '"Key": "sync/sub/a.txt"' &&
        echo "$out" | grep -q '"KeyCount": 3'
}
check "aws s3api list-objects-v2 prefix+delimiter" list_v2_prefix
check "aws s3api list-objects-v2 paged" count_aws_keys "" 11
check "aws s3api delete-objects" aws s3api delete-objects --bucket "$b1" \
    --delete '{"Objects":[{"Key":"sync/file3.bin"},{"Key":"sync/file4.bin"},{"Key":"not/there"}]}'
check "aws s3api delete-objects removed keys" count_aws_keys sync/ 6
check "aws s3 rm one" aws s3 rm "s3://$b1/dir/small.txt"
check "aws s3 rm one removed it" count_aws_keys dir/ 0
# headers whose meaning is not implemented are refused, and nothing is written
refused() {
    local code=$1 key=$2 out
    shift 2
    if out=$("$@" 2>&1); then echo "accepted: $out"; return 1; fi
    echo "$out"
    echo "$out" | grep -q "$code" || return 1
    ! aws s3api head-object --bucket "$b1" --key "$key" >/dev/null 2>&1
}
sse_round_trip() { # the object is stored encrypted (HEAD says so) and reads back as it was sent
    aws s3 cp "$work/small.txt" "s3://$b1/edge/sse.txt" --sse AES256 || return 1
    [ "$(aws s3api head-object --bucket "$b1" --key edge/sse.txt --query ServerSideEncryption --output text)" = AES256 ] ||
        return 1
    aws s3 cp "s3://$b1/edge/sse.txt" "$work/out/sse.txt" && cmp "$work/small.txt" "$work/out/sse.txt"
}
check "aws s3 cp --sse AES256 round trip, HEAD names AES256" sse_round_trip
check "aws s3 cp --acl public-read -> AccessControlListNotSupported" refused AccessControlListNotSupported edge/acl.txt \
    aws s3 cp "$work/small.txt" "s3://$b1/edge/acl.txt" --acl public-read
check "aws s3api put-object --storage-class GLACIER -> NotImplemented" refused NotImplemented edge/glacier.txt \
    aws s3api put-object --bucket "$b1" --key edge/glacier.txt --body "$work/small.txt" --storage-class GLACIER
check "aws s3api put-object --tagging" aws s3api put-object --bucket "$b1" --key edge/tagged.txt \
    --body "$work/small.txt" --tagging 'a=b&c=d%20e'
tags_read_back() {
    local got
    got=$(aws s3api get-object-tagging --bucket "$b1" --key edge/tagged.txt --query 'TagSet[].[Key,Value]' \
        --output text) || return 1
    echo "$got"
    [ "$got" = "$(printf 'a\tb\nc\td e')" ]
}
check "aws s3api get-object-tagging reads the tags of put-object --tagging" tags_read_back
check "aws s3 cp --storage-class STANDARD" aws s3 cp "$work/small.txt" "s3://$b1/edge/standard.txt" \
    --storage-class STANDARD
check "aws s3api create-bucket of an owned bucket -> 200 (us-east-1)" aws s3api create-bucket --bucket "$b1"
access_logged() { grep '^{' "$work/gateway.log" | grep '"operation":"PutObject"' | grep -q '"key":"edge/standard.txt"'; }
check "the access log has the CLI's PutObject" access_logged
check "aws s3 rm --recursive" aws s3 rm --recursive "s3://$b1/"
check "aws s3 rm --recursive emptied the bucket" count_aws_keys "" 0
check "aws s3 rb" aws s3 rb "s3://$b1"
bucket_gone() { ! "$AWS_BIN" --endpoint-url "$endpoint" s3 ls | grep -q " $b1\$"; }
check "aws s3 rb removed the bucket" bucket_gone

# ---------------------------------------------------------------- s3cmd

cat >"$work/s3cfg" <<EOF
[default]
access_key = $access_key
secret_key = $secret_key
host_base = 127.0.0.1:$port
host_bucket = 127.0.0.1:$port
use_https = False
signature_v2 = False
bucket_location = us-east-1
check_ssl_certificate = False
enable_multipart = True
multipart_chunk_size_mb = 15
progress_meter = False
EOF
s3c() { "$S3CMD_BIN" -c "$work/s3cfg" --no-progress "$@"; }
b2=yc-cli-s3cmd-$RANDOM$RANDOM

check "s3cmd mb" s3c mb "s3://$b2"
check "s3cmd ls lists the bucket" bash -c "\"$S3CMD_BIN\" -c \"$work/s3cfg\" ls | grep -q 's3://$b2\$'"
check "s3cmd put small" s3c put "$work/small.txt" "s3://$b2/small.txt"
check "s3cmd put medium" s3c put "$work/medium.bin" "s3://$b2/dir/medium.bin"
check "s3cmd get small" s3c get --force "s3://$b2/small.txt" "$work/out/s3cmd-small.txt"
check "s3cmd get small bytes equal" cmp "$work/small.txt" "$work/out/s3cmd-small.txt"
check "s3cmd ls bucket" bash -c "\"$S3CMD_BIN\" -c \"$work/s3cfg\" ls s3://$b2 | grep -q 's3://$b2/small.txt\$'"
check "s3cmd la --recursive" bash -c "\"$S3CMD_BIN\" -c \"$work/s3cfg\" la --recursive | grep -q 's3://$b2/dir/medium.bin\$'"
du_matches() {
    local out expected
    expected=$(( $(stat -c %s "$work/small.txt") + 300000 ))
    out=$(s3c du "s3://$b2") || return 1
    echo "$out (expected $expected bytes)"
    [ "$(echo "$out" | awk '{print $1}')" = "$expected" ]
}
check "s3cmd du" du_matches
info_matches() {
    local out
    out=$(s3c info "s3://$b2/dir/medium.bin") || return 1
    echo "$out"
    echo "$out" | grep -Eq "MD5 sum: +$(md5_of "$work/medium.bin")" && echo "$out" | grep -Eq "File size: +300000"
}
check "s3cmd info" info_matches

check "s3cmd put ${BIG_MB} MiB (multipart)" s3c put "$work/big.bin" "s3://$b2/big.bin"
s3cmd_big_parts=$(( (BIG_MB + 14) / 15 ))
s3cmd_etag_is_multipart() {
    local etag
    etag=$(aws s3api head-object --bucket "$b2" --key big.bin --query ETag --output text) || return 1
    echo "ETag $etag, expected suffix -$s3cmd_big_parts"
    case "$etag" in *"-$s3cmd_big_parts\""|*"-$s3cmd_big_parts") return 0 ;; *) return 1 ;; esac
}
check "s3cmd put big ETag is multipart" s3cmd_etag_is_multipart
check "s3cmd get ${BIG_MB} MiB" s3c get --force "s3://$b2/big.bin" "$work/out/s3cmd-big.bin"
check "s3cmd big bytes equal" cmp "$work/big.bin" "$work/out/s3cmd-big.bin"
rm -f "$work/out/s3cmd-big.bin" "$work/big.bin"

check "s3cmd sync up" s3c sync "$work/src/" "s3://$b2/sync/"
check "s3cmd sync down" s3c sync "s3://$b2/sync/" "$work/out/s3cmd-sync/"
check "s3cmd sync round trip equal" diff -r "$work/src" "$work/out/s3cmd-sync"

signurl_fetch() {
    local url
    url=$(s3c signurl "s3://$b2/small.txt" +600) || return 1
    echo "$url"
    curl -sS -f -o "$work/out/signed.txt" "$url" && cmp "$work/small.txt" "$work/out/signed.txt"
}
check "s3cmd signurl fetched with curl" signurl_fetch

check "s3cmd del" s3c del "s3://$b2/small.txt"
small_gone() {
    local out
    out=$(s3c ls "s3://$b2/small.txt") || return 1
    [ -z "$out" ]
}
check "s3cmd del removed the object" small_gone
check "s3cmd del --recursive" s3c del --recursive --force "s3://$b2/"
check "s3cmd rb" s3c rb "s3://$b2"
s3cmd_bucket_gone() { ! "$S3CMD_BIN" -c "$work/s3cfg" ls | grep -q "s3://$b2\$"; }
check "s3cmd rb removed the bucket" s3cmd_bucket_gone

if ! kill -0 "$gw_pid" 2>/dev/null; then
    echo "FAIL gateway died during the run; stderr tail:"
    tail -n 30 "$work/gateway.log" | sed 's/^/     /'
    failed=$((failed + 1))
fi

summary
