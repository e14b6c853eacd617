/* bench/msggen.c - renders the load generator's message rings
 * (prefix lw_msggen).  Everything here runs before the clock starts, so it
 * may format with printf; the send loop only calls the inline patchers in
 * msggen.h.  Runs on each sender thread (rings) and main (replay lines). */
#include "bench/msggen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/sys.h"
#include "core/buf.h"
#include "core/err.h"

#define LW_MSGGEN_REPLAY_MAX ((size_t)256 << 20)

/* xorshift64*: deterministic per seed, so a ring can be rebuilt exactly. */
struct rng {
	uint64_t s;
};

static uint64_t
rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

static unsigned
rng_below(struct rng *r, unsigned n)
{
	return (unsigned)((rng_next(r) >> 32) % n);
}

#define PICK(r, arr) ((arr)[rng_below((r), sizeof(arr) / sizeof((arr)[0]))])

static const char *const users[] = {
	"root", "admin", "oracle", "postgres", "ubuntu", "test", "guest",
	"user", "tanaka", "suzuki", "sato", "takahashi", "watanabe", "ito",
	"yamamoto", "nakamura", "kobayashi", "kato", "yoshida", "git",
	"deploy", "backup", "nagios", "ftpuser", "support", "pi",
};

static const char *const host_roles[] = {
	"web", "db", "app", "mail", "fw", "dns", "vpn", "file", "ad", "jump",
	"print", "proxy",
};

/* The three zones of the README's zones map, as host-name prefixes and address blocks. */
static const char *const zone_prefix[] = { "mn", "lg", "in" };
static const unsigned zone_net[] = { 10, 20, 30 };

static const char *const commands[] = {
	"/usr/bin/systemctl restart nginx", "/usr/bin/apt-get update",
	"/usr/bin/journalctl -u sshd", "/bin/cat /etc/shadow",
	"/usr/sbin/iptables -L -n", "/usr/bin/tail -f /var/log/auth.log",
	"/usr/bin/vi /etc/hosts", "/usr/sbin/useradd -m tmpuser",
};

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char *const cron_cmds[] = {
	"/usr/lib/sa/sa1 1 1", "test -x /usr/sbin/anacron || run-parts /etc/cron.daily",
	"/usr/local/bin/backup.sh >/dev/null 2>&1", "command -v debian-sa1 > /dev/null && debian-sa1 1 1",
	"/usr/bin/logrotate /etc/logrotate.conf",
};

struct gen {
	struct rng r;
	unsigned hosts;
	int sources;        /* attacker addresses are placeholders */
	size_t msg_start;   /* where the message being rendered starts */
	size_t src_rel;     /* its placeholder, relative to msg_start, or NO */
};

static void
put_internal_ip(struct lw_buf *b, struct gen *g)
{
	lw_buf_printf(b, "10.%u.%u.%u", zone_net[rng_below(&g->r, 3)],
		      rng_below(&g->r, 256), 1 + rng_below(&g->r, 254));
}

/* Attackers come from the documentation blocks (RFC 5737), never from a
 * real network, half of the time; the rest is internal traffic. */
static void
put_any_ip(struct lw_buf *b, struct gen *g)
{
	static const char *const ext[] = { "192.0.2.", "198.51.100.", "203.0.113." };

	if (rng_below(&g->r, 2) == 0) {
		put_internal_ip(b, g);
		return;
	}
	if (g->sources) {
		char ph[LW_MSGGEN_SRC_LEN];

		lw_msggen_source(ph, 0);
		g->src_rel = b->len - g->msg_start;
		lw_buf_append(b, ph, LW_MSGGEN_SRC_LEN);
		return;
	}
	lw_buf_printf(b, "%s%u", PICK(&g->r, ext), 1 + rng_below(&g->r, 254));
}

static unsigned
high_port(struct gen *g)
{
	return 1024 + rng_below(&g->r, 64512);
}

struct tmpl {
	const char *app;
	unsigned pri;       /* facility * 8 + severity */
	unsigned weight;
	int has_pid;
	void (*body)(struct lw_buf *b, struct gen *g);
};

static void
ssh_failed(struct lw_buf *b, struct gen *g)
{
	lw_buf_printf(b, "Failed password for %s from ", PICK(&g->r, users));
	put_any_ip(b, g);
	lw_buf_printf(b, " port %u ssh2", high_port(g));
}

static void
ssh_failed_invalid(struct lw_buf *b, struct gen *g)
{
	lw_buf_printf(b, "Failed password for invalid user %s from ", PICK(&g->r, users));
	put_any_ip(b, g);
	lw_buf_printf(b, " port %u ssh2", high_port(g));
}

static void
ssh_invalid_user(struct lw_buf *b, struct gen *g)
{
	lw_buf_printf(b, "Invalid user %s from ", PICK(&g->r, users));
	put_any_ip(b, g);
	lw_buf_printf(b, " port %u", high_port(g));
}

static void
ssh_accepted(struct lw_buf *b, struct gen *g)
{
	if (rng_below(&g->r, 2) == 0) {
		lw_buf_printf(b, "Accepted password for %s from ", PICK(&g->r, users));
		put_internal_ip(b, g);
		lw_buf_printf(b, " port %u ssh2", high_port(g));
		return;
	}
	lw_buf_printf(b, "Accepted publickey for %s from ", PICK(&g->r, users));
	put_internal_ip(b, g);
	lw_buf_printf(b, " port %u ssh2: ED25519 SHA256:", high_port(g));
	/* An OpenSSH fingerprint: 43 characters of unpadded base64. */
	for (int i = 0; i < 43; i++)
		lw_buf_putc(b, b64[rng_below(&g->r, 64)]);
}

static void
ssh_closed(struct lw_buf *b, struct gen *g)
{
	lw_buf_printf(b, "Connection closed by authenticating user %s ",
		      PICK(&g->r, users));
	put_any_ip(b, g);
	lw_buf_printf(b, " port %u [preauth]", high_port(g));
}

static void
ssh_session(struct lw_buf *b, struct gen *g)
{
	lw_buf_printf(b, "pam_unix(sshd:session): session %s for user %s(uid=%u) by (uid=0)",
		      rng_below(&g->r, 2) ? "opened" : "closed", PICK(&g->r, users),
		      1000 + rng_below(&g->r, 200));
}

/* A netfilter LOG line as the kernel prints it (iptables or nftables
 * prefix), with the fields decoders extract: SRC DST PROTO SPT DPT. */
static void
kernel_fw(struct lw_buf *b, struct gen *g)
{
	static const char *const prefix[] = {
		"[UFW BLOCK] ", "iptables-drop: ", "nft-drop-in: ", "FW-IN-REJECT: ",
	};
	static const unsigned dports[] = { 22, 23, 25, 53, 80, 110, 139, 443, 445,
					   1433, 3306, 3389, 5432, 5900, 8080 };
	int tcp = rng_below(&g->r, 4) != 0;

	lw_buf_printf(b, "[%u.%06u] %sIN=eth%u OUT= MAC=52:54:00:%02x:%02x:%02x SRC=",
		      100 + rng_below(&g->r, 900000), rng_below(&g->r, 1000000),
		      PICK(&g->r, prefix), rng_below(&g->r, 2), rng_below(&g->r, 256),
		      rng_below(&g->r, 256), rng_below(&g->r, 256));
	put_any_ip(b, g);
	lw_buf_puts(b, " DST=");
	put_internal_ip(b, g);
	lw_buf_printf(b, " LEN=%u TTL=%u PROTO=%s SPT=%u DPT=%u",
		      tcp ? 60 : 40 + rng_below(&g->r, 400), 32 + rng_below(&g->r, 96),
		      tcp ? "TCP" : "UDP", high_port(g), PICK(&g->r, dports));
	if (tcp)
		lw_buf_puts(b, " WINDOW=64240 SYN URGP=0");
}

static void
sudo_cmd(struct lw_buf *b, struct gen *g)
{
	const char *u = PICK(&g->r, users);

	lw_buf_printf(b, "%s : TTY=pts/%u ; PWD=/home/%s ; USER=root ; COMMAND=%s",
		      u, rng_below(&g->r, 8), u, PICK(&g->r, commands));
}

static void
sudo_fail(struct lw_buf *b, struct gen *g)
{
	const char *u = PICK(&g->r, users);

	lw_buf_printf(b, "pam_unix(sudo:auth): authentication failure; logname=%s "
		      "uid=%u euid=0 tty=/dev/pts/%u ruser=%s rhost=  user=%s",
		      u, 1000 + rng_below(&g->r, 200), rng_below(&g->r, 8), u, u);
}

static void
cron_run(struct lw_buf *b, struct gen *g)
{
	if (rng_below(&g->r, 3) == 0) {
		lw_buf_puts(b, "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)");
		return;
	}
	lw_buf_printf(b, "(root) CMD (%s)", PICK(&g->r, cron_cmds));
}

static void
su_event(struct lw_buf *b, struct gen *g)
{
	const char *u = PICK(&g->r, users);

	switch (rng_below(&g->r, 3)) {
	case 0:
		lw_buf_printf(b, "(to root) %s on pts/%u", u, rng_below(&g->r, 8));
		break;
	case 1:
		lw_buf_printf(b, "FAILED SU (to root) %s on pts/%u", u, rng_below(&g->r, 8));
		break;
	default:
		lw_buf_printf(b, "pam_unix(su:auth): authentication failure; logname=%s "
			      "uid=%u euid=0 tty=pts/%u ruser=%s rhost=  user=root",
			      u, 1000 + rng_below(&g->r, 200), rng_below(&g->r, 8), u);
		break;
	}
}

static void
dhclient(struct lw_buf *b, struct gen *g)
{
	if (rng_below(&g->r, 2)) {
		lw_buf_puts(b, "DHCPREQUEST for ");
		put_internal_ip(b, g);
		lw_buf_printf(b, " on eth%u to ", rng_below(&g->r, 2));
		put_internal_ip(b, g);
		lw_buf_printf(b, " port 67 (xid=0x%08x)", (unsigned)rng_next(&g->r));
		return;
	}
	lw_buf_puts(b, "DHCPACK of ");
	put_internal_ip(b, g);
	lw_buf_puts(b, " from ");
	put_internal_ip(b, g);
	lw_buf_printf(b, " (xid=0x%08x)", (unsigned)rng_next(&g->r));
}

static void
logind(struct lw_buf *b, struct gen *g)
{
	lw_buf_printf(b, "New session %u of user %s.", 1 + rng_below(&g->r, 90000),
		      PICK(&g->r, users));
}

/* Weights: an auth-log mix dominated by sshd brute force and firewall
 * drops, as on an Internet-facing server. */
static const struct tmpl templates[] = {
	{ "sshd", 4 * 8 + 6, 22, 1, ssh_failed },
	{ "sshd", 4 * 8 + 6, 10, 1, ssh_failed_invalid },
	{ "sshd", 4 * 8 + 6, 10, 1, ssh_invalid_user },
	{ "sshd", 4 * 8 + 6, 6, 1, ssh_accepted },
	{ "sshd", 4 * 8 + 6, 6, 1, ssh_closed },
	{ "sshd", 10 * 8 + 6, 6, 1, ssh_session },
	{ "kernel", 0 * 8 + 4, 20, 0, kernel_fw },
	{ "sudo", 10 * 8 + 5, 5, 0, sudo_cmd },
	{ "sudo", 10 * 8 + 5, 2, 0, sudo_fail },
	{ "CRON", 9 * 8 + 6, 6, 1, cron_run },
	{ "su", 10 * 8 + 5, 3, 1, su_event },
	{ "dhclient", 3 * 8 + 6, 2, 1, dhclient },
	{ "systemd-logind", 4 * 8 + 6, 2, 1, logind },
};

static const struct tmpl *
pick_template(struct gen *g)
{
	unsigned total = 0, x;

	for (size_t i = 0; i < sizeof(templates) / sizeof(templates[0]); i++)
		total += templates[i].weight;
	x = rng_below(&g->r, total);
	for (size_t i = 0; i < sizeof(templates) / sizeof(templates[0]); i++) {
		if (x < templates[i].weight)
			return &templates[i];
		x -= templates[i].weight;
	}
	return &templates[0];
}

static void
put_host(struct lw_buf *b, struct gen *g)
{
	unsigned h = rng_below(&g->r, g->hosts);
	unsigned nroles = sizeof(host_roles) / sizeof(host_roles[0]);

	lw_buf_printf(b, "%s-%s%02u", zone_prefix[h % 3], host_roles[(h / 3) % nroles],
		      1 + h / (3 * nroles));
}

static const char seq_placeholder[LW_MSGGEN_SEQ_LEN + 1] = "0000-000000000000";

/* Appends one message (no framing) and returns where its timestamp and
 * sequence field start, relative to the message start. */
static void
render_message(struct lw_buf *b, struct gen *g, const struct lw_msggen_clock *clk,
	       enum lw_msggen_format fmt, size_t *ts_rel, size_t *seq_rel)
{
	const struct tmpl *t = pick_template(g);
	size_t start = b->len;
	unsigned pid = 300 + rng_below(&g->r, 65000);

	g->msg_start = start;
	g->src_rel = (size_t)-1;
	lw_buf_printf(b, "<%u>", t->pri);
	if (fmt == LW_MSGGEN_RFC5424)
		lw_buf_puts(b, "1 ");
	*ts_rel = b->len - start;
	lw_buf_append(b, clk->text, clk->len);
	lw_buf_putc(b, ' ');
	put_host(b, g);
	if (fmt == LW_MSGGEN_RFC5424) {
		if (t->has_pid)
			lw_buf_printf(b, " %s %u - [lwbench@32473 seq=\"", t->app, pid);
		else
			lw_buf_printf(b, " %s - - [lwbench@32473 seq=\"", t->app);
		*seq_rel = b->len - start;
		lw_buf_append(b, seq_placeholder, LW_MSGGEN_SEQ_LEN);
		lw_buf_puts(b, "\"] ");
		t->body(b, g);
		return;
	}
	if (t->has_pid)
		lw_buf_printf(b, " %s[%u]: ", t->app, pid);
	else
		lw_buf_printf(b, " %s: ", t->app);
	t->body(b, g);
	lw_buf_puts(b, " seq=");
	*seq_rel = b->len - start;
	lw_buf_append(b, seq_placeholder, LW_MSGGEN_SEQ_LEN);
}

static void
render_replay(struct lw_buf *b, const struct lw_msggen_lines *lines, size_t i,
	      int no_seq, size_t *seq_rel)
{
	size_t start = b->len;

	lw_buf_append(b, lines->text + lines->off[i], lines->len[i]);
	if (no_seq) {
		*seq_rel = (size_t)-1;
		return;
	}
	lw_buf_puts(b, " seq=");
	*seq_rel = b->len - start;
	lw_buf_append(b, seq_placeholder, LW_MSGGEN_SEQ_LEN);
}

/* Frames the message that starts at <mstart> in <msg> (already rendered
 * there) into <out>, returning the offset of the message inside the frame. */
static size_t
frame_message(struct lw_buf *out, const char *msg, size_t mlen,
	      enum lw_msggen_framing framing)
{
	size_t before = out->len, moff;

	if (framing == LW_MSGGEN_OCTET)
		lw_buf_printf(out, "%zu ", mlen);
	moff = out->len - before;
	lw_buf_append(out, msg, mlen);
	if (framing == LW_MSGGEN_LF)
		lw_buf_putc(out, '\n');
	return moff;
}

int
lw_msggen_ring_build(struct lw_msggen_ring *ring, const struct lw_msggen_cfg *cfg,
		     const struct lw_msggen_lines *replay, time_t now)
{
	struct lw_buf out, msg;
	struct lw_msggen_clock clk;
	struct timespec ts = { .tv_sec = now, .tv_nsec = 0 };
	struct gen g;
	size_t n = replay ? replay->n : cfg->ring;
	int rc = LW_ENOMEM;

	memset(ring, 0, sizeof(*ring));
	lw_buf_init(&out);
	lw_buf_init(&msg);
	ring->format = cfg->format;
	ring->framing = cfg->framing;
	g.r.s = cfg->seed * 0x9E3779B97F4A7C15ULL + 1; /* never 0 */
	g.hosts = cfg->hosts ? cfg->hosts : 1;
	g.sources = cfg->sources > 0 && replay == NULL;
	lw_msggen_clock_init(&clk, cfg->format);
	lw_msggen_clock_update(&clk, &ts);

	ring->slots = calloc(n ? n : 1, sizeof(*ring->slots));
	if (ring->slots == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		size_t ts_rel = 0, seq_rel = 0, moff, off = out.len;

		lw_buf_reset(&msg);
		g.src_rel = (size_t)-1;
		if (replay)
			render_replay(&msg, replay, i, cfg->no_seq, &seq_rel);
		else
			render_message(&msg, &g, &clk, cfg->format, &ts_rel, &seq_rel);
		moff = frame_message(&out, msg.data, msg.len, cfg->framing);
		if (msg.oom || out.oom)
			goto fail;
		if (out.len > UINT32_MAX) {
			rc = LW_ETOOBIG;
			goto fail;
		}
		ring->slots[i].off = (uint32_t)off;
		ring->slots[i].len = (uint32_t)(out.len - off);
		ring->slots[i].ts_at = replay ? LW_MSGGEN_NO_TS
					      : (uint32_t)(off + moff + ts_rel);
		ring->slots[i].seq_at = seq_rel == (size_t)-1 ? LW_MSGGEN_NO_SEQ :
			(uint32_t)(off + moff + seq_rel);
		ring->slots[i].src_at = g.src_rel == (size_t)-1 ? LW_MSGGEN_NO_SRC :
			(uint32_t)(off + moff + g.src_rel);
		if (ring->slots[i].len > ring->max_frame)
			ring->max_frame = ring->slots[i].len;
	}
	ring->n = n;
	ring->bytes = out.len;
	ring->buf = out.data; /* the ring takes the buffer */
	lw_buf_release(&msg);
	return LW_OK;

fail:
	lw_buf_release(&out);
	lw_buf_release(&msg);
	free(ring->slots);
	ring->slots = NULL;
	return rc;
}

int
lw_msggen_render_attempt(struct lw_buf *out, const struct lw_msggen_cfg *cfg,
			 const char *ip, unsigned port, const char *host,
			 size_t *ts_at, size_t *seq_at)
{
	struct lw_msggen_clock clk;
	struct lw_buf msg;
	struct timespec now = { .tv_sec = time(NULL), .tv_nsec = 0 };
	size_t ts_rel, seq_rel, moff, off = out->len;

	lw_buf_init(&msg);
	lw_msggen_clock_init(&clk, cfg->format);
	lw_msggen_clock_update(&clk, &now);
	lw_buf_printf(&msg, "<38>%s", cfg->format == LW_MSGGEN_RFC5424 ? "1 " : "");
	ts_rel = msg.len;
	lw_buf_append(&msg, clk.text, clk.len);
	if (cfg->format == LW_MSGGEN_RFC5424) {
		lw_buf_printf(&msg, " %s sshd %u - [lwbench@32473 seq=\"", host, port);
		seq_rel = msg.len;
		lw_buf_append(&msg, seq_placeholder, LW_MSGGEN_SEQ_LEN);
		lw_buf_printf(&msg, "\"] Failed password for root from %s port %u ssh2", ip, port);
	} else {
		lw_buf_printf(&msg, " %s sshd[%u]: Failed password for root from %s port %u ssh2 seq=",
			      host, port, ip, port);
		seq_rel = msg.len;
		lw_buf_append(&msg, seq_placeholder, LW_MSGGEN_SEQ_LEN);
	}
	int rc;

	moff = frame_message(out, msg.data, msg.len, cfg->framing);
	*ts_at = off + moff + ts_rel;
	*seq_at = off + moff + seq_rel;
	rc = out->oom || msg.oom ? LW_ENOMEM : LW_OK;
	lw_buf_release(&msg);
	return rc;
}

void
lw_msggen_ring_release(struct lw_msggen_ring *ring)
{
	free(ring->buf);
	free(ring->slots);
	memset(ring, 0, sizeof(*ring));
}

void
lw_msggen_clock_init(struct lw_msggen_clock *clk, enum lw_msggen_format format)
{
	memset(clk, 0, sizeof(*clk));
	clk->format = format;
	clk->sec = (time_t)-1;
	clk->len = format == LW_MSGGEN_RFC5424 ? 32 : 15;
}

static void
put_digits(char *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Local time on purpose: an RFC 3164 receiver reads these stamps in its
 * own zone (docs/parsing.md), and both run on the same machine. */
static void
render_clock(struct lw_msggen_clock *clk, time_t sec)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	char *p = clk->text;

	if (localtime_r(&sec, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	if (clk->format == LW_MSGGEN_RFC3164) {
		/* "Nov  5 12:30:05": the day is space-padded (RFC 3164 4.1.2). */
		memcpy(p, months + 3 * (tm.tm_mon % 12), 3);
		p[3] = ' ';
		p[4] = tm.tm_mday < 10 ? ' ' : (char)('0' + tm.tm_mday / 10);
		p[5] = (char)('0' + tm.tm_mday % 10);
		p[6] = ' ';
		put_digits(p + 7, (unsigned)tm.tm_hour, 2);
		p[9] = ':';
		put_digits(p + 10, (unsigned)tm.tm_min, 2);
		p[12] = ':';
		put_digits(p + 13, (unsigned)tm.tm_sec, 2);
	} else {
		/* Always "+hh:mm", never "Z", so the width is fixed at 32. */
		long off = tm.tm_gmtoff / 60;
		char sign = off < 0 ? '-' : '+';

		if (off < 0)
			off = -off;
		put_digits(p, (unsigned)(tm.tm_year + 1900) % 10000, 4);
		p[4] = '-';
		put_digits(p + 5, (unsigned)tm.tm_mon + 1, 2);
		p[7] = '-';
		put_digits(p + 8, (unsigned)tm.tm_mday, 2);
		p[10] = 'T';
		put_digits(p + 11, (unsigned)tm.tm_hour, 2);
		p[13] = ':';
		put_digits(p + 14, (unsigned)tm.tm_min, 2);
		p[16] = ':';
		put_digits(p + 17, (unsigned)tm.tm_sec, 2);
		p[19] = '.';
		put_digits(p + 20, 0, 6);
		p[26] = sign;
		put_digits(p + 27, (unsigned)(off / 60) % 100, 2);
		p[29] = ':';
		put_digits(p + 30, (unsigned)(off % 60), 2);
	}
	clk->text[clk->len] = '\0';
	clk->sec = sec;
}

void
lw_msggen_clock_update(struct lw_msggen_clock *clk, const struct timespec *now)
{
	if (now->tv_sec != clk->sec)
		render_clock(clk, now->tv_sec);
	if (clk->format == LW_MSGGEN_RFC5424)
		put_digits(clk->text + 20, (unsigned)(now->tv_nsec / 1000), 6);
}

void
lw_msggen_seq_init(char *seq, unsigned conn, uint64_t n)
{
	put_digits(seq, conn % 10000, LW_MSGGEN_CONN_DIGITS);
	seq[LW_MSGGEN_CONN_DIGITS] = '-';
	for (int i = LW_MSGGEN_SEQ_LEN - 1; i > LW_MSGGEN_CONN_DIGITS; i--) {
		seq[i] = (char)('0' + n % 10);
		n /= 10;
	}
}

static int
lines_add(struct lw_msggen_lines *l, size_t *cap, size_t off, size_t len)
{
	if (l->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		size_t *noff = realloc(l->off, ncap * sizeof(*noff));

		if (noff == NULL)
			return LW_ENOMEM;
		l->off = noff;
		uint32_t *nlen = realloc(l->len, ncap * sizeof(*nlen));
		if (nlen == NULL)
			return LW_ENOMEM;
		l->len = nlen;
		*cap = ncap;
	}
	l->off[l->n] = off;
	l->len[l->n] = (uint32_t)len;
	l->n++;
	return LW_OK;
}

static int
read_file(const char *path, struct lw_buf *b, struct lw_diag *diag)
{
	FILE *f = fopen(path, "rb");
	char ebuf[128];
	int rc = LW_OK;

	if (f == NULL) {
		int e = errno;

		rc = lw_diag_set(diag, LW_EIO, path, 0, 0, "cannot open replay file: %s",
				 lw_sys_strerror(e, ebuf, sizeof(ebuf)));
		if (diag)
			diag->sys_errno = e;
		return rc;
	}
	for (;;) {
		if (lw_buf_reserve(b, 1 << 16) != LW_OK) {
			rc = LW_ENOMEM;
			goto out;
		}
		size_t got = fread(b->data + b->len, 1, b->cap - b->len, f);
		b->len += got;
		if (b->len > LW_MSGGEN_REPLAY_MAX) {
			rc = lw_diag_set(diag, LW_ETOOBIG, path, 0, 0,
					 "replay file is over 256 MiB");
			goto out;
		}
		if (got == 0)
			break;
	}
	if (ferror(f))
		rc = lw_diag_set(diag, LW_EIO, path, 0, 0, "cannot read replay file");
out:
	fclose(f);
	return rc;
}

int
lw_msggen_lines_load(const char *path, struct lw_msggen_lines *out,
		     struct lw_diag *diag)
{
	struct lw_buf b;
	size_t cap = 0, pos = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	lw_buf_init(&b);
	rc = read_file(path, &b, diag);
	if (rc != LW_OK)
		goto fail;
	while (pos < b.len) {
		const char *nl = memchr(b.data + pos, '\n', b.len - pos);
		size_t end = nl ? (size_t)(nl - b.data) : b.len;
		size_t len = end - pos;

		if (len > 0 && b.data[pos + len - 1] == '\r')
			len--;
		if (len > LW_MSGGEN_MAX_MSG - 64) {
			rc = lw_diag_set(diag, LW_ETOOBIG, path, (int)(out->n + 1), 0,
					 "line is longer than %d bytes",
					 LW_MSGGEN_MAX_MSG - 64);
			goto fail;
		}
		if (len > 0) {
			rc = lines_add(out, &cap, pos, len);
			if (rc != LW_OK)
				goto fail;
		}
		pos = end + 1;
	}
	if (out->n == 0) {
		rc = lw_diag_set(diag, LW_EINVAL, path, 0, 0, "replay file has no lines");
		goto fail;
	}
	out->text = b.data;
	return LW_OK;

fail:
	lw_buf_release(&b);
	lw_msggen_lines_release(out);
	return rc;
}

void
lw_msggen_lines_release(struct lw_msggen_lines *lines)
{
	free(lines->text);
	free(lines->off);
	free(lines->len);
	memset(lines, 0, sizeof(*lines));
}

const char *
lw_msggen_format_name(enum lw_msggen_format f)
{
	return f == LW_MSGGEN_RFC5424 ? "rfc5424" : "rfc3164";
}

const char *
lw_msggen_framing_name(enum lw_msggen_framing f)
{
	switch (f) {
	case LW_MSGGEN_LF: return "lf";
	case LW_MSGGEN_OCTET: return "octet";
	case LW_MSGGEN_DGRAM: return "dgram";
	}
	return "?";
}
