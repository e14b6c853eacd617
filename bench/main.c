/* bench/main.c - logward-bench: command line, signals and reports for the
 * load generator (sender.h) and its sink (sink.h).  Main thread only; the
 * modules own their threads. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "bench/benchtls.h"
#include "bench/msggen.h"
#include "bench/netaddr.h"
#include "bench/sender.h"
#include "bench/sink.h"
#include "bench/sys.h"
#include "core/buf.h"
#include "core/escape.h"
#include "core/config.h"
#include "core/err.h"

enum {
	EXIT_OK = 0,
	EXIT_SEND = 1,   /* send errors, or the sink saw loss/duplicates */
	EXIT_USAGE = 2,
};

#define DEFAULT_COUNT 1000000
#define DEFAULT_RING 16384
#define DEFAULT_BATCH_BYTES (256 * 1024)
#define DEFAULT_BATCH_MSGS 256
#define DEFAULT_HOSTS 64
#define DEFAULT_IDLE_MS 3000
#define DEFAULT_MAX_CONNS 1024

static const char usage_text[] =
"usage: logward-bench [send] TARGET [options]     generate load\n"
"       logward-bench sink TARGET [options]       receive, count, check\n"
"\n"
"TARGET (exactly one):\n"
"  --tcp HOST:PORT       TCP (LF framing unless --framing octet)\n"
"  --udp HOST:PORT       UDP, one message per datagram (sendmmsg)\n"
"  --unix PATH           unix stream socket\n"
"  --unix-dgram PATH     unix datagram socket (/dev/log style)\n"
"  --tls HOST:PORT       TLS over TCP (framing as for --tcp)\n"
"  IPv6 is written [ADDR]:PORT.  The sink accepts port 0 (any free port).\n"
"\n"
"send options:\n"
"  -c, --connections N   connections (default 1, at most 9999)\n"
"  -t, --threads N       sender threads; thread i drives a share of the\n"
"                        connections (default min(connections, CPUs))\n"
"  -n, --count N         total messages, split evenly over the connections\n"
"                        (default 1000000; k/M/G suffixes allowed)\n"
"  -d, --duration T      send for T instead of a count (10s, 500ms, 2m;\n"
"                        a bare number is seconds)\n"
"  -r, --rate R          total messages per second, smooth token bucket\n"
"                        (default 0: as fast as possible; k/M allowed)\n"
"  -f, --format F        rfc3164 (default) or rfc5424\n"
"  -F, --framing F       stream framing: lf (default) or octet (RFC 6587)\n"
"      --replay FILE     send FILE's lines (cycled) instead of templates;\n"
"                        each gets \" seq=CCCC-NNNNNNNNNNNN\" appended\n"
"      --no-seq          with --replay: send the lines as they are, no seq\n"
"                        field (a receiver can count them, not check them)\n"
"      --ring N          distinct messages rendered per thread (16384)\n"
"      --hosts N         distinct host names in templates (64)\n"
"      --sources N       distinct attacker addresses over the run (0: the\n"
"                        templates' own, rendered once); each template\n"
"                        attacker gets the next of N addresses in\n"
"                        240.0.0.0/4, every one before any repeats\n"
"      --slow-attackers K  with --sources: K addresses (203.0.113.200 and\n"
"                        on) each send --slow-attempts failed SSH logins\n"
"                        on connection 0, spread evenly over the run, for\n"
"                        a receiver to find (reported in the JSON)\n"
"      --slow-attempts A attempts per slow attacker (default 12)\n"
"      --slow-span N     spread them over connection 0's first N messages\n"
"                        (default: all it sends)\n"
"      --seed N          template randomness (default 1; same seed, same\n"
"                        messages)\n"
"      --batch-bytes B   stream bytes per send call (256KiB)\n"
"      --batch N         datagrams per sendmmsg call (256, max 1024)\n"
"      --sndbuf B        SO_SNDBUF per socket\n"
"      --tls-ca FILE     CA to verify the server (default: system CAs)\n"
"      --tls-servername NAME  SNI and the name to verify\n"
"      --tls-insecure    do not verify the server\n"
"      --tls-cert FILE, --tls-key FILE  client certificate\n"
"\n"
"sink options:\n"
"  -n, --count N         stop once N messages arrived (and, for streams,\n"
"                        the senders disconnected); exit 1 unless exactly\n"
"                        N distinct sequence numbers came, no duplicates\n"
"  -d, --duration T      stop after T\n"
"      --idle T          stop after T without data, once data came\n"
"                        (default 3s; 0 = never)\n"
"      --stay            streams: keep listening after all senders left\n"
"                        (default: stop 300ms after the last one closed)\n"
"  -F, --framing F       auto (default: per connection, by first byte),\n"
"                        lf or octet\n"
"      --rcvbuf B        SO_RCVBUF (UDP default 8MiB)\n"
"      --no-verify       count only; do not check sequence numbers\n"
"      --max-conns N     accept at most N connections (1024)\n"
"      --port-file FILE  write \"TRANSPORT ADDRESS\" once listening\n"
"      --tls-cert FILE, --tls-key FILE  server certificate (default: a\n"
"                        throwaway self-signed one for CN=localhost)\n"
"\n"
"common:\n"
"      --json            print one JSON object instead of the summary\n"
"  -q, --quiet           no summary (exit status only)\n"
"  -h, --help            this text\n"
"\n"
"Every message carries seq=CCCC-NNNNNNNNNNNN: sender connection (4 digits)\n"
"and its message number from 1 (12 digits); RFC 5424 carries it as\n"
"structured data [lwbench@32473 seq=\"...\"].  See bench/README.md.\n"
"\n"
"exit status: 0 ok; 1 send errors or an interrupted count (send), or\n"
"loss, duplicates, unparsed messages or I/O errors (sink); 2 usage.\n";

enum opt_id {
	OPT_TCP = 256, OPT_UDP, OPT_UNIX, OPT_UNIX_DGRAM, OPT_TLS, OPT_JSON,
	OPT_REPLAY, OPT_RING, OPT_HOSTS, OPT_SEED, OPT_BATCH_BYTES, OPT_BATCH,
	OPT_SNDBUF, OPT_RCVBUF, OPT_TLS_CA, OPT_TLS_CERT, OPT_TLS_KEY,
	OPT_TLS_INSECURE, OPT_TLS_SNI, OPT_IDLE, OPT_STAY, OPT_NO_VERIFY,
	OPT_MAX_CONNS, OPT_PORT_FILE, OPT_SOURCES, OPT_SLOW, OPT_SLOW_ATTEMPTS,
	OPT_SLOW_SPAN, OPT_NO_SEQ,
};

static const struct option long_opts[] = {
	{ "tcp", required_argument, NULL, OPT_TCP },
	{ "udp", required_argument, NULL, OPT_UDP },
	{ "unix", required_argument, NULL, OPT_UNIX },
	{ "unix-dgram", required_argument, NULL, OPT_UNIX_DGRAM },
	{ "tls", required_argument, NULL, OPT_TLS },
	{ "connections", required_argument, NULL, 'c' },
	{ "threads", required_argument, NULL, 't' },
	{ "count", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "rate", required_argument, NULL, 'r' },
	{ "format", required_argument, NULL, 'f' },
	{ "framing", required_argument, NULL, 'F' },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "no-seq", no_argument, NULL, OPT_NO_SEQ },
	{ "ring", required_argument, NULL, OPT_RING },
	{ "hosts", required_argument, NULL, OPT_HOSTS },
	{ "sources", required_argument, NULL, OPT_SOURCES },
	{ "slow-attackers", required_argument, NULL, OPT_SLOW },
	{ "slow-attempts", required_argument, NULL, OPT_SLOW_ATTEMPTS },
	{ "slow-span", required_argument, NULL, OPT_SLOW_SPAN },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "batch-bytes", required_argument, NULL, OPT_BATCH_BYTES },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "sndbuf", required_argument, NULL, OPT_SNDBUF },
	{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
	{ "tls-ca", required_argument, NULL, OPT_TLS_CA },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-insecure", no_argument, NULL, OPT_TLS_INSECURE },
	{ "tls-servername", required_argument, NULL, OPT_TLS_SNI },
	{ "idle", required_argument, NULL, OPT_IDLE },
	{ "stay", no_argument, NULL, OPT_STAY },
	{ "no-verify", no_argument, NULL, OPT_NO_VERIFY },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Everything the command line says, before it is checked. */
struct opts {
	int sink;
	int have_target;
	enum lw_transport transport;
	const char *target;
	unsigned long connections, threads, ring, hosts, batch_msgs, max_conns;
	uint64_t count, duration_ms, idle_ms, seed, batch_bytes, sndbuf, rcvbuf;
	uint64_t sources, slow_span;
	unsigned long slow, slow_attempts;
	double rate;
	int have_count, have_duration, have_framing;
	const char *format, *framing, *replay, *port_file;
	struct lw_benchtls_opts tls;
	int json, quiet, stay, no_verify, no_seq;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "logward-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(try 'logward-bench --help')\n");
	return EXIT_USAGE;
}

/* "250000", "2.5M", "10k": counts and rates (decimal multipliers). */
static int
parse_amount(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0) || v > 1e18)
		return LW_EINVAL;
	if (*end == 'k' || *end == 'K')
		v *= 1e3, end++;
	else if (*end == 'M' || *end == 'm')
		v *= 1e6, end++;
	else if (*end == 'G' || *end == 'g')
		v *= 1e9, end++;
	if (*end != '\0')
		return LW_EINVAL;
	if (v > 1e18)
		return LW_EINVAL;
	*out = v;
	return LW_OK;
}

/* libm-free: amounts are at most 1e18, so the cast is exact for integers. */
static int
is_whole(double v)
{
	return v == (double)(uint64_t)v;
}

static int
parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	double v;

	if (parse_amount(s, &v) != LW_OK || !is_whole(v) || v < (double)min
	    || v > (double)max)
		return LW_EINVAL;
	*out = (unsigned long)v;
	return LW_OK;
}

static int
parse_duration(const char *s, uint64_t *ms)
{
	size_t n = strspn(s, "0123456789");

	if (n > 0 && s[n] == '\0') {
		unsigned long long v = strtoull(s, NULL, 10);

		if (v > UINT64_MAX / 1000)
			return LW_EINVAL;
		*ms = v * 1000;
		return LW_OK;
	}
	return lw_parse_duration_ms(s, ms);
}

static int
set_target(struct opts *o, enum lw_transport t, const char *arg)
{
	if (o->have_target)
		return usage_error("give exactly one target (%s is a second one)", arg);
	o->have_target = 1;
	o->transport = t;
	o->target = arg;
	return EXIT_OK;
}

static int
parse_num_opt(int c, const char *arg, struct opts *o)
{
	double d;

	switch (c) {
	case 'c':
		if (parse_ulong(arg, 1, LW_MSGGEN_MAX_CONNS - 1, &o->connections))
			return usage_error("--connections: '%s' is not 1..9999", arg);
		return EXIT_OK;
	case 't':
		if (parse_ulong(arg, 1, 1024, &o->threads))
			return usage_error("--threads: '%s' is not 1..1024", arg);
		return EXIT_OK;
	case 'n':
		if (parse_amount(arg, &d) || !is_whole(d) || d < 1 || d > 1e15)
			return usage_error("--count: '%s' is not a positive count", arg);
		o->count = (uint64_t)d;
		o->have_count = 1;
		return EXIT_OK;
	case 'r':
		if (parse_amount(arg, &o->rate))
			return usage_error("--rate: '%s' is not a rate", arg);
		return EXIT_OK;
	case 'd':
		if (parse_duration(arg, &o->duration_ms) || o->duration_ms == 0)
			return usage_error("--duration: '%s' is not a duration", arg);
		o->have_duration = 1;
		return EXIT_OK;
	case OPT_IDLE:
		if (parse_duration(arg, &o->idle_ms))
			return usage_error("--idle: '%s' is not a duration", arg);
		return EXIT_OK;
	case OPT_RING:
		if (parse_ulong(arg, 1, 1 << 20, &o->ring))
			return usage_error("--ring: '%s' is not 1..1048576", arg);
		return EXIT_OK;
	case OPT_HOSTS:
		if (parse_ulong(arg, 1, 100000, &o->hosts))
			return usage_error("--hosts: '%s' is not 1..100000", arg);
		return EXIT_OK;
	case OPT_SOURCES:
		if (parse_amount(arg, &d) || !is_whole(d) || d < 1 ||
		    d > (double)LW_MSGGEN_MAX_SOURCES)
			return usage_error("--sources: '%s' is not 1..%llu", arg,
					   (unsigned long long)LW_MSGGEN_MAX_SOURCES);
		o->sources = (uint64_t)d;
		return EXIT_OK;
	case OPT_SLOW:
		if (parse_ulong(arg, 1, LW_SENDER_MAX_SLOW, &o->slow))
			return usage_error("--slow-attackers: '%s' is not 1..%d", arg,
					   LW_SENDER_MAX_SLOW);
		return EXIT_OK;
	case OPT_SLOW_ATTEMPTS:
		if (parse_ulong(arg, 1, 10000, &o->slow_attempts))
			return usage_error("--slow-attempts: '%s' is not 1..10000", arg);
		return EXIT_OK;
	case OPT_SLOW_SPAN:
		if (parse_amount(arg, &d) || !is_whole(d) || d < 1)
			return usage_error("--slow-span: '%s' is not a message count", arg);
		o->slow_span = (uint64_t)d;
		return EXIT_OK;
	case OPT_SEED:
		if (parse_amount(arg, &d) || !is_whole(d) || d > 9e15)
			return usage_error("--seed: '%s' is not a number", arg);
		o->seed = (uint64_t)d;
		return EXIT_OK;
	case OPT_BATCH:
		if (parse_ulong(arg, 1, 1024, &o->batch_msgs))
			return usage_error("--batch: '%s' is not 1..1024", arg);
		return EXIT_OK;
	case OPT_MAX_CONNS:
		if (parse_ulong(arg, 1, 65536, &o->max_conns))
			return usage_error("--max-conns: '%s' is not 1..65536", arg);
		return EXIT_OK;
	case OPT_BATCH_BYTES:
		if (lw_parse_size(arg, &o->batch_bytes) || o->batch_bytes < 1024
		    || o->batch_bytes > ((uint64_t)64 << 20))
			return usage_error("--batch-bytes: '%s' is not 1KiB..64MiB", arg);
		return EXIT_OK;
	case OPT_SNDBUF:
	case OPT_RCVBUF: {
		uint64_t *dst = c == OPT_SNDBUF ? &o->sndbuf : &o->rcvbuf;

		if (lw_parse_size(arg, dst) || *dst > ((uint64_t)1 << 30))
			return usage_error("buffer size '%s' is not a size up to 1GiB", arg);
		return EXIT_OK;
	}
	}
	return usage_error("unknown option");
}

static int
parse_opt(int c, const char *arg, struct opts *o)
{
	switch (c) {
	case OPT_TCP: return set_target(o, LW_TR_TCP, arg);
	case OPT_UDP: return set_target(o, LW_TR_UDP, arg);
	case OPT_UNIX: return set_target(o, LW_TR_UNIX, arg);
	case OPT_UNIX_DGRAM: return set_target(o, LW_TR_UNIX_DGRAM, arg);
	case OPT_TLS: return set_target(o, LW_TR_TLS, arg);
	case 'f': o->format = arg; return EXIT_OK;
	case 'F': o->framing = arg; o->have_framing = 1; return EXIT_OK;
	case OPT_REPLAY: o->replay = arg; return EXIT_OK;
	case OPT_NO_SEQ: o->no_seq = 1; return EXIT_OK;
	case OPT_PORT_FILE: o->port_file = arg; return EXIT_OK;
	case OPT_TLS_CA: o->tls.ca = arg; return EXIT_OK;
	case OPT_TLS_CERT: o->tls.cert = arg; return EXIT_OK;
	case OPT_TLS_KEY: o->tls.key = arg; return EXIT_OK;
	case OPT_TLS_SNI: o->tls.servername = arg; return EXIT_OK;
	case OPT_TLS_INSECURE: o->tls.insecure = 1; return EXIT_OK;
	case OPT_STAY: o->stay = 1; return EXIT_OK;
	case OPT_NO_VERIFY: o->no_verify = 1; return EXIT_OK;
	case OPT_JSON: o->json = 1; return EXIT_OK;
	case 'q': o->quiet = 1; return EXIT_OK;
	}
	return parse_num_opt(c, arg, o);
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->connections = 1;
	o->ring = DEFAULT_RING;
	o->hosts = DEFAULT_HOSTS;
	o->slow_attempts = 12;
	o->seed = 1;
	o->batch_bytes = DEFAULT_BATCH_BYTES;
	o->batch_msgs = DEFAULT_BATCH_MSGS;
	o->idle_ms = DEFAULT_IDLE_MS;
	o->max_conns = DEFAULT_MAX_CONNS;
	o->format = "rfc3164";
	if (argc > 1 && strcmp(argv[1], "sink") == 0) {
		o->sink = 1;
		argv++;
		argc--;
	} else if (argc > 1 && strcmp(argv[1], "send") == 0) {
		argv++;
		argc--;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:t:n:d:r:f:F:qh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return -1;
		}
		if (c == '?')
			return usage_error("unknown option '%s'", argv[optind - 1]);
		if (c == ':')
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		rc = parse_opt(c, optarg, o);
		if (rc != EXIT_OK)
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->have_target)
		return usage_error("a target is required: --tcp, --udp, --unix, --unix-dgram or --tls");
	return EXIT_OK;
}

static int
check_framing(const struct opts *o, enum lw_msggen_framing *out)
{
	int dgram = lw_netaddr_socktype(o->transport) == SOCK_DGRAM;

	if (dgram) {
		if (o->have_framing)
			return usage_error("--framing applies to stream targets, not %s",
					   lw_netaddr_transport_name(o->transport));
		*out = LW_MSGGEN_DGRAM;
	} else if (o->framing == NULL || strcmp(o->framing, "lf") == 0) {
		*out = LW_MSGGEN_LF;
	} else if (strcmp(o->framing, "octet") == 0) {
		*out = LW_MSGGEN_OCTET;
	} else {
		return usage_error("--framing: '%s' is not lf or octet", o->framing);
	}
	return EXIT_OK;
}

static int
build_sender_cfg(const struct opts *o, struct lw_sender_cfg *cfg)
{
	struct lw_diag diag;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	memset(&diag, 0, sizeof(diag));
	if (lw_netaddr_parse(o->transport, o->target, &cfg->addr, &diag) != LW_OK)
		return usage_error("%s", diag.detail);
	if (strcmp(o->format, "rfc3164") == 0)
		cfg->gen.format = LW_MSGGEN_RFC3164;
	else if (strcmp(o->format, "rfc5424") == 0)
		cfg->gen.format = LW_MSGGEN_RFC5424;
	else
		return usage_error("--format: '%s' is not rfc3164 or rfc5424", o->format);
	rc = check_framing(o, &cfg->gen.framing);
	if (rc != EXIT_OK)
		return rc;
	if (o->have_count && o->have_duration)
		return usage_error("give --count or --duration, not both");
	cfg->gen.ring = o->ring;
	cfg->gen.hosts = (unsigned)o->hosts;
	cfg->gen.seed = o->seed;
	cfg->connections = (unsigned)o->connections;
	cfg->threads = o->threads ? (unsigned)o->threads
		: (unsigned)(ncpu > 0 && (unsigned long)ncpu < o->connections ? (unsigned long)ncpu
									      : o->connections);
	if (cfg->threads > cfg->connections)
		return usage_error("--threads: more threads than connections");
	cfg->count = o->have_duration ? 0 : (o->have_count ? o->count : DEFAULT_COUNT);
	cfg->duration_ms = o->duration_ms;
	if (cfg->count && cfg->count / cfg->connections >= LW_SENDER_MAX_PER_CONN)
		return usage_error("--count: more than 999999999999 per connection");
	cfg->rate = o->rate;
	cfg->batch_bytes = (size_t)o->batch_bytes;
	cfg->batch_msgs = (unsigned)o->batch_msgs;
	cfg->sndbuf = (int)o->sndbuf;
	cfg->gen.sources = o->replay ? 0 : o->sources;
	if (o->sources && o->replay)
		return usage_error("--sources applies to the templates, not --replay");
	if (o->no_seq && !o->replay)
		return usage_error("--no-seq applies to --replay (the templates carry the seq "
				   "where it changes no message)");
	cfg->gen.no_seq = o->no_seq;
	if (o->slow && !o->sources)
		return usage_error("--slow-attackers needs --sources (the templates' own "
				   "attackers would share their addresses)");
	cfg->slow = (unsigned)o->slow;
	cfg->slow_attempts = (unsigned)o->slow_attempts;
	cfg->slow_span = o->slow_span;
	if (cfg->slow && cfg->count == 0 && cfg->slow_span == 0) {
		if (cfg->rate <= 0)
			return usage_error("--slow-attackers with --duration needs --rate "
					   "or --slow-span");
		cfg->slow_span = (uint64_t)(cfg->rate / cfg->connections *
					    (double)cfg->duration_ms / 1000.0);
	}
	return EXIT_OK;
}

static double
rate_of(uint64_t n, double secs)
{
	return secs > 0 ? (double)n / secs : 0.0;
}

static void
print_send_report(const struct opts *o, const struct lw_sender_cfg *cfg,
		  const struct lw_sender_result *res)
{
	char where[256];
	struct lw_buf b;
	const char *format = o->replay ? "replay" : lw_msggen_format_name(cfg->gen.format);

	lw_netaddr_format(&cfg->addr, where, sizeof(where));
	if (o->quiet)
		return;
	if (!o->json) {
		printf("logward-bench: sent %llu messages (%.1f MB, %.0f B/msg) over %s/%s to %s\n"
		       "  %s, %u connection(s) (%u up), %u thread(s), target rate %s\n"
		       "  elapsed %.3f s: %.0f msgs/s, %.1f MB/s, %llu error(s)%s%s\n",
		       (unsigned long long)res->sent, (double)res->bytes / 1e6,
		       res->sent ? (double)res->bytes / (double)res->sent : 0.0,
		       lw_netaddr_transport_name(cfg->addr.transport),
		       lw_msggen_framing_name(cfg->gen.framing), where, format,
		       cfg->connections, res->connected, cfg->threads,
		       cfg->rate > 0 ? "limited" : "unlimited", res->elapsed,
		       rate_of(res->sent, res->elapsed),
		       rate_of(res->bytes, res->elapsed) / 1e6,
		       (unsigned long long)res->errors,
		       res->first_error[0] ? ", first: " : "", res->first_error);
		if (res->stopped)
			printf("  interrupted\n");
		return;
	}
	lw_buf_init(&b);
	lw_buf_printf(&b, "{\"mode\":\"send\",\"transport\":\"%s\",\"framing\":\"%s\","
		      "\"format\":\"%s\",\"target\":",
		      lw_netaddr_transport_name(cfg->addr.transport),
		      lw_msggen_framing_name(cfg->gen.framing), format);
	lw_escape_json_string(&b, where, strlen(where));
	lw_buf_printf(&b, ",\"connections\":%u,\"connected\":%u,\"threads\":%u,"
		      "\"sent\":%llu,\"bytes\":%llu,\"elapsed\":%.6f,\"rate\":%.1f,"
		      "\"bytes_per_sec\":%.1f,\"target_rate\":%.1f,\"errors\":%llu,"
		      "\"interrupted\":%s,\"first_error\":",
		      cfg->connections, res->connected, cfg->threads,
		      (unsigned long long)res->sent, (unsigned long long)res->bytes,
		      res->elapsed, rate_of(res->sent, res->elapsed),
		      rate_of(res->bytes, res->elapsed), cfg->rate,
		      (unsigned long long)res->errors, res->stopped ? "true" : "false");
	if (res->first_error[0])
		lw_escape_json_string(&b, res->first_error, strlen(res->first_error));
	else
		lw_buf_puts(&b, "null");
	if (cfg->gen.sources) {
		lw_buf_printf(&b, ",\"sources\":%llu,\"slow_attempts\":%u,\"slow_sent\":%llu,"
			      "\"slow_attackers\":[", (unsigned long long)cfg->gen.sources,
			      cfg->slow_attempts, (unsigned long long)res->slow_sent);
		for (unsigned j = 0; j < cfg->slow; j++) {
			char ip[32];

			lw_sender_slow_address(j, ip, sizeof(ip));
			lw_buf_printf(&b, "%s\"%s\"", j ? "," : "", ip);
		}
		lw_buf_puts(&b, "]");
	}
	lw_buf_puts(&b, "}\n");
	if (!b.oom)
		fwrite(b.data, 1, b.len, stdout);
	lw_buf_release(&b);
}

static void
print_sink_report(const struct opts *o, const struct lw_sink_cfg *cfg,
		  const struct lw_netaddr *local, const struct lw_sink_result *res)
{
	static const char *const framings[] = { "auto", "lf", "octet" };
	char where[256];
	struct lw_buf b;

	if (o->quiet)
		return;
	lw_netaddr_format(local, where, sizeof(where));
	if (!o->json) {
		char conns[64] = "";

		if (lw_netaddr_socktype(cfg->addr.transport) == SOCK_STREAM)
			snprintf(conns, sizeof(conns), " from %u connection(s)", res->connections);
		printf("logward-bench sink: %llu messages (%.1f MB) on %s %s%s\n"
		       "  elapsed %.3f s (first to last byte): %.0f msgs/s, %.1f MB/s\n",
		       (unsigned long long)res->messages, (double)res->bytes / 1e6,
		       lw_netaddr_transport_name(cfg->addr.transport), where, conns,
		       res->elapsed, rate_of(res->messages, res->elapsed),
		       rate_of(res->bytes, res->elapsed) / 1e6);
		if (cfg->verify)
			printf("  seq: %llu unique from %u sender connection(s), %llu duplicate(s), "
			       "%llu missing, %llu unparsed, %llu untracked\n",
			       (unsigned long long)res->seq.unique, res->seq.connections,
			       (unsigned long long)res->seq.duplicates,
			       (unsigned long long)res->missing, (unsigned long long)res->unparsed,
			       (unsigned long long)res->seq.untracked);
		if (res->kernel_drops || res->oversize || res->partial || res->io_errors
		    || res->rejected)
			printf("  kernel drops %llu, oversize %llu, partial %llu, I/O errors %llu%s%s,"
			       " rejected connections %u\n",
			       (unsigned long long)res->kernel_drops,
			       (unsigned long long)res->oversize, (unsigned long long)res->partial,
			       (unsigned long long)res->io_errors,
			       res->first_error[0] ? " (first: " : "",
			       res->first_error[0] ? res->first_error : "", res->rejected);
		return;
	}
	lw_buf_init(&b);
	lw_buf_printf(&b, "{\"mode\":\"sink\",\"transport\":\"%s\",\"framing\":\"%s\",\"listen\":",
		      lw_netaddr_transport_name(cfg->addr.transport), framings[cfg->framing]);
	lw_escape_json_string(&b, where, strlen(where));
	lw_buf_printf(&b, ",\"messages\":%llu,\"bytes\":%llu,\"elapsed\":%.6f,\"rate\":%.1f,"
		      "\"bytes_per_sec\":%.1f,\"connections\":%u,\"rejected\":%u,"
		      "\"verified\":%s,\"unique\":%llu,\"duplicates\":%llu,\"missing\":%llu,"
		      "\"gaps\":%llu,\"senders\":%u,\"unparsed\":%llu,\"untracked\":%llu,"
		      "\"oversize\":%llu,\"partial\":%llu,\"kernel_drops\":%llu,"
		      "\"io_errors\":%llu,\"interrupted\":%s,\"first_error\":",
		      (unsigned long long)res->messages, (unsigned long long)res->bytes,
		      res->elapsed, rate_of(res->messages, res->elapsed),
		      rate_of(res->bytes, res->elapsed), res->connections, res->rejected,
		      cfg->verify ? "true" : "false", (unsigned long long)res->seq.unique,
		      (unsigned long long)res->seq.duplicates, (unsigned long long)res->missing,
		      (unsigned long long)res->seq.gaps, res->seq.connections,
		      (unsigned long long)res->unparsed, (unsigned long long)res->seq.untracked,
		      (unsigned long long)res->oversize, (unsigned long long)res->partial,
		      (unsigned long long)res->kernel_drops, (unsigned long long)res->io_errors,
		      res->stopped ? "true" : "false");
	if (res->first_error[0])
		lw_escape_json_string(&b, res->first_error, strlen(res->first_error));
	else
		lw_buf_puts(&b, "null");
	lw_buf_puts(&b, "}\n");
	if (!b.oom)
		fwrite(b.data, 1, b.len, stdout);
	lw_buf_release(&b);
}

static void
report_diag(const char *what, int rc, const struct lw_diag *diag)
{
	char text[1024];

	lw_diag_format(diag, text, sizeof(text));
	fprintf(stderr, "logward-bench: %s: %s\n", what, text[0] ? text : lw_strerror(rc));
}

/* SIGINT/SIGTERM are blocked in every thread and read from a signalfd by
 * the waiting loops, so a stop needs no handler and no global flag. */
static int
signals_setup(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int
run_send(const struct opts *o, int sig_fd)
{
	struct lw_sender_cfg cfg;
	struct lw_sender_result res;
	struct lw_msggen_lines lines = { 0 };
	struct lw_benchtls *tls = NULL;
	struct lw_diag diag;
	int rc, code;

	memset(&diag, 0, sizeof(diag));
	code = build_sender_cfg(o, &cfg);
	if (code != EXIT_OK)
		return code;
	if (o->replay) {
		rc = lw_msggen_lines_load(o->replay, &lines, &diag);
		if (rc != LW_OK) {
			report_diag("--replay", rc, &diag);
			return EXIT_USAGE;
		}
		cfg.replay = &lines;
	}
	if (cfg.addr.transport == LW_TR_TLS) {
		rc = lw_benchtls_client_new(&o->tls, &tls, &diag);
		if (rc != LW_OK) {
			report_diag("tls", rc, &diag);
			code = EXIT_USAGE;
			goto out;
		}
		cfg.tls = tls;
	}
	rc = lw_sender_run(&cfg, sig_fd, &res, &diag);
	if (rc != LW_OK) {
		report_diag("send", rc, &diag);
		code = EXIT_SEND;
		goto out;
	}
	print_send_report(o, &cfg, &res);
	if (res.errors > 0 || (cfg.count && res.sent != cfg.count))
		code = EXIT_SEND;
out:
	lw_benchtls_free(tls);
	lw_msggen_lines_release(&lines);
	return code;
}

static int
write_port_file(const char *path, const struct lw_netaddr *local)
{
	char where[256], tmp[4096];
	FILE *f;

	lw_netaddr_format(local, where, sizeof(where));
	/* Written aside and renamed: a test polling for the file never reads
	 * half of it. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%s %s\n", lw_netaddr_transport_name(local->transport), where);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -1;
	return 0;
}

static int
build_sink_cfg(const struct opts *o, struct lw_sink_cfg *cfg)
{
	struct lw_diag diag;

	memset(cfg, 0, sizeof(*cfg));
	memset(&diag, 0, sizeof(diag));
	if (lw_netaddr_parse(o->transport, o->target, &cfg->addr, &diag) != LW_OK)
		return usage_error("%s", diag.detail);
	if (o->framing == NULL || strcmp(o->framing, "auto") == 0)
		cfg->framing = LW_SINK_AUTO;
	else if (strcmp(o->framing, "lf") == 0)
		cfg->framing = LW_SINK_LF;
	else if (strcmp(o->framing, "octet") == 0)
		cfg->framing = LW_SINK_OCTET;
	else
		return usage_error("--framing: '%s' is not auto, lf or octet", o->framing);
	cfg->expect = o->have_count ? o->count : 0;
	cfg->duration_ms = o->duration_ms;
	cfg->idle_ms = o->idle_ms;
	cfg->stay = o->stay;
	cfg->rcvbuf = (int)o->rcvbuf;
	cfg->verify = !o->no_verify;
	cfg->max_conns = (unsigned)o->max_conns;
	return EXIT_OK;
}

static int
run_sink(const struct opts *o, int sig_fd)
{
	struct lw_sink_cfg cfg;
	struct lw_sink_result res;
	struct lw_netaddr local;
	struct lw_benchtls *tls = NULL;
	struct lw_sink *sink = NULL;
	struct lw_diag diag;
	int rc, code;

	memset(&diag, 0, sizeof(diag));
	code = build_sink_cfg(o, &cfg);
	if (code != EXIT_OK)
		return code;
	if (cfg.addr.transport == LW_TR_TLS) {
		rc = lw_benchtls_server_new(&o->tls, &tls, &diag);
		if (rc != LW_OK) {
			report_diag("tls", rc, &diag);
			return EXIT_USAGE;
		}
		cfg.tls = tls;
	}
	rc = lw_sink_open(&cfg, &sink, &diag);
	if (rc != LW_OK) {
		report_diag("sink", rc, &diag);
		code = EXIT_SEND;
		goto out;
	}
	lw_sink_local(sink, &local);
	if (o->port_file && write_port_file(o->port_file, &local) != 0) {
		fprintf(stderr, "logward-bench: cannot write port file '%s'\n", o->port_file);
		code = EXIT_SEND;
		goto out;
	}
	rc = lw_sink_run(sink, sig_fd, &res, &diag);
	if (rc != LW_OK) {
		report_diag("sink", rc, &diag);
		code = EXIT_SEND;
		goto out;
	}
	print_sink_report(o, &cfg, &local, &res);
	if (res.io_errors || (cfg.verify && (res.seq.duplicates || res.missing || res.unparsed)))
		code = EXIT_SEND;
out:
	lw_sink_close(sink);
	lw_benchtls_free(tls);
	return code;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int rc, sig_fd;

	rc = parse_args(argc, argv, &o);
	if (rc < 0)
		return EXIT_OK; /* --help */
	if (rc != EXIT_OK)
		return rc;
	sig_fd = signals_setup();
	if (sig_fd == -1) {
		fprintf(stderr, "logward-bench: cannot set up signals\n");
		return EXIT_SEND;
	}
	rc = o.sink ? run_sink(&o, sig_fd) : run_send(&o, sig_fd);
	close(sig_fd);
	return rc;
}
