/* lw_notifyclaim: the claim queue and its thread. See notifyclaim.h for
 * what a claim means and what happens when the servers do not answer. */
#include "collector/notifyclaim.h"
#include "collector/natsconn.h"
#include "collector/notify.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sha256.h"
#include "core/time.h"

/* Notifications waiting for their claim; beyond this the writer sends
 * them unclaimed rather than wait (claims take one round trip each). */
#define CLAIM_QUEUE_MAX 1024
/* How long one claim may wait for the servers. */
#define CLAIM_WAIT_MS 2000
/* Retry the bucket this often while it cannot be made or bound. */
#define BUCKET_RETRY_MS 5000
/* At most one "sent unclaimed" warning this often. */
#define UNCLAIMED_LOG_MS 60000

struct item {
	struct item *next;
	char key[LW_NOTIFYCLAIM_KEY];
	unsigned level;
	size_t len;
	char json[];
};

struct lw_notifyclaim {
	struct lw_notifyclaim_opts o;
	char bucket[LW_NAME_MAX + 8];
	char holder[LW_NAME_MAX];    /* the value of our claims: the durable's name */
	natsConnection *nc;
	jsCtx *js;
	kvStore *kv;                 /* thread; NULL until the bucket is bound */
	int64_t bucket_retry_ms;
	int64_t unclaimed_logged_ms;

	pthread_mutex_t mu;          /* the queue and stopping */
	pthread_cond_t cv;
	struct item *head, *tail;
	uint32_t n;
	int stopping;
	int64_t drain_until_ms;
	pthread_t thread;
	int started;
};

void lw_notifyclaim_key(const char *rule_id, const char *group, int64_t first_seen_ns,
			char *out)
{
	struct lw_sha256 h;
	uint8_t d[LW_SHA256_LEN];
	char first[24];

	snprintf(first, sizeof(first), "%" PRId64, first_seen_ns);
	memcpy(out, "inc.", 4);
	if (lw_sha256_init(&h) != LW_OK) {
		/* No digest (out of memory): a key of the clear identity
		 * would be too long and not a valid subject; send unclaimed. */
		out[0] = '\0';
		return;
	}
	lw_sha256_update(&h, rule_id, strlen(rule_id) + 1);
	lw_sha256_update(&h, group, strlen(group) + 1);
	lw_sha256_update(&h, first, strlen(first));
	if (lw_sha256_final(&h, d) != LW_OK) {
		out[0] = '\0';
	} else {
		lw_sha256_hex(d, out + 4);
	}
	lw_sha256_release(&h);
}

/* Binds the bucket, making it when missing. Thread. */
static void bind_bucket(struct lw_notifyclaim *c)
{
	const struct lw_listener_config *lc = c->o.lc;
	kvConfig kc;
	natsStatus s;
	int64_t now = lw_time_mono_ms();

	if (c->kv != NULL || now < c->bucket_retry_ms)
		return;
	c->bucket_retry_ms = now + BUCKET_RETRY_MS;
	s = js_KeyValue(&c->kv, c->js, c->bucket);
	if (s == NATS_OK)
		return;
	kvConfig_Init(&kc);
	kc.Bucket = c->bucket;
	kc.Description = "logward: incident notifications claimed by one central node";
	kc.History = 1;
	kc.TTL = (int64_t)lc->notify_claim_ttl_s * 1000000000;
	kc.StorageType = js_FileStorage;
	kc.Replicas = (int)lc->replicas;
	s = js_CreateKeyValue(&c->kv, c->js, &kc);
	if (s != NATS_OK) {
		struct lw_diag d = {0};

		c->kv = NULL;
		lw_natsconn_fail(&d, s, "notification claims bucket");
		lw_log(c->o.log, LW_LOG_WARNING, "notifyclaim",
		       "cannot bind the claims bucket; notifications go out unclaimed meanwhile",
		       "bucket", c->bucket, "detail", d.detail, NULL);
	}
}

/* 1: ours to send; 0: another node claimed it; -1: no answer (send). */
static int claim(struct lw_notifyclaim *c, const char *key)
{
	kvEntry *e = NULL;
	natsStatus s;

	bind_bucket(c);
	if (c->kv == NULL || key[0] == '\0')
		return -1;
	s = kvStore_CreateString(NULL, c->kv, key, c->holder);
	if (s == NATS_OK)
		return 1;
	/* A refused create is either the key being there or the servers
	 * failing: only a read that finds the key tells them apart. */
	if (kvStore_Get(&e, c->kv, key) == NATS_OK) {
		kvEntry_Destroy(e);
		return 0;
	}
	return -1;
}

static void deliver(struct lw_notifyclaim *c, struct item *it, int claimed)
{
	if (claimed == 0) {
		lw_counters_add(c->o.counters, LW_CTR_NOTIFY_CLAIMED_ELSEWHERE, 1);
		return;
	}
	if (claimed < 0) {
		int64_t now = lw_time_mono_ms();

		lw_counters_add(c->o.counters, LW_CTR_NOTIFY_UNCLAIMED, 1);
		if (c->unclaimed_logged_ms == 0 || now - c->unclaimed_logged_ms >= UNCLAIMED_LOG_MS) {
			c->unclaimed_logged_ms = now;
			lw_log(c->o.log, LW_LOG_WARNING, "notifyclaim",
			       "notification sent without a claim (the servers did not answer): "
			       "another central node may send it too", "bucket", c->bucket, NULL);
		}
	}
	lw_notify_submit(c->o.notify, it->json, it->len, it->level);
}

static void *claim_main(void *arg)
{
	struct lw_notifyclaim *c = arg;

	for (;;) {
		struct item *it;
		int late;

		pthread_mutex_lock(&c->mu);
		while (c->head == NULL && !c->stopping)
			pthread_cond_wait(&c->cv, &c->mu);
		it = c->head;
		if (it != NULL) {
			c->head = it->next;
			if (c->head == NULL)
				c->tail = NULL;
			c->n--;
		}
		late = c->stopping && lw_time_mono_ms() >= c->drain_until_ms;
		pthread_mutex_unlock(&c->mu);
		if (it == NULL)
			break;
		/* Past the drain time what is left goes out unclaimed: a
		 * stop must not lose an alert. */
		deliver(c, it, late ? -1 : claim(c, it->key));
		free(it);
	}
	return NULL;
}

int lw_notifyclaim_start(const struct lw_notifyclaim_opts *o, struct lw_notifyclaim **out,
			 struct lw_diag *diag)
{
	const struct lw_listener_config *lc = o->lc;
	struct lw_notifyclaim *c = calloc(1, sizeof(*c));
	char name[LW_NAME_MAX + 32];
	jsOptions jo;
	natsStatus s;
	int rc;

	*out = NULL;
	if (c == NULL)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "notification claims");
	c->o = *o;
	snprintf(c->bucket, sizeof(c->bucket), "%s_NOTIFY", lc->stream);
	snprintf(c->holder, sizeof(c->holder), "%s", lc->durable);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	snprintf(name, sizeof(name), "logward-claims-%s", lc->durable);
	rc = lw_natsconn_connect(&(struct lw_natsconn_opts){
		.servers = &lc->servers, .ca = lc->ca, .cert = lc->cert, .key = lc->key,
		.credentials = lc->credentials, .name = name}, &c->nc, diag);
	if (rc == LW_OK) {
		jsOptions_Init(&jo);
		jo.Wait = CLAIM_WAIT_MS;
		s = natsConnection_JetStream(&c->js, c->nc, &jo);
		if (s != NATS_OK)
			rc = lw_natsconn_fail(diag, s, "jetstream");
	}
	if (rc == LW_OK && pthread_create(&c->thread, NULL, claim_main, c) != 0)
		rc = lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "notification claims thread");
	if (rc != LW_OK) {
		jsCtx_Destroy(c->js);
		natsConnection_Destroy(c->nc);
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		free(c);
		return rc;
	}
	c->started = 1;
	*out = c;
	return LW_OK;
}

void lw_notifyclaim_submit(struct lw_notifyclaim *c, const char *rule_id,
			   const char *group, int64_t first_seen_ns,
			   const char *json, size_t len, unsigned level)
{
	struct item *it;

	if (len > LW_NOTIFY_MAX_JSON) {
		lw_notify_submit(c->o.notify, json, len, level); /* refused and counted there */
		return;
	}
	it = malloc(sizeof(*it) + len);
	if (it == NULL) {
		lw_counters_add(c->o.counters, LW_CTR_NOTIFY_DROPPED, 1);
		return;
	}
	it->next = NULL;
	it->level = level;
	it->len = len;
	memcpy(it->json, json, len);
	lw_notifyclaim_key(rule_id, group, first_seen_ns, it->key);
	pthread_mutex_lock(&c->mu);
	if (c->n >= CLAIM_QUEUE_MAX) {
		pthread_mutex_unlock(&c->mu);
		/* The servers are slow or gone: better twice than never. */
		lw_counters_add(c->o.counters, LW_CTR_NOTIFY_UNCLAIMED, 1);
		lw_notify_submit(c->o.notify, json, len, level);
		free(it);
		return;
	}
	if (c->tail != NULL)
		c->tail->next = it;
	else
		c->head = it;
	c->tail = it;
	c->n++;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void lw_notifyclaim_stop(struct lw_notifyclaim *c, uint32_t drain_ms)
{
	if (c == NULL)
		return;
	if (c->started) {
		pthread_mutex_lock(&c->mu);
		c->stopping = 1;
		c->drain_until_ms = lw_time_mono_ms() + drain_ms;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
	}
	if (c->kv != NULL)
		kvStore_Destroy(c->kv);
	jsCtx_Destroy(c->js);
	natsConnection_Destroy(c->nc);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
