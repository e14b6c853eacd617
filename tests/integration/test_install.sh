#!/usr/bin/env bash
# `make install`'s step (cmake --install of this build tree) in two forms:
#   - PREFIX=/usr with DESTDIR (what a package does): every file where
#     Debian expects it, the unit and config rewritten for /usr and /etc,
#     the installed config and rule pack load without error;
#   - PREFIX=<tmp> (a local install): `systemd-analyze verify` passes on
#     the installed unit (its ExecStart exists, its man: pages are found),
#     and `systemd-analyze security` rates its exposure;
# the man pages hold every command's --help verbatim and every key of the
# README's configuration table; bash completion completes commands,
# subcommands and options from the installed binary.
. "$(dirname "$0")/lib.sh"
need man
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${LW_BUILD_DIR:?}"

R="$LW_TMP/root"
DESTDIR="$R" cmake --install "$BUILD" --prefix /usr > "$LW_TMP/install.log" || fail "install: $(tail "$LW_TMP/install.log")"
for f in usr/bin/logward usr/lib/systemd/system/logward.service etc/logward/logward.yml \
	usr/share/doc/logward/examples/logward.yml usr/share/man/man8/logward.8 \
	usr/share/man/man5/logward.yml.5 usr/share/bash-completion/completions/logward \
	usr/share/logward/rules/response.yml; do
	[ -f "$R/$f" ] || fail "not installed: /$f"
done
[ -x "$R/usr/bin/logward" ] || fail "logward not executable"
expect_eq "$(cd "$R/usr/share/logward/rules" && find . -type f | sort | md5sum)" \
	"$(cd "$SRC/rules" && find . -type f | sort | md5sum)" "the rule pack's files"
grep -qx "ExecStart=/usr/bin/logward serve -c /etc/logward/logward.yml" "$R/usr/lib/systemd/system/logward.service" ||
	fail "ExecStart: $(grep ExecStart "$R/usr/lib/systemd/system/logward.service")"
grep -qx "Type=notify" "$R/usr/lib/systemd/system/logward.service" || fail "not Type=notify"
grep -qx "data_dir: /var/lib/logward" "$R/etc/logward/logward.yml" || fail "data_dir"
grep -q "rules: \[/usr/share/logward/rules\]" "$R/etc/logward/logward.yml" || fail "rules"
grep -q "path: /run/logward/log.sock" "$R/etc/logward/logward.yml" || fail "unix socket path"
# the installed config, with the DESTDIR prefix, loads and its pack compiles
sed "s|/usr/share|$R/usr/share|; s|/var/lib/logward|$LW_TMP/data|; s|/run/logward|$LW_TMP|" \
	"$R/etc/logward/logward.yml" > "$LW_TMP/check.yml"
out=$("$R/usr/bin/logward" rules check -c "$LW_TMP/check.yml") || fail "installed pack: $out"
# the same pack as the source tree's, with no error (counts from the tree,
# so the test follows the pack as it grows)
sed "s|^rules:.*|rules: [$SRC/rules]|" "$LW_TMP/check.yml" > "$LW_TMP/src.yml"
want=$("$R/usr/bin/logward" rules check -c "$LW_TMP/src.yml" | tail -n 1)
grep -q "^[0-9]* decoders, [0-9]* detection rules, [0-9]* correlation rules: 0 errors" <<<"$want" ||
	fail "source pack: $want"
expect_eq "$(tail -n 1 <<<"$out")" "$want" "rules check of the installed pack"
# an administrator's config survives a second install
echo "# mine" >> "$R/etc/logward/logward.yml"
DESTDIR="$R" cmake --install "$BUILD" --prefix /usr > /dev/null
grep -qx "# mine" "$R/etc/logward/logward.yml" || fail "the config was overwritten"

# --- a local prefix: the unit verifies ----------------------------------
P="$LW_TMP/prefix"
cmake --install "$BUILD" --prefix "$P" > /dev/null || fail "install to $P"
if command -v systemd-analyze > /dev/null; then
	out=$(MANPATH="$P/share/man" systemd-analyze verify "$P/lib/systemd/system/logward.service" 2>&1) ||
		fail "systemd-analyze verify: $out"
	score=$(systemd-analyze security --offline=true "$P/lib/systemd/system/logward.service" 2>&1 |
		sed -n 's/.*Overall exposure level for logward.service: \([0-9.]*\).*/\1/p')
	[ -n "$score" ] || fail "no exposure score"
	echo "systemd-analyze security: exposure $score"
	awk -v s="$score" 'BEGIN { exit !(s < 2.0) }' || fail "exposure $score (was 1.7)"
else
	echo "systemd-analyze missing: unit not verified"
fi

# --- man pages: --help verbatim, every config key ------------------------
# spaces squeezed on both sides: the page is compared line by line, not its layout
page() { MANWIDTH=200 LC_ALL=C.UTF-8 man -l "$1" 2>/dev/null | col -bx | tr -s ' ' | sed 's/^ //; s/ $//'; }
page "$R/usr/share/man/man8/logward.8" > "$LW_TMP/man8"
for cmd in $("$R/usr/bin/logward" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p'); do
	"$R/usr/bin/logward" "$cmd" --help | tr -s ' ' | sed 's/^ //; s/ $//' | grep -v '^$' |
	while IFS= read -r line; do
		grep -qxF -- "$line" "$LW_TMP/man8" || fail "logward(8) lacks '$line' of '$cmd --help'"
	done
done
page "$R/usr/share/man/man5/logward.yml.5" | tr -s ' \n' ' ' > "$LW_TMP/man5"
sed -n '/^## Configuration/,/^## /p' "$SRC/README.md" | grep '^| `' | cut -d'`' -f2 |
while IFS= read -r key; do
	grep -qF -- "$key" "$LW_TMP/man5" || fail "logward.yml(5) lacks '$key'"
done

# --- bash completion ------------------------------------------------------
comp() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _logward; echo "${COMPREPLY[*]}"' \
		_ "$R/usr/share/bash-completion/completions/logward" "$R/usr/bin/logward" "$@"
}
expect_eq "$(comp rep)" "report" "completion of a command"
expect_eq "$(comp rules re)" "replay" "completion of a subcommand"
expect_eq "$(comp report --f)" "--format --fp-threshold --from" "completion of options"
expect_eq "$(comp user en)" "enable" "a subcommand after |"
echo "ok: installed under /usr and $P; unit verified; man pages and completion match --help"
