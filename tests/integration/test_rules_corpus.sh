#!/usr/bin/env bash
# labels: corpus
# The issue's "Done when" check on public auth logs: `logward rules test`
# over the Elastic examples auth.log and the loghub OpenSSH sample.
#
# Oracle (computed here in Python from the raw files, independently of the
# decoders and windows):
#  1. every sshd authentication failure line (Failed <method> for, Invalid
#     user, pam_unix(sshd:auth) authentication failure, PAM N more
#     authentication failures, maximum authentication attempts / Too many
#     authentication failures, Connection closed by authenticating user,
#     the client giving up with disconnect code 14 or JSch's "Auth fail")
#     is decoded, and as exactly the failure kind, source.ip (or
#     source.address for a host name) and user.name the line states, or
#     that the same sshd process's "Connection from" line stated less than
#     2 minutes before when the line has none; and no other line is
#     decoded as an sshd authentication failure;
#  2. lw_ssh_brute_force raises incidents for exactly the source addresses
#     that made >= 10 failed login attempts ("Failed ... for") within a
#     sliding 5 minutes (window (t - 5m, t], re-armed after each firing).
# Needs LW_SHARED_CORPUS (default ../shared/corpus); exit 77 without it.
set -euo pipefail

: "${LW_BIN:?LW_BIN must point at the logward binary}"
SRC=${LW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CORPUS=${LW_SHARED_CORPUS:-$SRC/../shared/corpus}
AUTHLOG=$CORPUS/elastic-examples-authlog/auth.log
OPENSSH=$CORPUS/loghub/OpenSSH/OpenSSH_2k.log
for f in "$AUTHLOG" "$OPENSSH"; do
	if [ ! -r "$f" ]; then
		echo "SKIP: $f not found (set LW_SHARED_CORPUS to the shared corpus)" >&2
		exit 77
	fi
done
command -v python3 >/dev/null || { echo "SKIP: python3 is needed" >&2; exit 77; }

TMP=$(mktemp -d /tmp/logward-corpus.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

check() {
	local name=$1 log=$2 now=$3
	"$LW_BIN" rules test -r "$SRC/rules" --now "$now" "$log" >"$TMP/$name.json"
	python3 - "$log" "$TMP/$name.json" "$now" "$name" <<'PY'
import datetime, ipaddress, json, re, sys
from collections import Counter, defaultdict

raw, out, now, name = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
year = int(now[:4])

def addr(a):
    try:
        ipaddress.ip_address(a)
        return ("source.ip", a)
    except ValueError:
        return ("source.address", a)

# The failure shapes, written from OpenSSH's and pam_unix's message
# formats; user None when the line has none (or an empty one).
shapes = [
    ("ssh_login", re.compile(r"^(?:message repeated \d+ times: \[ )?Failed \S+ for (?:invalid user )?(.*?) ?from (\S+) port \d+")),
    ("invalid_user", re.compile(r"^Invalid user (.*?) ?from (\S+)(?: port \d+)?\s*$")),
    ("pam_auth_failure", re.compile(r"^pam_unix\(sshd:auth\): authentication failure;.*? rhost=(\S+)(?:\s+user=(\S+))?")),
    ("pam_more_auth_failures", re.compile(r"^PAM \d+ more authentication failures?;.*? rhost=(\S+)(?:\s+user=(\S+))?")),
    ("max_auth_attempts", re.compile(r"^(?:error: )?maximum authentication attempts exceeded for (?:invalid user )?(.*?) ?from (\S+) port \d+")),
    ("max_auth_attempts", re.compile(r"^Disconnecting: Too many authentication failures(?: for (?:invalid user )?([^\s\[]+))?()")),
    ("ssh_preauth_closed", re.compile(r"^(?:Connection closed|Disconnected) (?:by|from) (?:authenticating|invalid) user (\S+) (\S+) port \d+ \[preauth\]")),
    ("ssh_client_auth_failed", re.compile(r"^(?:error: )?Received disconnect from ()([0-9a-fA-F.:]+?)(?: port \d+)?: ?(?:14: |3: .*[Aa]uth fail)")),
]
connect_re = re.compile(r"^Connection from (\S+) port \d+")
line_re = re.compile(r"^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) \S+ (sshd)\[\d+\]: (.*)$")
months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
want = {}
attempts = defaultdict(list)
sessions = {}  # pid -> (peer, time of its "Connection from")
for n, line in enumerate(open(raw, encoding="utf-8", errors="replace"), 1):
    m = line_re.match(line.rstrip("\r\n"))
    if not m:
        continue
    msg = m.group(7)
    pid = line.split("sshd[", 1)[1].split("]", 1)[0]
    t = datetime.datetime(year, months.index(m.group(1)) + 1, int(m.group(2)),
                          int(m.group(3)), int(m.group(4)), int(m.group(5)))
    c = connect_re.match(msg)
    if c:
        sessions[pid] = (c.group(1), t)
    for action, rx in shapes:
        x = rx.match(msg)
        if not x:
            continue
        if action.startswith("pam"):
            ip, user = x.group(1), x.group(2)
        else:
            user, ip = x.group(1), x.group(2)
        src = addr(ip) if ip else None
        if src is None and action == "max_auth_attempts" and pid in sessions \
                and t - sessions[pid][1] <= datetime.timedelta(minutes=2):
            src = addr(sessions[pid][0])
        want[n] = (action, src, user or None)
        if action == "ssh_login" and src and src[0] == "source.ip":
            attempts[ip].append(t)
        break

got = {}
incident_ips = set()
for o in map(json.loads, open(out)):
    if "incident" in o:
        i = o["incident"]
        if i["rule"]["name"] == "lw_ssh_brute_force":
            incident_ips.add(i["group"]["source.ip"])
        continue
    ev = o["event"]
    e = ev.get("event", {})
    if ev.get("process", {}).get("name") != "sshd" or e.get("outcome") != "failure" \
            or e.get("category") != "authentication":
        continue
    s = ev.get("source", {})
    src = ("source.ip", s["ip"]) if "ip" in s else \
          ("source.address", s["address"]) if "address" in s else None
    got[o["line"]] = (e.get("action"), src, ev.get("user", {}).get("name"))

bad = 0
for n in sorted(set(want) | set(got)):
    if want.get(n) != got.get(n):
        bad += 1
        if bad <= 20:
            print(f"{name}:{n}: expected {want.get(n)}, decoded {got.get(n)}")
kinds = Counter(v[0] for v in want.values())
print(f"{name}: {len(want)} sshd authentication failures "
      f"({', '.join(f'{k} {c}' for k, c in sorted(kinds.items()))}), {bad} mismatches")

# Brute force: the same sliding window, computed on the raw timestamps.
window, threshold = datetime.timedelta(minutes=5), 10
attackers = set()
for ip, ts in attempts.items():
    win = []
    for t in sorted(ts):
        win = [u for u in win if u > t - window] + [t]
        if len(win) >= threshold:
            attackers.add(ip)
            win = []
print(f"{name}: brute force from {len(attackers)} sources (oracle), "
      f"{len(incident_ips)} with incidents")
if attackers != incident_ips:
    print(f"{name}: only in the oracle: {sorted(attackers - incident_ips)}")
    print(f"{name}: only in incidents: {sorted(incident_ips - attackers)}")
    bad += 1
if len(want) == 0 or len(attackers) == 0:
    print(f"{name}: the corpus should hold failures and attackers")
    bad += 1
sys.exit(1 if bad else 0)
PY
}

rc=0
check authlog "$AUTHLOG" 2026-05-01T00:00:00Z || rc=1
check openssh "$OPENSSH" 2026-12-31T00:00:00Z || rc=1
[ "$rc" = 0 ] && echo "ok: corpus failures decoded and brute-force sources found"
exit $rc
