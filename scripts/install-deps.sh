#!/bin/sh
# Installs the Debian 12 packages logward needs to build and test, when they
# are missing. As root it runs apt-get; otherwise it lists what is missing
# and fails, so `make` never half-works on an incomplete machine.
set -eu

PACKAGES="cmake make gcc clang pkg-config libevent-dev libzstd-dev liblmdb-dev
lmdb-utils libpcre2-dev libyaml-dev libssl-dev libcriterion-dev syslog-ng-core
bsdutils util-linux python3 jq openssl systemd-journal-remote curl
python3-prometheus-client libclang-rt-14-dev chromium fonts-ipafont-gothic
libcairo2-dev libpango1.0-dev fonts-noto-cjk poppler-utils
libnats-dev nats-server"
# libnats-dev: the edge forwarder and the central nats listener speak NATS
# JetStream through the C client; nats-server: the three-server cluster the
# scale-out tests start on loopback (docs/scale-out.md).
# The console's browser test (tests/integration/test_console_e2e.sh) drives
# chromium with puppeteer-core from npm: node and npm come from Debian
# unless a node is already installed (e.g. from nodesource, which bundles
# npm; Debian's npm would conflict with it). fonts-ipafont-gothic: the
# Japanese glyphs of the screenshots.
# libcairo2-dev, libpango1.0-dev: `logward report --format pdf` draws with
# cairo and lays out text with pango; fonts-noto-cjk: its Japanese
# glyphs; poppler-utils: the report test reads the PDF back (pdftotext)
# and keeps PNG pages (pdftoppm).
if ! command -v node >/dev/null 2>&1; then
	PACKAGES="$PACKAGES nodejs npm"
fi

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "logward: missing Debian packages:$missing" >&2
	echo "logward: run 'sudo apt-get install$missing' (or run make as root)" >&2
	exit 1
fi
echo "logward: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# syslog-ng-core brings loggen for the tests; its service must not grab
# ports or /dev/log on a build machine, so policy-rc.d stops it starting.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends $missing >/dev/null
