#!/usr/bin/env bash
# labels: corpus
# Decode rates per service on the public samples of ../shared/corpus, the
# issue's "Done when" measured on real lines nobody here wrote:
#
#   * elastic-examples-authlog/auth.log, loghub OpenSSH/Linux/Thunderbird/
#     Mac 2k, elastic-beats-auth-test, lnav-test-logs: sshd and PAM lines;
#   * elastic-device-pipelines/system_auth and squid_log, with the fields
#     Elastic's own pipelines produced for each line (an outside reference).
#
# Oracle (independent of the decoders): a line is a failure of a service
# when it has that service's failure words (below), and its source is the
# address the line states, taken the simple way (rhost=, the word after the
# last " from ", Squid's third field); PAM and sshd lines without any
# address are failures with no source. A failure counts as decoded when
# the event has event.outcome failure and that source.ip (source.address
# for a name). Lines that are not failures must not decode as failures.
# Where Elastic's reference has event.outcome, source.ip or user.name, ours
# must agree.
#
# Fails when a service decodes less than 80% of its failures, all of them
# together less than 95%, or a benign line decodes as a failure. Prints the
# rates per service. Needs LW_SHARED_CORPUS (default ../shared/corpus);
# exit 77 without it.
set -euo pipefail

: "${LW_BIN:?LW_BIN must point at the logward binary}"
SRC=${LW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CORPUS=${LW_SHARED_CORPUS:-$SRC/../shared/corpus}
if [ ! -d "$CORPUS/elastic-examples-authlog" ]; then
	echo "SKIP: $CORPUS not found (set LW_SHARED_CORPUS to the shared corpus)" >&2
	exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 is needed" >&2; exit 77; }

TMP=$(mktemp -d /tmp/logward-deccorpus.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# name, file, --now (RFC 3164 years are inferred from it)
inputs=(
	"authlog|elastic-examples-authlog/auth.log|2018-05-01T00:00:00Z"
	"beats-auth|elastic-beats-auth-test/test.log|2018-03-01T00:00:00Z"
	"loghub-openssh|loghub/OpenSSH/OpenSSH_2k.log|2018-12-31T00:00:00Z"
	"loghub-linux|loghub/Linux/Linux_2k.log|2005-12-31T00:00:00Z"
	"loghub-thunderbird|loghub/Thunderbird/Thunderbird_2k.log|2005-12-31T00:00:00Z"
	"loghub-mac|loghub/Mac/Mac_2k.log|2017-12-31T00:00:00Z"
	"elastic-system-auth|elastic-device-pipelines/system_auth/lines.log|2019-12-31T00:00:00Z"
	"elastic-squid|elastic-device-pipelines/squid_log/lines.log|2019-12-31T00:00:00Z"
)
for f in "$CORPUS"/lnav-test-logs/logfile_syslog*; do
	[ -f "$f" ] && inputs+=("lnav-$(basename "$f")|${f#"$CORPUS"/}|2013-12-31T00:00:00Z")
done

: >"$TMP/list"
for spec in "${inputs[@]}"; do
	IFS='|' read -r name rel now <<<"$spec"
	[ -r "$CORPUS/$rel" ] || { echo "note: $rel not in this corpus" >&2; continue; }
	# loghub's samples have CRLF line ends; a receiver's framing drops CR.
	tr -d '\r' <"$CORPUS/$rel" >"$TMP/$name.log"
	"$LW_BIN" rules test -r "$SRC/rules" --now "$now" "$TMP/$name.log" >"$TMP/$name.json"
	echo "$name $CORPUS/$rel" >>"$TMP/list"
done

python3 - "$TMP" <<'PY'
import ipaddress, json, os, re, sys
from collections import defaultdict

tmp = sys.argv[1]

def addr(a):
    a = a.strip()
    if not a:
        return None
    try:
        ipaddress.ip_address(a)
        return ("source.ip", a)
    except ValueError:
        return ("source.address", a)

def last_from(msg):
    """The word after the last " from " (sshd writes the peer last)."""
    i = msg.rfind(" from ")
    if i < 0:
        return None
    return addr(msg[i + 6:].split()[0]) if msg[i + 6:].split() else None

# Failure words per service, from the daemons' documented messages.
SSH_FAIL = ("Failed ", "Invalid user ", "Illegal user ", "maximum authentication attempts",
            "Too many authentication failures", "authenticating user", "invalid user ",
            "not allowed because", "ROOT LOGIN REFUSED", "error: PAM: ",
            # the connection failed before authentication (scanners)
            "Did not receive identification string", "Bad protocol version identification",
            "Unable to negotiate with", "Timeout before authentication", "banner exchange")
PAM_FAIL = ("authentication failure;", "more authentication failures;")

def classify(app, msg):
    """(service, source or None) for a failure line, else None."""
    m = re.match(r"message repeated \d+ times: \[ ?(.*)\]$", msg)
    if m:  # rsyslog's fold of repeated lines
        msg = m.group(1)
    if app in ("sshd", "sshd-session") or app.startswith("sshd("):
        if any(w in msg for w in PAM_FAIL) and ("rhost=" in msg):
            m = re.search(r" rhost=(\S*)", msg)
            return ("pam", addr(m.group(1)) if m else None)
        if re.match(r"(?:error: )?Received disconnect from \S+?(?: port \d+)?: ?(?:14: |3: .*[Aa]uth fail)", msg):
            return ("openssh", addr(re.match(r"(?:error: )?Received disconnect from ([0-9a-fA-F.:]+?)(?: port \d+)?:", msg).group(1)))
        if msg.startswith("input_userauth_request") or msg.startswith("Postponed"):
            return None
        if any(w in msg for w in SSH_FAIL) and "Accepted" not in msg and "session opened" not in msg:
            if msg.startswith("Disconnecting: Too many"):
                return ("openssh", "joined")  # the peer is on the Connection from line
            if msg.startswith("User ") and " from " not in msg:
                return ("openssh", "joined")
            if msg.startswith(("Disconnecting ", "Connection closed by ", "Disconnected from ")):
                m = re.search(r" (\S+) port \d+(?::| \[preauth\]|$)", msg)
                return ("openssh", addr(m.group(1)) if m else None)
            if " not allowed because" in msg:
                return ("openssh", addr(msg.split(" not allowed because")[0].rsplit(" from ", 1)[1]))
            if msg.startswith("ROOT LOGIN REFUSED FROM "):
                return ("openssh", addr(msg.split()[4]))
            if msg.startswith(("Did not receive identification string from ", "Unable to negotiate with ",
                               "fatal: Unable to negotiate with ",
                               "fatal: Timeout before authentication for ", "banner exchange: Connection from ")):
                return ("openssh", addr(re.search(r"(?:from|with|for) (\S+?):? ", msg + " ").group(1)))
            return ("openssh", last_from(re.sub(r" (?:port \d+|ssh2|\[preauth\])(?::.*)?", "", msg)))
        return None
    if app == "sudo" and (" : user NOT in sudoers ; " in msg or " incorrect password attempt" in msg):
        return ("sudo", None)  # a local user: no remote party
    if "(pam_unix)" in app or app in ("su", "login", "vsftpd", "dovecot", "passwd"):
        if msg.startswith(PAM_FAIL) or re.match(r"pam_\w+\([^)]*:auth\): authentication failure;", msg):
            m = re.search(r" rhost=(\S*)", msg)
            if app == "su" or app.startswith("su("):
                return None  # su/sudo failures have no remote party (sudo.yml decodes them)
            return ("pam", addr(m.group(1)) if m and m.group(1) else None)
    return None

def squid(line):
    f = line.split()
    if len(f) < 8 or "/" not in f[3]:
        return None
    code, _, status = f[3].partition("/")
    if code.startswith("TCP_DENIED") and (status == "403" or (status == "407" and f[7] != "-")):
        return ("squid", addr(f[2]))
    return None

rates = defaultdict(lambda: [0, 0])   # service -> [failures, decoded right]
denied_407 = 0                        # Squid's credential challenges seen
benign_bad, bad_source, disagree, missed = [], [], [], []
elastic_checked = 0

for entry in open(os.path.join(tmp, "list")):
    name, raw = entry.split(None, 1)
    lines = open(os.path.join(tmp, name + ".log"), encoding="utf-8", errors="replace").read().split("\n")
    events = {}
    for o in map(json.loads, open(os.path.join(tmp, name + ".json"))):
        if "event" in o:
            events[o["line"]] = o["event"]
    expected = None
    ref = os.path.join(os.path.dirname(raw.strip()), "expected.jsonl")
    if name.startswith("elastic-") and os.path.exists(ref):
        expected = [json.loads(l) for l in open(ref)]
    for n, ev in events.items():
        line = lines[n - 1]
        app = ev.get("process", {}).get("name", "")
        msg = ev.get("message", "")
        e = ev.get("event", {})
        s = ev.get("source", {})
        got = ("source.ip", s["ip"]) if "ip" in s else \
              ("source.address", s["address"]) if "address" in s else None
        failed = e.get("outcome") == "failure" or e.get("kind") == "alert"
        want = squid(line) if name == "elastic-squid" else classify(app, msg)
        denied_407 += name == "elastic-squid" and " TCP_DENIED/407 " in line and want is None
        if want is None:
            if failed:
                benign_bad.append(f"{name}:{n}: {line}")
        else:
            svc, src = want
            rates[svc][0] += 1
            ok = failed and (src == "joined" or got == src)
            if failed and src != "joined" and got != src:
                bad_source.append(f"{name}:{n}: source {got}, line says {src}: {line}")
            rates[svc][1] += ok
            if not failed:
                missed.append(f"{name}:{n}: not decoded as a failure: {line}")
        if expected is not None and n - 1 < len(expected):
            ref_ev = expected[n - 1]
            for key, ours in (("event.outcome", e.get("outcome")),
                              ("source.ip", s.get("ip")),
                              ("user.name", ev.get("user", {}).get("name"))):
                if key in ref_ev and ref_ev.get("event.outcome") is not None and ours is not None \
                        and str(ref_ev[key]) != str(ours):
                    disagree.append(f"{name}:{n}: {key} {ours!r}, Elastic {ref_ev[key]!r}")
                elif key in ref_ev and ours is not None:
                    elastic_checked += 1

total = sum(v[0] for v in rates.values())
good = sum(v[1] for v in rates.values())
print(f"{'service':10s} {'failures':>9s} {'decoded':>8s} {'rate':>7s}")
fail = 0
for svc in sorted(rates):
    n, ok = rates[svc]
    print(f"{svc:10s} {n:9d} {ok:8d} {100.0 * ok / n:6.1f}%")
    if ok < 0.8 * n:
        fail = 1
print(f"{'all':10s} {total:9d} {good:8d} {100.0 * good / max(total, 1):6.1f}%")
print(f"fields checked against Elastic's pipelines: {elastic_checked}, disagreements: {len(disagree)}")
print(f"Squid TCP_DENIED/407 without a user (challenges, not failures): {denied_407}")
for l in missed[:10] + bad_source[:20] + benign_bad[:20] + disagree[:20]:
    print("  " + l)
if good < 0.95 * total or benign_bad or bad_source or disagree or total == 0:
    fail = 1
print("benign lines decoded as failures:", len(benign_bad), "| wrong sources:", len(bad_source))
sys.exit(fail)
PY
echo "ok: corpus failures decoded per service (see the table)"
