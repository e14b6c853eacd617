#!/bin/sh
# `make deb`: the Release build installed into a staging tree with prefix
# /usr (CMakeLists.txt's install rules, as `make install`), the maintainer
# scripts of packaging/deb/, a control file whose Depends are the Debian
# packages that hold the libraries the binary links (dpkg -S of its
# NEEDED entries) plus fonts-noto-cjk for the report's PDF, then dpkg-deb.
#   scripts/make-deb.sh BUILD_DIR OUT_DIR   prints the .deb's path
set -eu
BUILD=$1
OUT=$2
SRC=$(cd "$(dirname "$0")/.." && pwd)
STAGE="$OUT/deb-root"
ARCH=$(dpkg --print-architecture)
# 0.1.<commits>: grows with every commit on the branch
VERSION="0.1.$(git -C "$SRC" rev-list --count HEAD 2>/dev/null || echo 0)"

rm -rf "$STAGE"
DESTDIR="$STAGE" cmake --install "$BUILD" --prefix /usr > /dev/null
mkdir -p "$STAGE/DEBIAN"
cp "$SRC/packaging/deb/postinst" "$SRC/packaging/deb/prerm" "$SRC/packaging/deb/postrm" "$STAGE/DEBIAN/"
echo /etc/logward/logward.yml > "$STAGE/DEBIAN/conffiles"
# the libraries the binary names itself (NEEDED), found where ldd finds them
libs=$(ldd "$STAGE/usr/bin/logward")
deps=$(objdump -p "$STAGE/usr/bin/logward" | awk '/NEEDED/ {print $2}' | while read -r name; do
	path=$(printf '%s\n' "$libs" | awk -v n="$name" '$1 == n && $2 == "=>" {print $3}')
	[ -n "$path" ] || continue
	dpkg -S "$(realpath "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true
done | cut -d: -f1 | sort -u | tr '\n' ' ')
[ -n "$deps" ] || { echo "make-deb: no library packages found for the binary" >&2; exit 1; }
depends=$(echo $deps fonts-noto-cjk passwd | sed 's/ /, /g')
cat > "$STAGE/DEBIAN/control" <<CTL
Package: logward
Version: $VERSION
Architecture: $ARCH
Maintainer: logward maintainers <logward@localhost>
Section: admin
Priority: optional
Installed-Size: $(du -sk "$STAGE" | cut -f1)
Depends: $depends
Description: security event log collector and correlator
 Receives syslog (RFC 3164/5424/6587) and journald streams over UDP, TCP,
 TLS, unix sockets and HTTP, stores them in compressed, hash-chained
 segments, correlates them with decoders and Sigma rules into incidents,
 and serves SOC operators a web console. Runs as the logward service
 (Type=notify); the store is /var/lib/logward.
CTL
deb="$OUT/logward_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group --build "$STAGE" "$deb" > /dev/null
echo "$deb"
