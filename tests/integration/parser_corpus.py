#!/usr/bin/env python3
"""Parser conformance against ../shared/corpus (python3 stdlib only).

Oracle: the expected fields written down by the RFC examples, go-syslog,
syslog-ng and rsyslog test suites. Those projects disagree with each other;
logward's decisions are in docs/parsing.md, and every case where logward
knowingly differs from one of them is listed in ALLOW below with the
reason. Any other mismatch fails the run. An ALLOW entry that stops
mismatching is reported (stale) so the list stays honest.

usage: parser_corpus.py CORPUS_DIR LW_PARSE_DUMP
"""
import binascii
import calendar
import datetime
import json
import os
import re
import subprocess
import sys

BOM = b"\xef\xbb\xbf"

# Documented disagreements: case id -> reason (docs/parsing.md has the why).
ALLOW = {
    # --- go-syslog (strict RFC 5424 parser) ---
    # RFC 5424 6.3.3: a backslash before another character is an ordinary
    # backslash; go-syslog rejects it (ErrEscape).
    'go5424:<29>8 2016-01-15T01:00:43Z hn S - - [meta escape="\\n"] 127.0': "\\n is a literal backslash",
    # --- syslog-ng msgparse ---
    "syslog-ng:test_timestamp_others#11": "year: nearest to now (2018-11-22), syslog-ng picks 2019",
    "syslog-ng:test_ip_in_host#6": "year: nearest to now (2018-10-07), syslog-ng picks 2019",
    "syslog-ng:test_expected_sd_pairs_long#5": "PARAM-VALUE kept whole; syslog-ng cuts it at 255",
    "syslog-ng:test_parse_longer_than_32_sd_id#0": "SD-ID > 32 chars rejected (RFC 6.3.2)",
    "syslog-ng:test_expected_sd_pairs_long#1": "SD-ID > 32 chars rejected (RFC 6.3.2)",
    "syslog-ng:test_expected_sd_pairs_long#2": "PARAM-NAME > 32 chars rejected (RFC 6.3.3)",
    "syslog-ng:test_expected_sd_pairs_long#3": "SD-ID/PARAM-NAME > 32 chars rejected",
    "syslog-ng:test_unescaped_too_long_message_parts#1": "APP-NAME > 48 rejected, not truncated",
    "syslog-ng:test_unescaped_too_long_message_parts#2": "PROCID > 128 rejected, not truncated",
    "syslog-ng:test_unescaped_too_long_message_parts#3": "MSGID > 32 rejected, not truncated",
    "syslog-ng:test_expected_sd_pairs_tz_known#0": "RFC 5424 TIMESTAMP without offset rejected",
    "syslog-ng:test_ip_in_host#4": "a lone word after the stamp is HOSTNAME (rsyslog), not PROGRAM",
    "syslog-ng:test_ip_in_host#0": "a word without ':' or [pid] is not a TAG: stays in MSG",
    "syslog-ng:test_ip_in_host#1": "a word without ':' or [pid] is not a TAG: stays in MSG",
    "syslog-ng:test_ip_in_host#2": "a word without ':' or [pid] is not a TAG: stays in MSG",
    "syslog-ng:test_simple_message#0": "no PRI and no stamp: kept unparsed",
    "syslog-ng:test_hostname#0": "'%bzorp' is not a hostname; no TAG either: all MSG",
    # --- rsyslog parse1 (legacy expectations) ---
    "rsyslog:8bit.parse1#0": "'tag' without ':' stays in MSG",
    "rsyslog:upcase-date.parse1#0": "trailing year after the time is read as the year, not HOSTNAME",
    "rsyslog:malformed1.parse1#0": "'05\",result_code=200,b' without ':' stays in MSG",
    "rsyslog:reallife.parse2#0": "'#001' is not a hostname (rsyslog takes any word)",
    "rsyslog:samples.parse-nodate#1": "no PRI and no stamp: kept unparsed",
    "rsyslog:weird.parse1#0": "long word without ':' stays in MSG",
    "rsyslog:weird.parse1#5": "long word without ':' stays in MSG",
    "rsyslog:rfc5424-3.parse1#0": "SP after '=' in SD-PARAM is invalid RFC 5424: kept unparsed",
    "rsyslog:rfc5424-4.parse1#0": "SP after '=' in SD-PARAM is invalid RFC 5424: kept unparsed",
    "rsyslog:mark.parse1#*": "'--' without ':' is not a TAG: '-- MARK --' stays in MSG",
    "rsyslog:snare.parse1#*": "first tab-separated word without ':' stays in MSG",
}


def ns_of_rfc3339(s):
    """RFC 3339 text -> ns since the epoch (any fraction length)."""
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$", s)
    if not m:
        return None
    y, mo, d, h, mi, se = (int(x) for x in m.groups()[:6])
    frac = (m.group(7) or "")[:9].ljust(9, "0")
    off = 0
    if m.group(8) and m.group(8) != "Z":
        sign = -1 if m.group(8)[0] == "-" else 1
        off = sign * (int(m.group(8)[1:3]) * 3600 + int(m.group(8)[4:6]) * 60)
    return (calendar.timegm((y, mo, d, h, mi, se)) - off) * 10**9 + int(frac)


class Runner:
    def __init__(self, tool):
        self.tool = tool
        self.fail = 0
        self.ok = 0
        self.allowed = 0
        self.stale = []
        self.seen = set()

    def run(self, inputs, fmt="auto", now=1549615069, tz=None):
        args = [self.tool, "--hex", "--format", fmt, "--now", str(now)]
        if tz:
            args += ["--tz", tz]
        data = "".join(binascii.hexlify(b).decode() + "\n" for b in inputs)
        out = subprocess.run(args, input=data.encode(), capture_output=True, check=True)
        return [json.loads(l) for l in out.stdout.decode().splitlines()]

    def check(self, cid, problems):
        key = cid if cid in ALLOW else cid.rsplit("#", 1)[0] + "#*"
        allowed = ALLOW.get(key)
        self.seen.add(key)
        if problems and allowed:
            self.allowed += 1
            if os.environ.get("LW_CORPUS_VERBOSE"):
                print("allowed %s (%s): %s" % (cid, allowed, "; ".join(problems)))
        elif problems:
            self.fail += 1
            print("FAIL %s: %s" % (cid, "; ".join(problems)))
        else:
            self.ok += 1
            if allowed:
                self.stale.append(cid)


def cmp(problems, name, got, want):
    if got != want:
        problems.append("%s: got %r want %r" % (name, got, want))


def msg_of(r):
    return binascii.unhexlify(r["message_hex"])


# --- rfc-examples ---------------------------------------------------------
def rfc_examples(R, corpus):
    d = json.load(open(os.path.join(corpus, "rfc-examples/rfc_examples.json")))
    cases = d["rfc5424_messages"]
    res = R.run([binascii.unhexlify(c["input_hex"]) for c in cases], fmt="rfc5424")
    for c, r in zip(cases, res):
        e, p = c["expect"], []
        cmp(p, "rc", r["rc"], "ok")
        cmp(p, "facility", r["facility"], e["pri"] >> 3)
        cmp(p, "severity", r["severity"], e["pri"] & 7)
        cmp(p, "timestamp", r["timestamp_ns"], ns_of_rfc3339(e["timestamp"]))
        cmp(p, "host", r["host"], e["hostname"] or "")
        cmp(p, "app", r["app"], e["app_name"] or "")
        cmp(p, "procid", r["procid"], e["procid"] or "")
        cmp(p, "msgid", r["msgid"], e["msgid"] or "")
        cmp(p, "sd", r["sd_params"], e["structured_data"] or {})
        cmp(p, "msg", msg_of(r), (e["msg"] or "").encode())
        R.check("rfc:" + c["id"], p)
    sds = d["rfc5424_structured_data"]
    res = R.run([("<13>1 - - - - - " + c["sd"]).encode() for c in sds], fmt="rfc5424")
    for c, r in zip(sds, res):
        p = []
        cmp(p, "valid", r["rc"] == "ok" and r["sd"] == c["sd"], c["valid"])
        if "param_value" in c and r["rc"] == "ok":
            vals = [v for kv in r["sd_params"].values() for v in kv.values()]
            cmp(p, "value", vals, [c["param_value"]])
        R.check("rfc:" + c["id"], p)
    ts = d["rfc5424_timestamps"]
    res = R.run([("<13>1 %s h a - - -" % c["ts"]).encode() for c in ts], fmt="rfc5424")
    for c, r in zip(ts, res):
        p = []
        want_ok = c["valid"] or "6 digits" in c.get("why", "")  # documented: any fraction
        cmp(p, "valid", r["rc"] == "ok", want_ok)
        if r["rc"] == "ok" and c["ts"] != "-":
            cmp(p, "ns", r["timestamp_ns"], ns_of_rfc3339(c["ts"]))
        R.check("rfc-ts:" + c["ts"], p)
    msgs = d["rfc3164_messages"]
    res = R.run([binascii.unhexlify(c["input_hex"]) for c in msgs])
    for c, r in zip(msgs, res):
        e, p = c["expect"], []
        if "pri" in e and e["pri"] is None:
            # "Use the BFG!": neither PRI nor stamp; logward keeps it unparsed.
            cmp(p, "rc", r["rc"], "error")
            cmp(p, "msg", msg_of(r), binascii.unhexlify(c["input_hex"]))
        else:
            if "facility" in e:
                cmp(p, "facility", r["facility"], e["facility"])
            if "hostname" in e:
                cmp(p, "host", r["host"], e["hostname"] or "")
            if "tag" in e:
                cmp(p, "app", r["app"], e["tag"] or "")
            if "content" in e:
                cmp(p, "msg", msg_of(r).decode("utf-8", "replace"), e["content"])
            if "timestamp" in e:
                mon, day, hms = e["timestamp"].split()
                t = datetime.datetime.fromtimestamp(r["timestamp_ns"] // 10**9, datetime.timezone.utc)
                cmp(p, "stamp", (t.strftime("%b"), t.day, t.strftime("%H:%M:%S")), (mon, int(day), hms))
        R.check("rfc:" + c["id"], p)


# --- go-syslog -------------------------------------------------------------
def go_syslog(R, corpus):
    d = json.load(open(os.path.join(corpus, "go-syslog-tests/rfc5424_machine_cases.json")))
    cases = d["testCases"] + d["nonCompliantMsgTestCases"]
    ncomp = len(d["testCases"])
    res = R.run([binascii.unhexlify(c["input_hex"]) for c in cases], fmt="rfc5424")
    for i, (c, r) in enumerate(zip(cases, res)):
        raw = binascii.unhexlify(c["input_hex"])
        cid = "go5424:" + raw.decode("utf-8", "replace")[:60]
        p = []
        # Non-compliant-MSG cases are valid without WithCompliantMsg, which
        # is logward's mode: MSG is any bytes (flagged when not UTF-8).
        valid = c["valid"] or i >= ncomp
        cmp(p, "rc", r["rc"], "ok" if valid else "error")
        v = c["value"] if c["valid"] else None
        if v and r["rc"] == "ok":
            pri = v.get("priority")
            if pri is not None:
                cmp(p, "facility", r["facility"], pri >> 3)
                cmp(p, "severity", r["severity"], pri & 7)
            if v.get("timestamp"):
                cmp(p, "timestamp", r["timestamp_ns"], ns_of_rfc3339(v["timestamp"]))
            cmp(p, "host", r["host"], v.get("hostname") or "")
            cmp(p, "app", r["app"], v.get("appname") or "")
            cmp(p, "procid", r["procid"], v.get("procid") or "")
            cmp(p, "msgid", r["msgid"], v.get("msgid") or "")
            cmp(p, "sd", r["sd_params"], v.get("structured_data") or {})
            m = v.get("message")
            if isinstance(m, dict):
                m = binascii.unhexlify(m["hex"])
            elif m is None:
                m = b""
            else:
                m = m.encode()
            if m.startswith(BOM):  # go-syslog keeps the BOM; logward strips it
                m = m[3:]
            cmp(p, "msg", msg_of(r), m)
        R.check(cid, p)
    d = json.load(open(os.path.join(corpus, "go-syslog-tests/rfc3164_cases.json")))
    cases = d["cases"]
    res = R.run([c["input"].encode() for c in cases])
    for c, r in zip(cases, res):
        v, p = c["value"], []
        cmp(p, "rc", r["rc"], "ok")
        cmp(p, "facility", r["facility"], v["facility"])
        cmp(p, "severity", r["severity"], v["severity"])
        cmp(p, "host", r["host"], v.get("hostname") or "")
        cmp(p, "app", r["app"], v.get("appname") or "")
        cmp(p, "procid", r["procid"], v.get("procid") or "")
        cmp(p, "msg", msg_of(r).decode("utf-8", "replace"), v.get("message") or "")
        mon, day, hms = v["timestamp"].split()
        t = datetime.datetime.fromtimestamp(r["timestamp_ns"] // 10**9, datetime.timezone.utc)
        cmp(p, "stamp", (t.strftime("%b"), t.day, t.strftime("%H:%M:%S")), (mon, int(day), hms))
        R.check("go3164:" + c["input"][:50], p)


# --- syslog-ng -------------------------------------------------------------
SNG_SKIP_FLAGS = ("LP_NO_HEADER", "LP_NOPARSE", "LP_SANITIZE_UTF8", "LP_NO_RFC3164_FALLBACK")


def syslog_ng(R, corpus):
    d = json.load(open(os.path.join(corpus, "syslog-ng-tests/msgparse_cases.json")))
    now = d["environment"]["fake_now_unix"]
    counts = {}
    todo = []
    for c in d["cases"]:
        n = counts.get(c["test"], 0)
        counts[c["test"]] = n + 1
        cid = "syslog-ng:%s#%d" % (c["test"], n)
        flags = c["parse_flags"] or "0"
        # Modes logward does not have: no header parsing, no parsing,
        # output sanitising, a hostname regex, or "no HOSTNAME expected".
        if any(f in flags for f in SNG_SKIP_FLAGS) or c["bad_hostname_re"]:
            continue
        if "LP_SYSLOG_PROTOCOL" not in flags and "LP_EXPECT_HOSTNAME" not in flags:
            continue
        todo.append((cid, c))
    # MET-1METDST is the MET zone of tzdata.
    res = R.run([binascii.unhexlify(c["msg_hex"]) for _, c in todo], now=now, tz="MET")
    for (cid, c), r in zip(todo, res):
        p = []
        if c["expected_pri"] == 43 and c["expected_program"] == "syslog-ng":
            cmp(p, "rc", r["rc"], "error")
            R.check(cid, p)
            continue
        cmp(p, "rc", r["rc"], "ok")
        cmp(p, "pri", (r["facility"] or 0) * 8 + (r["severity"] or 0), c["expected_pri"])
        sec = c["expected_stamp_sec"]
        if sec not in (0, 1):
            cmp(p, "stamp_sec", r["timestamp_ns"] // 10**9, sec)
        # A NIL stamp is the receive time; the tool's --now has no usec.
        if sec != 0 and "no_timestamp" not in r["flags"]:
            cmp(p, "usec", (r["timestamp_ns"] % 10**9) // 1000, c["expected_stamp_usec"])
        if c["expected_host"] is not None:
            cmp(p, "host", r["host"], c["expected_host"])
        cmp(p, "app", r["app"], c["expected_program"] or "")
        cmp(p, "msg", msg_of(r).decode("utf-8", "replace"), c["expected_msg"] or "")
        if c["expected_pid"] is not None:
            cmp(p, "procid", r["procid"], c["expected_pid"])
        if c["expected_msgid"] is not None:
            cmp(p, "msgid", r["msgid"], c["expected_msgid"])
        if c["expected_sd_str"] is not None:
            cmp(p, "sd", r["sd"], c["expected_sd_str"])
        for k, v in c["expected_sd_pairs"]:
            _, _, sdid_param = k.partition(".SDATA.")
            sdid, _, param = sdid_param.rpartition(".")
            cmp(p, k, r["sd_params"].get(sdid, {}).get(param), v)
        R.check(cid, p)


# --- rsyslog parse1 ----------------------------------------------------------
RS_SKIP = ("reallife.parse3", "samples.parse_invld_regex", "samples.parse-3164-buggyday",
           "8bit.parse_8bit_escape")


def rs_unescape_input(s):
    return re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), s)


def rs_unescape_expect(s):
    return re.sub(rb"#([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), s)


def rsyslog(R, corpus):
    base = os.path.join(corpus, "rsyslog-tests/parse1-legacy")
    for name in sorted(os.listdir(base)):
        if name in RS_SKIP or name == "README.md":
            continue
        lines = [l for l in open(os.path.join(base, name), "rb").read().split(b"\n")
                 if l and not l.startswith(b"#")]
        pairs = list(zip(lines[0::2], lines[1::2]))
        res = R.run([rs_unescape_input(i).replace(b"BOM", BOM) for i, _ in pairs], now=1283209205)
        for n, ((inp, exp), r) in enumerate(zip(pairs, res)):
            cid = "rsyslog:%s#%d" % (name, n)
            f = exp.split(b",", 7)
            f += [b""] * (8 - len(f))
            p = []
            is5424 = re.match(rb"<\d+>1 ", inp) is not None
            cmp(p, "pri", (r["facility"] or 0) * 8 + (r["severity"] or 0), int(f[0]))
            # rsyslog renders a 5424 stamp in the sender's wall clock;
            # logward stores UTC, so only 3164 stamps are compared here.
            if f[3] != b"~H" and not is5424:
                t = datetime.datetime.fromtimestamp(r["timestamp_ns"] // 10**9, datetime.timezone.utc)
                cmp(p, "stamp", "%s %2d %s" % (t.strftime("%b"), t.day, t.strftime("%H:%M:%S")),
                    f[3].decode())
            if f[3] != b"~H":
                host = f[4].decode()
                cmp(p, "host", r["host"], "" if host == "~H" else host)
                prog, msg = f[5].decode(), rs_unescape_expect(f[7])
            else:  # no stamp: the template columns shift left by one
                prog, msg = f[4].decode(), rs_unescape_expect(exp.split(b",", 6)[6])
            if not is5424:
                cmp(p, "app", r["app"], prog)
                # rsyslog keeps the SP after "tag:"; logward drops it.
                if msg.startswith(b" "):
                    msg = msg[1:]
            msg = msg.replace(b"BOM", b"")
            cmp(p, "msg", msg_of(r), msg)
            R.check(cid, p)


def main():
    corpus, tool = sys.argv[1], sys.argv[2]
    R = Runner(tool)
    for suite in (rfc_examples, go_syslog, syslog_ng, rsyslog):
        suite(R, corpus)
    for s in R.stale:
        print("STALE allow-list entry (now passes): %s" % s)
    for k in ALLOW:
        if k not in R.seen:
            print("UNUSED allow-list entry (no such case): %s" % k)
            R.fail += 1
    print("parser corpus: %d ok, %d allowed disagreements, %d failures" % (R.ok, R.allowed, R.fail))
    return 1 if R.fail else 0


if __name__ == "__main__":
    sys.exit(main())
