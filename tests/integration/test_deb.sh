#!/usr/bin/env bash
# `make deb`'s package (scripts/make-deb.sh on this build tree) installed,
# removed and purged with the real dpkg in a throwaway root (dpkg --root:
# maintainer scripts run chrooted into it). The root holds only what the
# scripts run (sh, getent, useradd, systemctl ... with their libraries
# and /etc/passwd), and the dpkg database lists the packages of Depends
# as installed (their stanzas from this machine's database), so the
# dependency check is dpkg's own.
# Oracles: after -i the files are in place, the user logward exists, the
# store directory belongs to it (mode 0750), the config is a conffile
# readable by the group only, the unit is enabled; a reinstall keeps the
# administrator's config; -r removes the binary and the enablement but
# keeps config and data; -P removes the config, never the data, and a
# new install after it finds the data and the user.
# labels: slow
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (chroot)"
for t in dpkg dpkg-deb objdump useradd getent; do need "$t"; done
SRC="$(cd "$(dirname "$0")/../.." && pwd)"

deb=$(sh "$SRC/scripts/make-deb.sh" "${LW_BUILD_DIR:?}" "$LW_TMP") || fail "make-deb"
[ -f "$deb" ] || fail "no package: $deb"
expect_eq "$(dpkg-deb -f "$deb" Package)" logward "package name"
dpkg-deb -c "$deb" > "$LW_TMP/contents"
grep -q "./usr/lib/systemd/system/logward.service$" "$LW_TMP/contents" || fail "no unit in the package"
expect_eq "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)" /etc/logward/logward.yml "conffiles"

C="$LW_TMP/chroot"
mkdir -p "$C/usr/bin" "$C/usr/sbin" "$C/usr/lib" "$C/usr/lib64" "$C/etc" "$C/dev" "$C/tmp" "$C/run" \
	"$C/var/lib/dpkg/info" "$C/var/lib/dpkg/updates" "$C/var/lib/dpkg/triggers"
for l in bin sbin lib lib64; do ln -s "usr/$l" "$C/$l"; done
mknod -m 666 "$C/dev/null" c 1 3
copy() {
	local p lib
	p=$(command -v "$1") || fail "no $1 on this machine"
	mkdir -p "$C$(dirname "$p")"
	cp -L "$p" "$C$p"
	for lib in $(ldd "$p" 2>/dev/null | grep -o '/[^ )]*'); do
		mkdir -p "$C$(dirname "$lib")"
		cp -Ln "$lib" "$C$lib"
	done
}
for p in sh getent useradd groupadd mkdir chown chgrp chmod ln rm rmdir ldconfig start-stop-daemon nologin; do
	copy "$p"
done
command -v systemctl > /dev/null && copy systemctl
for f in passwd group shadow gshadow login.defs nsswitch.conf; do
	[ -f "/etc/$f" ] && cp "/etc/$f" "$C/etc/"
done
: > "$C/var/lib/dpkg/status"; : > "$C/var/lib/dpkg/available"
for d in $(dpkg-deb -f "$deb" Depends | tr -d ','); do
	dpkg-query -s "$d" >> "$C/var/lib/dpkg/status" || fail "Depends names '$d', not installed here"
	echo >> "$C/var/lib/dpkg/status"
	touch "$C/var/lib/dpkg/info/$(dpkg-query -W -f '${binary:Package}' "$d").list"
done
D() { dpkg --root="$C" "$@" > "$LW_TMP/dpkg.log" 2>&1 || fail "dpkg $*: $(cat "$LW_TMP/dpkg.log")"; }
owner() { stat -c '%U:%G %a' "$C$1"; }

# --- install ---------------------------------------------------------------
D -i "$deb"
grep -q "^logward:x:[0-9]*:[0-9]*:.*:/var/lib/logward:/usr/sbin/nologin$" "$C/etc/passwd" ||
	fail "no service user: $(grep logward "$C/etc/passwd")"
for f in /usr/bin/logward /usr/share/logward/rules/response.yml /usr/share/man/man8/logward.8 \
	/usr/share/bash-completion/completions/logward; do
	[ -f "$C$f" ] || fail "not installed: $f"
done
# chroot's user names are not this machine's: compare ids through the chroot's files
uid=$(awk -F: '$1 == "logward" {print $3}' "$C/etc/passwd")
gid=$(awk -F: '$1 == "logward" {print $3}' "$C/etc/group")
expect_eq "$(stat -c '%u:%g %a' "$C/var/lib/logward")" "$uid:$gid 750" "the store directory"
expect_eq "$(stat -c '%u:%g %a' "$C/etc/logward/logward.yml")" "0:$gid 640" "the config"
link=$(readlink "$C/etc/systemd/system/multi-user.target.wants/logward.service") || fail "the unit is not enabled"
case "$link" in
/lib/systemd/system/logward.service|/usr/lib/systemd/system/logward.service) ;;
*) fail "enabled as '$link'" ;;
esac
cmp -s "$C$link" "$C/usr/lib/systemd/system/logward.service" || fail "the enabled unit is not the package's"
"$C/usr/bin/logward" --help > "$LW_TMP/help" || fail "the installed binary does not run"
grep -q "^  report " "$LW_TMP/help" || fail "the installed binary's help: $(cat "$LW_TMP/help")"
echo "# the administrator's line" >> "$C/etc/logward/logward.yml"
echo "stored events" > "$C/var/lib/logward/data.mdb"
D -i "$deb"   # a reinstall (upgrade path): config kept, user not made twice
grep -qx "# the administrator's line" "$C/etc/logward/logward.yml" || fail "reinstall replaced the config"
expect_eq "$(grep -c '^logward:' "$C/etc/passwd")" 1 "one service user"

# --- remove: binary and enablement go, config and data stay --------------
D -r logward
[ ! -e "$C/usr/bin/logward" ] || fail "binary left after remove"
[ ! -e "$C/etc/systemd/system/multi-user.target.wants/logward.service" ] || fail "still enabled after remove"
[ -f "$C/etc/logward/logward.yml" ] || fail "remove took the config"
expect_eq "$(cat "$C/var/lib/logward/data.mdb")" "stored events" "data after remove"

# --- purge: config goes, data never --------------------------------------
D -P logward
[ ! -e "$C/etc/logward/logward.yml" ] || fail "config left after purge"
[ ! -d "$C/etc/logward" ] || fail "/etc/logward left after purge"
expect_eq "$(cat "$C/var/lib/logward/data.mdb")" "stored events" "data after purge"
expect_eq "$(dpkg --root="$C" -l logward 2>/dev/null | awk '/logward/ {print $1}')" "" "package gone from the database"

# --- a new install finds the data and the user ----------------------------
D -i "$deb"
expect_eq "$(cat "$C/var/lib/logward/data.mdb")" "stored events" "data after reinstall"
expect_eq "$(grep -c '^logward:' "$C/etc/passwd")" 1 "one service user after reinstall"
echo "ok: $(basename "$deb") installs, reinstalls, removes and purges; the data survives"
