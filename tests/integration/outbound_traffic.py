#!/usr/bin/env python3
"""Firewall and proxy traffic of a municipal network, as the devices log it,
for tests/integration/test_outbound_anomaly.sh. Deterministic (a seeded
generator using only random(), whose sequence Python keeps stable).

  outbound_traffic.py benign DATE            a day of benign traffic
  outbound_traffic.py new-destination DATE   8 days of an LGWAN host's usual
                                             destinations, then a new one
  outbound_traffic.py volume DATE            2 days of a host's uploads,
                                             then 360 MB in 10 minutes
  outbound_traffic.py beacon DATE            a host calling one address every
                                             300 s +-5 %, among browsing
  outbound_traffic.py beacon-proxy DATE      a host requesting one site every
                                             600 s +-5 % through the proxy
  outbound_traffic.py scan                   25 ports of one address denied
                                             (no header: sent with logger)

Lines are written from the vendors' documented formats (FortiOS traffic
log key=value, Juniper SRX RT_FLOW_SESSION_CLOSE structured data, PAN-OS
TRAFFIC CSV, Squid's native access.log, netfilter's LOG), each behind an RFC 5424 header
carrying its time in UTC, sorted by time. Zones (the test's config):
mynumber 10.10.0.0/16, lgwan 10.20.0.0/16, internet 10.30.0.0/16;
everything else is outside.
"""
import datetime
import math
import random
import sys

UTC = datetime.timezone.utc
# Connections per hour of the day, relative to the busiest: offices open
# 8:30-18:00 with a lunch dip, a little at night (updates, late work).
DIURNAL = [0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.03, 0.08, 0.5, 1.0, 1.0, 1.0,
           0.45, 0.95, 1.0, 1.0, 0.9, 0.6, 0.25, 0.15, 0.08, 0.05, 0.03, 0.02]

WEB_DOMAINS = ["www.soumu.go.jp", "www.digital.go.jp", "www.e-gov.go.jp",
               "www.mhlw.go.jp", "www.jma.go.jp", "www.nta.go.jp",
               "www.city.example.lg.jp", "www.pref.example.lg.jp",
               "news.example.jp", "www.example.co.jp", "mail.example.jp",
               "docs.example.com", "cdn.example.net", "static.example.net",
               "login.example.com", "update.example.com", "www.gov-online.go.jp",
               "www.moj.go.jp", "www.mext.go.jp", "www.maff.go.jp",
               "map.example.jp", "search.example.com", "video.example.jp",
               "www.jisha.or.jp", "www.j-lis.go.jp", "www.kantei.go.jp",
               "weather.example.jp", "bank.example.co.jp", "shop.example.jp",
               "www.example.org"]
M365 = ["198.51.100.%d" % i for i in (20, 21, 22, 23, 24)]
ISP_DNS = ["198.51.100.53", "198.51.100.54"]
NTP = ["203.0.113.123", "203.0.113.124"]
LGWAN_ASP = ["172.16.%d.%d" % (i // 4 + 1, 10 + i) for i in range(8)]


def domain_ip(d):
    h = 0
    for c in d:
        h = (h * 131 + ord(c)) % 65521
    return "203.0.113.%d" % (1 + h % 120) if h % 2 else "192.0.2.%d" % (1 + h % 200)


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.lines = []
        self.session = 100000

    def rnd(self):
        return self.r.random()

    def pick(self, seq):
        return seq[int(self.rnd() * len(seq)) % len(seq)]

    def poisson(self, lam):
        if lam <= 0:
            return 0
        if lam > 30:  # normal approximation, rounded, for busy hours
            u1, u2 = self.rnd() or 1e-12, self.rnd()
            n = lam + math.sqrt(lam) * math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
            return max(0, int(round(n)))
        k, p, limit = 0, 1.0, math.exp(-lam)
        while True:
            p *= self.rnd()
            if p <= limit:
                return k
            k += 1

    def bytes_sent(self, median):
        # log-normal: most requests small, a few large uploads
        return max(40, int(median * math.exp(1.2 * self.normal())))

    def normal(self):
        u1, u2 = self.rnd() or 1e-12, self.rnd()
        return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)

    def times(self, day, per_day, flat=False):
        """Event times over one day following DIURNAL (or spread evenly
        when flat), per_day on average."""
        weights = [1.0] * 24 if flat else DIURNAL
        total = sum(weights)
        out = []
        for hour, w in enumerate(weights):
            for _ in range(self.poisson(per_day * w / total)):
                out.append(day + datetime.timedelta(hours=hour, seconds=self.rnd() * 3600))
        return out

    def add(self, ts, line):
        self.lines.append((ts, line))

    # ---- device formats ----

    def hdr(self, ts, pri, host, app="-", procid="-", msgid="-"):
        return "<%d>1 %s %s %s %s %s" % (pri, ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                                         host, app, procid, msgid)

    def fortigate(self, ts, src, dst, dport, proto=6, action="close", sent=0, rcvd=0,
                  service="HTTPS", header=True):
        self.session += 1
        local = ts + datetime.timedelta(hours=9)
        body = ('date=%s time=%s devname="FGT-HQ" devid="FG100FTK00000001" logid="%s" '
                'type="traffic" subtype="forward" level="%s" vd="root" srcip=%s srcport=%d '
                'srcintf="port2" srcintfrole="lan" dstip=%s dstport=%d dstintf="wan1" '
                'dstintfrole="wan" sessionid=%d proto=%d action="%s" policyid=%d '
                'policytype="policy" policyname="%s" service="%s" duration=%d '
                'sentbyte=%d rcvdbyte=%d sentpkt=%d rcvdpkt=%d') % (
            local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S"),
            "0000000013" if action != "deny" else "0000000011",
            "notice" if action != "deny" else "warning", src,
            40000 + self.session % 20000, dst, dport, self.session, proto, action,
            12 if action != "deny" else 0, "LAN-to-Internet" if action != "deny" else "",
            service, 1 + int(self.rnd() * 60) if action != "deny" else 0, sent, rcvd,
            1 + sent // 1400, 1 + rcvd // 1400)
        self.add(ts, (self.hdr(ts, 189, "FGT-HQ") + " - " if header else "") + body)

    def srx(self, ts, src, dst, dport, sent, rcvd, proto=6):
        self.session += 1
        sd = ('[junos@2636.1.1.1.2.129 reason="TCP FIN" source-address="%s" source-port="%d" '
              'destination-address="%s" destination-port="%d" connection-tag="0" '
              'service-name="junos-https" nat-source-address="%s" nat-source-port="%d" '
              'nat-destination-address="%s" nat-destination-port="%d" protocol-id="%d" '
              'policy-name="lgwan-to-asp" source-zone-name="lgwan" destination-zone-name="asp" '
              'session-id-32="%d" packets-from-client="%d" bytes-from-client="%d" '
              'packets-from-server="%d" bytes-from-server="%d" elapsed-time="%d" '
              'application="SSL" nested-application="UNKNOWN" username="N/A" roles="N/A" '
              'packet-incoming-interface="ge-0/0/1.0" encrypted="No"]') % (
            src, 40000 + self.session % 20000, dst, dport, src, 40000 + self.session % 20000,
            dst, dport, proto, self.session, 1 + sent // 1400, sent, 1 + rcvd // 1400, rcvd,
            1 + int(self.rnd() * 30))
        self.add(ts, self.hdr(ts, 14, "srx-lgwan", "RT_FLOW", "-", "RT_FLOW_SESSION_CLOSE") + " " + sd)

    def panos(self, ts, src, dst, dport, sent, rcvd):
        self.session += 1
        t = ts.strftime("%Y/%m/%d %H:%M:%S")
        body = ("1,%s,012801000001,TRAFFIC,end,2561,%s,%s,%s,198.51.100.2,%s,allow-web,,,ssl,"
                "vsys1,trust,untrust,ethernet1/2,ethernet1/1,default-fwd,%s,%d,1,%d,%d,%d,%d,"
                "0x40001c,tcp,allow,%d,%d,%d,%d,%s,%d,computer-and-internet-info,0,%d,0x0,"
                "10.0.0.0-10.255.255.255,Japan,0,%d,%d,tcp-fin,0,0,0,0,,PA-3220,from-policy,"
                ",,0,,0,,N/A,0,0,0,0") % (
            t, t, src, dst, dst, t, self.session, 40000 + self.session % 20000, dport,
            50000 + self.session % 10000, dport, sent + rcvd, sent, rcvd,
            2 + (sent + rcvd) // 1400, t, 1 + int(self.rnd() * 20), 700000 + self.session,
            1 + sent // 1400, 1 + rcvd // 1400)
        self.add(ts, self.hdr(ts, 14, "PA-3220") + " - " + body)

    def netfilter(self, ts, host, src, dst, dport):
        self.session += 1
        body = ("[UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:00:00:01:00:16:3e:00:00:02:08:00 "
                "SRC=%s DST=%s LEN=44 TOS=0x00 PREC=0x00 TTL=%d ID=%d PROTO=TCP SPT=%d "
                "DPT=%d WINDOW=1024 RES=0x00 SYN URGP=0") % (
            src, dst, 40 + int(self.rnd() * 200), self.session % 65536,
            1024 + int(self.rnd() * 60000), dport)
        self.add(ts, self.hdr(ts, 4, host, "kernel") + " - " + body)

    def squid(self, ts, client, domain, user):
        elapsed = 5 + int(self.rnd() * 400)
        size = self.bytes_sent(20000)
        if self.rnd() < 0.7:
            req = "CONNECT %s:443 %s HIER_DIRECT/%s -" % (domain, user, domain_ip(domain))
            code = "TCP_TUNNEL/200"
        else:
            req = "GET http://%s/%s %s HIER_DIRECT/%s text/html" % (
                domain, self.pick(["", "index.html", "news/", "img/logo.png", "api/v1/items"]),
                user, domain_ip(domain))
            code = self.pick(["TCP_MISS/200", "TCP_MISS/200", "TCP_HIT/200", "TCP_MISS/304"])
        body = "%.3f %6d %s %s %d %s" % (ts.timestamp(), elapsed, client, code, size, req)
        self.add(ts, self.hdr(ts, 134, "proxy01", "squid", "4400") + " - " + body)

    # ---- traffic ----

    def benign_day(self, day, lgwan_hosts=100, internet_hosts=200):
        """A day of the association's network: internet-zone PCs browse
        through the proxy (Squid), which connects out through the
        FortiGate; some reach Microsoft 365 directly; the DNS forwarder
        asks the ISP's resolvers and the time server polls NTP every
        1024 s; the web server's netfilter drops scans from outside;
        LGWAN PCs use the LGWAN-ASP services through the SRX."""
        users = ["u%03d" % i for i in range(internet_hosts)]
        for i in range(internet_hosts):
            host = "10.30.1.%d" % (i + 1) if i < 250 else "10.30.2.%d" % (i - 249)
            favourites = [self.pick(WEB_DOMAINS) for _ in range(8)]
            for ts in self.times(day, 60 + self.rnd() * 180):
                domain = self.pick(favourites) if self.rnd() < 0.8 else self.pick(WEB_DOMAINS)
                self.squid(ts, host, domain, users[i])
                if self.rnd() < 0.4:  # a miss or a tunnel: the proxy connects out
                    self.fortigate(ts + datetime.timedelta(milliseconds=20), "10.30.0.3",
                                   domain_ip(domain), 443, sent=self.bytes_sent(3000),
                                   rcvd=self.bytes_sent(40000))
            for ts in self.times(day, 10 + self.rnd() * 30):
                self.fortigate(ts, host, self.pick(M365), 443, sent=self.bytes_sent(8000),
                               rcvd=self.bytes_sent(30000))
        for ts in self.times(day, 6000):
            self.fortigate(ts, "10.30.0.2", self.pick(ISP_DNS), 53, proto=17,
                           sent=60 + int(self.rnd() * 40), rcvd=100 + int(self.rnd() * 300),
                           service="DNS")
        for server in NTP:
            ts = day + datetime.timedelta(seconds=self.rnd() * 1024)
            while ts < day + datetime.timedelta(days=1):
                self.fortigate(ts, "10.30.0.2", server, 123, proto=17, sent=76, rcvd=76,
                               service="NTP")
                ts += datetime.timedelta(seconds=1024)
        # The public web server's UFW drops the Internet's background
        # noise, day and night: a port or two per passing address.
        for ts in self.times(day, 1000, flat=True):
            src = "%d.%d.%d.%d" % (100 + int(self.rnd() * 100), int(self.rnd() * 256),
                                   int(self.rnd() * 256), 1 + int(self.rnd() * 254))
            for _ in range(1 + int(self.rnd() * 2)):
                self.netfilter(ts, "web01", src, "10.30.0.80",
                               self.pick([22, 23, 445, 3389, 8080, 5900, 1433]))
        # LGWAN servers (mail relay, file exchange) sync day and night.
        for server in ("10.20.0.25", "10.20.0.26"):
            for ts in self.times(day, 700, flat=True):
                self.srx(ts, server, self.pick(LGWAN_ASP[6:]), 443, self.bytes_sent(20000),
                         self.bytes_sent(20000))
        for i in range(lgwan_hosts):
            host = "10.20.1.%d" % (i + 1)
            for ts in self.times(day, 20 + self.rnd() * 40):
                self.srx(ts, host, self.pick(LGWAN_ASP), 443, self.bytes_sent(5000),
                         self.bytes_sent(60000))

    def write(self):
        self.lines.sort(key=lambda x: x[0])
        out = sys.stdout
        for _, line in self.lines:
            out.write(line + "\n")


def main():
    mode = sys.argv[1]
    g = Gen(14)
    if mode == "scan":
        ts = datetime.datetime.now(UTC)
        for port in range(1, 26):
            g.fortigate(ts, "10.30.4.40", "203.0.113.10", port, action="deny", service="tcp/%d" % port,
                        header=False)
        g.write()
        return
    day0 = datetime.datetime.strptime(sys.argv[2], "%Y-%m-%d").replace(tzinfo=UTC)
    if mode == "benign":
        g.benign_day(day0)
    elif mode == "new-destination":
        # Six LGWAN PCs use the same LGWAN-ASP services every working day
        # for 8 days; on the 9th one of them reaches an address never seen
        # by it (one of the approved LGWAN-ASP gateways of
        # rules/lists/approved_outbound.csv: an unapproved one would also,
        # rightly, raise lw_zone_outbound_unapproved).
        for d in range(8):
            day = day0 + datetime.timedelta(days=d)
            for i in range(6):
                for ts in g.times(day, 30):
                    g.srx(ts, "10.20.1.%d" % (15 + i), g.pick(LGWAN_ASP[:6]), 443,
                          g.bytes_sent(5000), g.bytes_sent(60000))
        g.srx(day0 + datetime.timedelta(days=8, hours=10, minutes=17), "10.20.1.15",
              "192.0.2.5", 443, 4200, 1800)
    elif mode == "volume":
        # A PC that uploads a few MB an hour for two days (with others
        # around it), then sends 360 MB in 10 minutes to one address.
        for d in range(2):
            day = day0 + datetime.timedelta(days=d)
            for host in ("10.30.2.20", "10.30.2.21", "10.30.2.22"):
                for ts in g.times(day, 400):
                    g.fortigate(ts, host, g.pick(M365), 443, sent=g.bytes_sent(40000),
                                rcvd=g.bytes_sent(80000))
        burst = day0 + datetime.timedelta(days=2, hours=14, minutes=1)
        for k in range(3):
            g.fortigate(burst + datetime.timedelta(minutes=2 * k), "10.30.2.20", "203.0.113.66", 443,
                        sent=120000000, rcvd=50000)
    elif mode == "beacon":
        # Browsing around a PC that calls one address every 300 s +- 5 %
        # for two and a half hours (PAN-OS TRAFFIC logs).
        for host in range(20):
            for ts in g.times(day0, 150):
                g.panos(ts, "10.30.3.%d" % (50 + host), g.pick(M365 + [domain_ip(d) for d in WEB_DOMAINS]),
                        443, g.bytes_sent(3000), g.bytes_sent(40000))
        ts = day0 + datetime.timedelta(hours=10)
        for _ in range(30):
            g.panos(ts, "10.30.3.30", "203.0.113.200", 443, 900 + int(g.rnd() * 200), 400)
            ts += datetime.timedelta(seconds=300 * (0.95 + 0.1 * g.rnd()))
    elif mode == "beacon-proxy":
        # 20 PCs browsing through Squid, and one requesting one site
        # every 600 s +- 5 % for three hours through the same proxy.
        for host in range(20):
            favourites = [g.pick(WEB_DOMAINS) for _ in range(6)]
            for ts in g.times(day0, 200):
                g.squid(ts, "10.30.3.%d" % (50 + host), g.pick(favourites), "u%02d" % host)
        ts = day0 + datetime.timedelta(hours=9)
        for _ in range(18):
            g.squid(ts, "10.30.3.31", "cdn.update-check.example", "-")
            ts += datetime.timedelta(seconds=600 * (0.95 + 0.1 * g.rnd()))
    else:
        sys.exit("unknown mode " + mode)
    g.write()


if __name__ == "__main__":
    main()
