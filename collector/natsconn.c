/* lw_natsconn: connection options and the stream, over libnats. */
#include "collector/natsconn.h"

#include <stdio.h>

int lw_natsconn_fail(struct lw_diag *diag, natsStatus s, const char *what)
{
	const char *last = nats_GetLastError(NULL);

	return lw_diag_set(diag, s == NATS_NO_MEMORY ? LW_ENOMEM : LW_EIO, NULL, 0, 0,
			   "nats: %s: %s%s%s", what, natsStatus_GetText(s),
			   last != NULL && *last ? ": " : "", last != NULL ? last : "");
}

static natsStatus set_security(natsOptions *no, const struct lw_natsconn_opts *o)
{
	natsStatus s = NATS_OK;

	if (o->ca[0] != '\0' || o->cert[0] != '\0') {
		s = natsOptions_SetSecure(no, true);
		if (s == NATS_OK && o->ca[0] != '\0')
			s = natsOptions_LoadCATrustedCertificates(no, o->ca);
		if (s == NATS_OK && o->cert[0] != '\0')
			s = natsOptions_LoadCertificatesChain(no, o->cert, o->key);
	}
	if (s == NATS_OK && o->credentials[0] != '\0')
		s = natsOptions_SetUserCredentialsFromFiles(no, o->credentials, NULL);
	return s;
}

int lw_natsconn_connect(const struct lw_natsconn_opts *o, natsConnection **out,
			struct lw_diag *diag)
{
	const char *urls[LW_NOTIFY_MAX_ARGS];
	natsOptions *no = NULL;
	natsStatus s;

	*out = NULL;
	for (size_t i = 0; i < o->servers->n; i++)
		urls[i] = o->servers->v[i];
	s = natsOptions_Create(&no);
	if (s == NATS_OK)
		s = natsOptions_SetServers(no, urls, (int)o->servers->n);
	if (s == NATS_OK)
		s = natsOptions_SetName(no, o->name);
	/* An edge waits out a WAN outage of any length: never give up. */
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(no, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(no, 500);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(no, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(no, true, o->connected, o->closure);
	if (s == NATS_OK && o->disconnected != NULL)
		s = natsOptions_SetDisconnectedCB(no, o->disconnected, o->closure);
	if (s == NATS_OK && o->reconnected != NULL)
		s = natsOptions_SetReconnectedCB(no, o->reconnected, o->closure);
	if (s == NATS_OK && o->closed != NULL)
		s = natsOptions_SetClosedCB(no, o->closed, o->closure);
	if (s != NATS_OK) {
		natsOptions_Destroy(no);
		return lw_natsconn_fail(diag, s, "options");
	}
	s = set_security(no, o);
	if (s != NATS_OK) {
		natsOptions_Destroy(no);
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "nats: TLS or credentials files: %s",
				   natsStatus_GetText(s));
	}
	s = natsConnection_Connect(out, no);
	natsOptions_Destroy(no);
	/* With retry on failed connect, NATS_NOT_YET_CONNECTED is a
	 * connection that comes up by itself. */
	if (s == NATS_NOT_YET_CONNECTED)
		return LW_OK;
	if (s != NATS_OK) {
		natsConnection_Destroy(*out);
		*out = NULL;
		return lw_natsconn_fail(diag, s, "connect");
	}
	return LW_OK;
}

int lw_natsconn_ensure_stream(jsCtx *js, const struct lw_natsconn_stream *st,
			      struct lw_diag *diag)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig sc;
	jsErrCode jerr = 0;
	char subj[160];
	const char *subjects[1] = {subj};
	natsStatus s = js_GetStreamInfo(&si, js, st->name, NULL, &jerr);

	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return LW_OK;
	}
	if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr)
		return lw_natsconn_fail(diag, s, "stream info");
	snprintf(subj, sizeof(subj), "%s.>", st->subject);
	jsStreamConfig_Init(&sc);
	sc.Name = st->name;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Retention = js_LimitsPolicy;
	sc.Replicas = st->replicas;
	sc.Duplicates = (int64_t)st->duplicate_window_ms * 1000000;
	sc.MaxAge = (int64_t)st->max_age_s * 1000000000;
	if (st->max_bytes > 0)
		sc.MaxBytes = (int64_t)st->max_bytes;
	/* Full: refuse new messages rather than drop old ones nobody may
	 * have consumed yet; the edge keeps them and retries. */
	sc.Discard = js_DiscardNew;
	jerr = 0;
	s = js_AddStream(&si, js, &sc, NULL, &jerr);
	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return LW_OK;
	}
	/* Another node made it meanwhile. */
	if (jerr == JSStreamNameExistErr)
		return LW_OK;
	return lw_natsconn_fail(diag, s, "create stream");
}
