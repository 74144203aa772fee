#!/usr/bin/env bash
# `make run`: the embedded default — one gateway over 6 drives in ./var, EC 4+2, on 127.0.0.1:9000.
# Root keys come from YC_ROOT_USER / YC_ROOT_PASSWORD, or are made once and kept in ./var/.root-keys.
set -eu
cd "$(dirname "$0")/.."
mkdir -p var
if [ -z "${YC_ROOT_USER:-}" ] || [ -z "${YC_ROOT_PASSWORD:-}" ]; then
    if [ ! -f var/.root-keys ]; then
        umask 077
        # export lines: `. var/.root-keys` in another shell then serves yc-admin too
        printf 'export YC_ROOT_USER=%s\nexport YC_ROOT_PASSWORD=%s\n' "yc$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')" \
            "$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')" > var/.root-keys
    fi
    . var/.root-keys
    export YC_ROOT_USER YC_ROOT_PASSWORD
fi
# yc-admin reads the endpoint and the root keys from here (mode 0600: it holds the secret)
admin_config="${YC_ADMIN_CONFIG:-${XDG_CONFIG_HOME:-${HOME:-.}/.config}/yuncang/admin.yaml}"
mkdir -p "$(dirname "$admin_config")"
(
    umask 077
    printf '# written by `make run`: yc-admin reads it (see yc-admin --help)\nendpoint: http://127.0.0.1:9000\naccess_key: "%s"\nsecret_key: "%s"\n' \
        "$YC_ROOT_USER" "$YC_ROOT_PASSWORD" > "$admin_config.tmp"
)
chmod 600 "$admin_config.tmp"
mv "$admin_config.tmp" "$admin_config"
cat <<MSG
yuncang gateway
  endpoint:   http://127.0.0.1:9000
  access key: $YC_ROOT_USER
  secret key: $YC_ROOT_PASSWORD
  data:       ./var (6 drives, erasure coding 4+2)
  yc-admin:   reads the endpoint and keys from $admin_config
try: AWS_ACCESS_KEY_ID=$YC_ROOT_USER AWS_SECRET_ACCESS_KEY=$YC_ROOT_PASSWORD aws --endpoint-url http://127.0.0.1:9000 s3 ls
MSG
exec bin/yc-gateway --listen 127.0.0.1:9000 --data ./var
