/* cli/cmd_serve.c - `logward serve [-c FILE] [--ports-file FILE]`
 * (lw_cmd_serve): load the config, open the store, bind the listeners,
 * start the writer, run the collector loop until SIGTERM/SIGINT, then
 * drain and commit. Main thread = collector thread. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "collector/forward.h"
#include "collector/natsin.h"
#include "collector/notify.h"
#include "collector/notifyclaim.h"
#include "collector/health.h"
#include "collector/metrics.h"
#include "collector/pipeline.h"
#include "collector/sdnotify.h"
#include "collector/serve.h"
#include "collector/tls.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/err.h"
#include "core/log.h"
#include "correlator/correlation.h"
#include "correlator/diags.h"
#include "correlator/ruleset.h"
#include "store/store.h"
#include "web/web.h"

/* At stop, queued notifications get this long to go out. */
#define NOTIFY_DRAIN_MS 5000
/* What a stopping edge gives the stream to acknowledge what is in flight. */
#define FORWARD_DRAIN_MS 2000

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward serve [-c FILE] [--ports-file FILE] [-v]\n"
		"\n"
		"Runs the collector: listens as configured, stores every message\n"
		"in the data directory, stops cleanly on SIGTERM/SIGINT (everything\n"
		"read is committed before exit).\n"
		"\n"
		"  -c, --config FILE     YAML config (default: built-in loopback\n"
		"                        UDP+TCP 5514, unix socket, ./var/logward)\n"
		"      --ports-file FILE write one line per bound listener (again\n"
		"                        after each reload), e.g.\n"
		"                        'udp 127.0.0.1:40001' (port 0 = ephemeral)\n"
		"  -v, --verbose         log debug messages\n");
}

static void print_diag(const char *what, const struct lw_diag *diag, int rc)
{
	char msg[1024];

	lw_diag_format(diag, msg, sizeof(msg));
	fprintf(stderr, "logward serve: %s: %s\n", what,
		msg[0] ? msg : lw_strerror(rc));
}

/* Written to a new file beside FILE and renamed over it, so a test
 * polling for the file never reads half of it. The temporary name is
 * made by mkstemp (O_CREAT | O_EXCL, random): a fixed FILE.tmp could be a
 * symlink someone planted, and we would write through it as root. */
static int write_ports(const char *path, const struct lw_serve *s,
		       const struct lw_metrics *metrics, const struct lw_web *web)
{
	char tmp[4096], line[256];
	FILE *f;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return LW_EINVAL;
	fd = mkstemp(tmp);
	if (fd == -1)
		return LW_EIO;
	f = fchmod(fd, 0644) == 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL) {
		close(fd);
		unlink(tmp);
		return LW_EIO;
	}
	for (size_t i = 0; i < lw_serve_listener_count(s); i++) {
		lw_serve_describe(s, i, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	if (metrics != NULL) {
		lw_metrics_describe(metrics, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	if (web != NULL) {
		lw_web_describe(web, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return LW_EIO;
	}
	return LW_OK;
}

/* What the reload hook needs to rewrite the ports file. */
struct ports_file {
	const char *path;
	const struct lw_serve *serve;
	const struct lw_metrics *metrics;
	const struct lw_web *web;
	const struct lw_log *log;
};

/* lw_serve_opts.reloaded: a reload may have added or removed listeners. */
static void rewrite_ports(void *arg)
{
	const struct ports_file *pf = arg;

	if (pf->path != NULL && pf->serve != NULL &&
	    write_ports(pf->path, pf->serve, pf->metrics, pf->web) != LW_OK)
		lw_log(pf->log, LW_LOG_ERR, "reload", "cannot rewrite the ports file",
		       "path", pf->path, NULL);
}

/* Every error of every rule file (file:line: reason); warnings with -v. */
static int load_rules(const struct lw_config *cfg, const struct lw_log *log,
		      int verbose, struct lw_ruleset **rs,
		      struct lw_correlation **corr)
{
	struct lw_diags diags;
	char line[1024];
	int no_rules, rc;

	lw_diags_init(&diags);
	rc = lw_pipeline_load_rules(cfg, rs, corr, &diags, &no_rules);
	for (size_t i = 0; i < diags.count; i++) {
		if (diags.items[i].severity == LW_DIAG_WARNING && !verbose)
			continue;
		lw_diags_format(&diags.items[i], line, sizeof(line));
		fprintf(stderr, "logward serve: %s\n", line);
	}
	if (rc != LW_OK)
		fprintf(stderr, "logward serve: cannot load rules: %zu error(s)%s\n",
			diags.nerrors, rc == LW_ENOMEM ? " (out of memory)" : "");
	else if (no_rules)
		lw_log(log, LW_LOG_NOTICE, "correlator",
		       "no rule directory; running without rules", "default",
		       cfg->nrule_dirs ? cfg->rule_dirs[0] : "", NULL);
	else if (diags.nwarnings > 0 && !verbose) {
		snprintf(line, sizeof(line), "%zu", diags.nwarnings);
		lw_log(log, LW_LOG_INFO, "correlator", "rules loaded with warnings (-v lists them)",
		       "warnings", line, NULL);
	}
	lw_diags_release(&diags);
	return rc;
}

static void restore_counters(struct lw_store *st, struct lw_counters *ctr)
{
	struct lw_buf snap;

	lw_buf_init(&snap);
	if (lw_store_load_counters(st, &snap, NULL) == LW_OK && snap.len > 0)
		lw_counters_merge(ctr, snap.data, snap.len);
	lw_buf_release(&snap);
}

/* ---- dropping root --------------------------------------------------------- */

/* The user serve runs as once its sockets are bound. */
struct run_as {
	int drop;          /* started as root and user is not root */
	uid_t uid;
	gid_t gid;
	char name[LW_NAME_MAX];
	char dirs[8][PATH_MAX]; /* data directories serve creates (chowned) */
	size_t ndirs;
};

static int lookup_user(const char *name, struct run_as *r)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -1;
	r->uid = pw.pw_uid;
	r->gid = pw.pw_gid;
	snprintf(r->name, sizeof(r->name), "%s", pw.pw_name);
	return 0;
}

/* Who to become (README `user`): the configured user, else `logward`
 * when it exists, else `nobody`. Started as another user, serve stays
 * that user, and a configured user other than it is an error: it could
 * not switch. 0, or -1 having said why on stderr. */
static int choose_user(const struct lw_config *cfg, struct run_as *r)
{
	struct run_as self;

	memset(r, 0, sizeof(*r));
	if (geteuid() != 0) {
		if (cfg->user[0] == '\0' || (lookup_user(cfg->user, &self) == 0 &&
					      self.uid == geteuid()))
			return 0;
		fprintf(stderr, "logward serve: cannot switch to user '%s': serve was started "
			"as uid %u, not root (start it as root, or as that user)\n",
			cfg->user, (unsigned)geteuid());
		return -1;
	}
	if (cfg->user[0] != '\0' ? lookup_user(cfg->user, r) != 0 :
	    lookup_user("logward", r) != 0 && lookup_user("nobody", r) != 0) {
		fprintf(stderr, "logward serve: user '%s' does not exist: set `user` in the "
			"configuration to the account serve should run as\n",
			cfg->user[0] ? cfg->user : "nobody");
		return -1;
	}
	r->drop = r->uid != 0;
	return 0;
}

/* The directories of data_dir that do not exist yet (serve makes them),
 * deepest last; they are given to the user serve runs as. */
static void note_new_dirs(const char *data_dir, struct run_as *r)
{
	char path[PATH_MAX];
	size_t n;

	r->ndirs = 0;
	if (!r->drop || snprintf(path, sizeof(path), "%s", data_dir) >= (int)sizeof(path))
		return;
	for (n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
		path[n - 1] = '\0';
	while (access(path, F_OK) != 0 && errno == ENOENT && r->ndirs < 8) {
		char *slash;

		memmove(r->dirs[1], r->dirs[0], r->ndirs * sizeof(r->dirs[0]));
		snprintf(r->dirs[0], sizeof(r->dirs[0]), "%s", path);
		r->ndirs++;
		slash = strrchr(path, '/');
		if (slash == NULL || slash == path)
			break;
		*slash = '\0';
	}
}

/* A data directory serve made, and the store files it made in it,
 * belong to the user it runs as: it removes its socket there at exit,
 * and a later start as that user (systemd's User=) can open them. A
 * directory that existed is left as it is: the store is open by then
 * (its descriptors stay usable), and whose it is is the operator's call. */
static int give_new_dirs(const struct run_as *r)
{
	static const char *const files[] = {"data.mdb", "lock.mdb"};
	char path[PATH_MAX + 16];

	for (size_t i = 0; i < r->ndirs; i++)
		if (lchown(r->dirs[i], r->uid, r->gid) != 0)
			return -1;
	for (size_t i = 0; r->ndirs > 0 && i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", r->dirs[r->ndirs - 1], files[i]);
		if (lchown(path, r->uid, r->gid) != 0 && errno != ENOENT)
			return -1;
	}
	return 0;
}

/* Becomes r's user for good: supplementary groups, group, then user
 * (real, effective and saved), and checks that root cannot be regained.
 * From root to another user the kernel clears every capability. 0 or -1
 * (errno set). */
static int become(const struct run_as *r)
{
	if (initgroups(r->name, r->gid) != 0 || setresgid(r->gid, r->gid, r->gid) != 0 ||
	    setresuid(r->uid, r->uid, r->uid) != 0)
		return -1;
	if (setuid(0) == 0 || geteuid() == 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* What the daemon reads later by path, checked once as its new user: a
 * reload that cannot read them fails then, so say it now. */
static void warn_unreadable(const struct lw_config *cfg, const struct run_as *r,
			    const struct lw_log *log)
{
	if (cfg->path[0] != '\0' && access(cfg->path, R_OK) != 0)
		lw_log(log, LW_LOG_WARNING, "serve",
		       "the configuration cannot be read as this user; a reload will fail",
		       "user", r->name, "path", cfg->path, NULL);
	for (size_t i = 0; i < cfg->nrule_dirs; i++)
		if (access(cfg->rule_dirs[i], R_OK | X_OK) != 0 && errno != ENOENT)
			lw_log(log, LW_LOG_WARNING, "serve",
			       "a rule directory cannot be read as this user; a reload will fail",
			       "user", r->name, "path", cfg->rule_dirs[i], NULL);
}

static int drop_root(const struct lw_config *cfg, const struct run_as *r,
		     const struct lw_log *log)
{
	char ebuf[128], uid[32];

	if (geteuid() == 0 && !r->drop) {
		lw_log(log, LW_LOG_WARNING, "serve", "running as root (user: root)", NULL);
		return 0;
	}
	if (!r->drop)
		return 0;
	if (give_new_dirs(r) != 0 || become(r) != 0) {
		fprintf(stderr, "logward serve: cannot switch to user '%s': %s\n", r->name,
			strerror_r(errno, ebuf, sizeof(ebuf)));
		return -1;
	}
	snprintf(uid, sizeof(uid), "%u", (unsigned)r->uid);
	lw_log(log, LW_LOG_NOTICE, "serve", "dropped root", "user", r->name, "uid", uid, NULL);
	warn_unreadable(cfg, r, log);
	return 0;
}

/* The forwarder and the nats consumer as the metrics thread sees them:
 * set once they run, cleared before they stop (the metrics server stops
 * first anyway). */
struct relay_view {
	_Atomic(struct lw_forward *) fwd;
	_Atomic(struct lw_natsin *) natsin;
};

static void relay_gauges(void *arg, struct lw_metrics_gauges *g)
{
	struct relay_view *v = arg;
	struct lw_forward *f = atomic_load(&v->fwd);
	struct lw_natsin *n = atomic_load(&v->natsin);

	if (f != NULL) {
		struct lw_forward_gauges fg;

		lw_forward_gauges(f, &fg);
		g->have_forward = 1;
		g->forward_in_flight = fg.in_flight;
		g->forward_lag_events = fg.lag_events;
		g->forward_lag_seconds = fg.lag_ns / 1000000000;
		g->forward_connected = fg.connected;
	}
	if (n != NULL) {
		g->have_consumer = 1;
		g->consumer_lag = lw_natsin_lag(n);
	}
}

/* POST /api/v1/rules/reload: the same path as `systemctl reload`, so a
 * reload from the console is checked, logged and swapped like any other. */
static void reload_by_signal(void *arg)
{
	(void)arg;
	kill(getpid(), SIGHUP);
}

/* The overview's health: the loss watcher's gauges (any thread). */
static void health_gauges(void *arg, int *storage_failing, uint32_t *loss_episodes)
{
	const struct lw_health *h = arg;

	*storage_failing = lw_health_gauge_storage_failing(h);
	*loss_episodes = lw_health_gauge_losses(h);
}

/* The console (web/): HTTPS with the TLS listener's context code when the
 * api section names a certificate. */
static int start_web(const struct lw_config *cfg, struct lw_store *store,
		     const struct lw_counters *counters, const struct lw_log *log,
		     struct lw_health *health, struct ssl_ctx_st **tls, struct lw_web **web,
		     struct lw_diag *diag)
{
	int rc;

	*tls = NULL;
	if (cfg->api.cert[0] != '\0') {
		struct lw_listener_config *lc = calloc(1, sizeof(*lc));

		if (lc == NULL)
			return LW_ENOMEM;
		lc->type = LW_LISTENER_TLS;
		snprintf(lc->cert, sizeof(lc->cert), "%s", cfg->api.cert);
		snprintf(lc->key, sizeof(lc->key), "%s", cfg->api.key);
		rc = lw_tls_ctx_new(lc, tls, diag);
		free(lc);
		if (rc != LW_OK)
			return rc;
	}
	return lw_web_start(&(struct lw_web_opts){
				.address = cfg->api.address, .tls = *tls,
				.api = {.store = store, .cfg = cfg, .counters = counters,
					.log = log, .reload_rules = reload_by_signal,
					.health = health_gauges, .health_arg = health}},
			    web, diag);
}

struct serve_args {
	const char *config;
	const char *ports_file;
	int verbose;
};

static int parse_args(int argc, char **argv, struct serve_args *a)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"ports-file", required_argument, NULL, 'P'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	memset(a, 0, sizeof(*a));
	a->ports_file = getenv("LW_PORTS_FILE");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': a->config = optarg; break;
		case 'P': a->ports_file = optarg; break;
		case 'v': a->verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

int lw_cmd_serve(int argc, char **argv)
{
	struct serve_args args;
	struct lw_config *cfg = NULL;
	struct lw_log log;
	struct lw_counters counters;
	struct lw_store *store = NULL;
	struct lw_serve *serve = NULL;
	struct lw_pipeline *pipe = NULL;
	struct lw_forward *fwd = NULL;
	struct lw_natsin *natsin = NULL;
	struct relay_view relay = {NULL, NULL};
	struct lw_ruleset *rs = NULL;
	struct lw_correlation *corr = NULL;
	struct lw_notify *notify = NULL;
	struct lw_notifyclaim *claims = NULL;
	struct lw_health *health = NULL;
	struct lw_metrics *metrics = NULL;
	struct lw_web *web = NULL;
	struct ssl_ctx_st *web_tls = NULL;
	struct lw_store_opts sopts = {0};
	struct ports_file ports = {0};
	struct lw_sdnotify *sdnotify = NULL;
	struct run_as run_as;
	struct lw_diag diag;
	int rc, code = 1;

	rc = parse_args(argc, argv, &args);
	if (rc >= 0)
		return rc;
	ports.path = args.ports_file;
	ports.log = &log;
	memset(&diag, 0, sizeof(diag));
	lw_log_init(&log, stderr, args.verbose ? LW_LOG_DEBUG : LW_LOG_INFO);
	lw_counters_init(&counters);
	/* A client that vanishes must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	/* SIGTERM, SIGINT and SIGHUP stay pending until lw_serve_run has its
	 * handlers: a stop during startup (systemd right after the start)
	 * then is a clean stop, not a kill that leaves the unix socket and
	 * the ports file behind. Threads started meanwhile inherit the mask,
	 * so the signals go to this thread. */
	lw_serve_hold_signals(SIG_BLOCK);

	cfg = malloc(sizeof(*cfg)); /* large: PATH_MAX fields per listener */
	if (cfg == NULL)
		goto out;
	rc = LW_OK;
	if (args.config != NULL)
		rc = lw_config_load(args.config, cfg, &diag);
	else
		lw_config_defaults(cfg);
	if (rc != LW_OK) {
		print_diag("invalid configuration", &diag, rc);
		goto out;
	}
	if (choose_user(cfg, &run_as) != 0)
		goto out;
	if (load_rules(cfg, &log, args.verbose, &rs, &corr) != LW_OK)
		goto out;
	note_new_dirs(cfg->data_dir, &run_as);
	sopts.map_size = cfg->storage.map_size;
	sopts.integrity_key = cfg->storage.integrity_key;
	sopts.max_age_s = cfg->storage.max_age_s;
	sopts.max_bytes = cfg->storage.max_bytes;
	sopts.keep_unforwarded = cfg->forward.enabled;
	rc = lw_store_open(cfg->data_dir, &sopts, &store, &diag);
	if (rc != LW_OK) {
		print_diag("cannot open store", &diag, rc);
		goto out;
	}
	restore_counters(store, &counters);
	rc = lw_sdnotify_open(&sdnotify, &diag);
	if (rc != LW_OK) {
		print_diag("cannot open systemd's notify socket", &diag, rc);
		goto out;
	}
	rc = lw_serve_new(&(struct lw_serve_opts){.cfg = cfg, .ruleset = rs,
				.correlation = corr, .log = &log,
				.counters = &counters, .handle_signals = 1,
				.reloaded = rewrite_ports, .reloaded_arg = &ports,
				.sdnotify = sdnotify,
				.watchdog_usec = lw_sdnotify_watchdog_usec()},
			  &serve, &diag);
	if (rc != LW_OK) {
		print_diag("cannot start listeners", &diag, rc);
		goto out;
	}
	for (size_t i = 0; i < lw_serve_listener_count(serve); i++) {
		char line[256];
		lw_serve_describe(serve, i, line, sizeof(line));
		lw_log(&log, LW_LOG_NOTICE, "collector", "listening", "on", line, NULL);
	}
	health = lw_health_new(&cfg->health, &log);
	if (health == NULL)
		goto out;
	if (cfg->forward.enabled)
		lw_health_set_lag_alert(health, cfg->forward.lag_alert_s);
	if (cfg->metrics_address[0] != '\0') {
		char line[256];

		rc = lw_metrics_start(&(struct lw_metrics_opts){
					.address = cfg->metrics_address, .counters = &counters,
					.health = health, .relay_gauges = relay_gauges,
					.relay_arg = &relay},
				      &metrics, &diag);
		if (rc != LW_OK) {
			print_diag("cannot start metrics", &diag, rc);
			goto out;
		}
		lw_metrics_describe(metrics, line, sizeof(line));
		lw_log(&log, LW_LOG_NOTICE, "collector", "serving", "on", line, NULL);
	}
	if (cfg->api.address[0] != '\0') {
		char line[256];

		rc = start_web(cfg, store, &counters, &log, health, &web_tls, &web, &diag);
		if (rc != LW_OK) {
			print_diag("cannot start the console", &diag, rc);
			goto out;
		}
		lw_web_describe(web, line, sizeof(line));
		lw_log(&log, LW_LOG_NOTICE, "web", "console", "on", line + 4, NULL);
	}
	ports.serve = serve;
	ports.metrics = metrics;
	ports.web = web;
	if (args.ports_file != NULL && write_ports(args.ports_file, serve, metrics, web) != LW_OK) {
		fprintf(stderr, "logward serve: cannot write '%s'\n", args.ports_file);
		goto out;
	}
	/* Everything that needs root is done: the store, the key file and
	 * every socket (listeners, metrics, console) are open. glibc's
	 * setresuid changes every thread, so the metrics and console threads
	 * already running lose root too; threads started later never had it. */
	if (drop_root(cfg, &run_as, &log) != 0)
		goto out;
	rc = lw_notify_start(&(struct lw_notify_opts){.outputs = cfg->notify,
				.noutputs = cfg->nnotify, .queue_max = cfg->notify_queue,
				.log = &log, .counters = &counters}, &notify, &diag);
	if (rc != LW_OK) {
		print_diag("cannot start notifications", &diag, rc);
		goto out;
	}
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		if (cfg->listeners[i].type != LW_LISTENER_NATS)
			continue;
		rc = lw_natsin_new(&(struct lw_natsin_opts){.lc = &cfg->listeners[i],
					.store = store, .log = &log, .counters = &counters},
				   &natsin, &diag);
		if (rc != LW_OK) {
			print_diag("cannot start the nats listener", &diag, rc);
			goto out;
		}
		/* Two central nodes raise the same incidents: each is
		 * notified by the node that claims it first. */
		if (cfg->listeners[i].notify_once && cfg->nnotify > 0) {
			rc = lw_notifyclaim_start(&(struct lw_notifyclaim_opts){
						.lc = &cfg->listeners[i], .notify = notify,
						.log = &log, .counters = &counters},
					  &claims, &diag);
			if (rc != LW_OK) {
				print_diag("cannot start notification claims", &diag, rc);
				goto out;
			}
		}
	}
	rc = lw_pipeline_start(&(struct lw_pipeline_opts){.cfg = cfg,
				.store = store, .log = &log, .counters = &counters,
				.ruleset = rs, .correlation = corr,
				.advance_wall_clock = 1, .yield_to_producer = 1,
				.notify = notify, .health = health,
				.resume_cb = lw_serve_resume, .resume_arg = serve,
				.committed_cb = natsin != NULL ? lw_natsin_committed : NULL,
				.committed_arg = natsin, .claims = claims},
			       &pipe, &diag);
	if (rc != LW_OK) {
		print_diag("cannot start writer", &diag, rc);
		goto out;
	}
	if (natsin != NULL && (rc = lw_natsin_run(natsin, pipe, &diag)) != LW_OK) {
		print_diag("cannot start the nats listener", &diag, rc);
		goto out;
	}
	atomic_store(&relay.natsin, natsin);
	if (cfg->forward.enabled) {
		rc = lw_forward_start(&(struct lw_forward_opts){.cfg = &cfg->forward,
					.store = store, .log = &log, .counters = &counters,
					.health = health},
				      &fwd, &diag);
		if (rc != LW_OK) {
			print_diag("cannot start forwarding", &diag, rc);
			goto out;
		}
		atomic_store(&relay.fwd, fwd);
		lw_log(&log, LW_LOG_NOTICE, "forward", "forwarding", "stream",
		       cfg->forward.stream, "node", cfg->forward.node, NULL);
	}
	code = lw_serve_run(serve, pipe, &diag) == LW_OK ? 0 : 1;
	if (code != 0)
		print_diag("collector failed", &diag, LW_EIO);
	lw_natsin_halt(natsin);
	rc = lw_pipeline_stop(pipe, &diag);
	pipe = NULL;
	if (rc != LW_OK) {
		print_diag("events could not be stored", &diag, rc);
		code = 1;
	} else {
		char n[32];
		snprintf(n, sizeof(n), "%llu", (unsigned long long)
			 lw_counters_get(&counters, LW_CTR_STORED));
		lw_log(&log, LW_LOG_NOTICE, "collector", "stopped", "stored", n, NULL);
	}
out:
	lw_natsin_halt(natsin);
	if (pipe != NULL)
		lw_pipeline_stop(pipe, NULL);
	/* The metrics thread reads the forwarder and the consumer. */
	lw_metrics_stop(metrics);
	metrics = NULL;
	lw_natsin_free(natsin);
	/* After the writer's last commit: what it stored goes out too when
	 * the stream answers within the grace. */
	lw_forward_stop(fwd, FORWARD_DRAIN_MS);
	lw_web_stop(web);
	lw_tls_ctx_free(web_tls);
	lw_metrics_stop(metrics);
	lw_health_free(health);
	/* Claims drain into notify, which drains last. */
	lw_notifyclaim_stop(claims, NOTIFY_DRAIN_MS);
	lw_notify_stop(notify, NOTIFY_DRAIN_MS);
	lw_correlation_free(corr);
	lw_ruleset_free(rs);
	lw_serve_free(serve);
	lw_sdnotify_close(sdnotify);
	lw_store_close(store);
	if (args.ports_file != NULL && serve != NULL)
		unlink(args.ports_file);
	free(cfg);
	return code;
}
