#!/bin/sh
# Writes a man page (roff) for one of the binaries from its own --help, so that the page can
# never say something the program does not: NAME and SYNOPSIS from the first lines, the rest
# verbatim. Usage: packaging/help2man.sh BINARY SECTION "one-line summary" > page
set -eu
bin=$1 section=$2 summary=$3
name=$(basename "$bin")
help=$("$bin" --help)
usage=$(printf '%s\n' "$help" | sed -n '1s/^usage: //p')
[ -n "$usage" ] || { echo "help2man.sh: $name --help has no 'usage:' line" >&2; exit 1; }
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)
# roff: a leading dot or quote would be a request, a backslash an escape
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
printf '.TH %s %s %s yuncang "yuncang manual"\n' "$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')" "$section" "$date"
printf '.SH NAME\n%s \\- %s\n' "$(printf '%s' "$name" | sed 's/-/\\-/g')" "$summary"
printf '.SH SYNOPSIS\n.nf\n%s\n.fi\n' "$(printf '%s\n' "$usage" | esc)"
printf '.SH DESCRIPTION\n.nf\n'
printf '%s\n' "$help" | sed 1d | esc
printf '.fi\n.SH FILES\n.nf\n/etc/yuncang/yuncang.yaml, /etc/yuncang/root.env, /etc/yuncang/cluster.env,\n'
printf '/etc/yuncang/store\\-NAME.env, /var/lib/yuncang, /var/log/yuncang/access.log\n.fi\n'
printf '.SH SEE ALSO\n/usr/share/doc/yuncang/operations.md\n'
