#!/bin/sh
# `make deb`: the Debian package yuncang_VERSION_ARCH.deb from the built binaries, staged in a
# tree and packed with dpkg-deb (no debhelper needed). Depends: comes from dpkg-shlibdeps over
# the binaries, so it names the Debian packages of the libraries they really link.
#
# Usage: packaging/build-deb.sh BIN_DIR OUT_DIR — prints the path of the package.
# The configuration /etc/yuncang/yuncang.yaml is conf/yuncang.yaml with the paths of an
# installed system; every other setting and comment stays as the source documents it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
bin=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
pkg=yuncang

# a version that grows with the history: 0.1.0+gitN.HASH (N commits)
count=$(git -C "$top" rev-list --count HEAD 2>/dev/null || echo 0)
hash=$(git -C "$top" rev-parse --short=8 HEAD 2>/dev/null || echo unknown)
version=${YC_DEB_VERSION:-0.1.0+git$count.$hash}
arch=$(dpkg --print-architecture)
# who answers for this build: set YC_DEB_MAINTAINER="Name <address>" for a package that leaves the site
maintainer=${YC_DEB_MAINTAINER:-yuncang developers <yuncang@example.org>}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH

stage=$out/stage
rm -rf "$stage"
install -d -m 0755 "$stage/DEBIAN" "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/etc/yuncang" \
    "$stage/etc/logrotate.d" "$stage/usr/share/man/man8" "$stage/usr/share/doc/$pkg/examples"

for b in yc-gateway yc-store yc-admin; do
    [ -x "$bin/$b" ] || { echo "build-deb.sh: $bin/$b is missing (make all)" >&2; exit 1; }
    # the build keeps its debug info; the package does not
    objcopy --strip-unneeded "$bin/$b" "$stage/usr/bin/$b"
    chmod 0755 "$stage/usr/bin/$b"
done

# the gateway's configuration: the documented example with the installed paths, each
# substitution checked so that a renamed key in conf/yuncang.yaml fails here, not on a server
conf=$stage/etc/yuncang/yuncang.yaml
{
    printf '# yuncang gateway, as installed by the package: %s\n' "/etc/yuncang/yuncang.yaml"
    printf '# (systemctl enable --now yc-gateway; root keys in /etc/yuncang/root.env, cluster secret in\n'
    printf '# /etc/yuncang/cluster.env). docs: /usr/share/doc/yuncang/operations.md\n'
    cat "$top/conf/yuncang.yaml"
} >"$conf"
subst() { # KEY VALUE: replaces the value of the uncommented "KEY:" line, keeping its comment
    grep -q "^$1:" "$conf" || { echo "build-deb.sh: conf/yuncang.yaml has no '$1:' line" >&2; exit 1; }
    sed -i "s|^$1: *[^#]*\\(#.*\\)\\{0,1\\}\$|$1: $2 \\1|; s| *\$||" "$conf"
}
subst data /var/lib/yuncang
subst access_log "/var/log/yuncang/access.log"
if ! grep -q '^data: /var/lib/yuncang ' "$conf" || ! grep -q '^access_log: /var/log/yuncang/access.log ' "$conf"; then
    echo "build-deb.sh: substitution failed in $conf" >&2
    exit 1
fi

install -m 0644 "$here/store-main.env" "$stage/etc/yuncang/store-main.env"
install -m 0644 "$here/yuncang.logrotate" "$stage/etc/logrotate.d/yuncang"
install -m 0644 "$here/yc-gateway.service" "$here/yc-store@.service" "$stage/lib/systemd/system/"
for s in postinst prerm postrm; do install -m 0755 "$here/$s" "$stage/DEBIAN/$s"; done
printf '/etc/yuncang/yuncang.yaml\n/etc/yuncang/store-main.env\n/etc/logrotate.d/yuncang\n' >"$stage/DEBIAN/conffiles"

"$here/help2man.sh" "$stage/usr/bin/yc-gateway" 8 "yuncang S3 gateway" | gzip -9n >"$stage/usr/share/man/man8/yc-gateway.8.gz"
"$here/help2man.sh" "$stage/usr/bin/yc-store" 8 "yuncang storage daemon" | gzip -9n >"$stage/usr/share/man/man8/yc-store.8.gz"
"$here/help2man.sh" "$stage/usr/bin/yc-admin" 8 "yuncang administration client" | gzip -9n >"$stage/usr/share/man/man8/yc-admin.8.gz"

doc=$stage/usr/share/doc/$pkg
install -m 0644 "$top/README.md" "$top/docs/operations.md" "$doc/"
install -m 0644 "$top"/conf/*.yaml "$doc/examples/"
printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: yuncang\n\nFiles: *\nCopyright: %s yuncang developers\nLicense: see README.md\n' "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y)" >"$doc/copyright"
{
    printf '%s (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n' "$pkg" "$version" "$hash"
    printf ' -- %s  %s\n' "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.gz" # a native package: changelog, not changelog.Debian

# Depends: from the binaries' NEEDED libraries (dpkg-shlibdeps wants a debian/control beside it)
shl=$out/shlibdeps
rm -rf "$shl" && mkdir -p "$shl/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" >"$shl/debian/control"
depends=$(cd "$shl" && dpkg-shlibdeps -O -e"$stage/usr/bin/yc-gateway" -e"$stage/usr/bin/yc-store" \
    -e"$stage/usr/bin/yc-admin" 2>"$shl/warnings" | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build-deb.sh: dpkg-shlibdeps found no dependencies:" >&2; cat "$shl/warnings" >&2; exit 1; }
rm -rf "$shl"

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" -e "s|@MAINTAINER@|$maintainer|" \
    "$here/control.in" >"$stage/DEBIAN/control"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
    xargs md5sum) >"$stage/DEBIAN/md5sums"
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

deb=$out/${pkg}_${version}_${arch}.deb
rm -f "$out"/${pkg}_*.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
rm -rf "$stage"
echo "$deb"
