/* lw_nats_pub: publishes one message to a JetStream stream through libnats
 * (the client logward uses, not logward's code), with the headers given,
 * and prints the stream's answer. For the tests that feed a central node
 * what no edge would send (tests/integration/test_nats_reject.sh).
 *
 * usage: lw_nats_pub URL SUBJECT [KEY=VALUE ...] < PAYLOAD
 *        lw_nats_pub --payload-of STREAM FROM URL SUBJECT [KEY=VALUE ...]
 * The second form takes the payload of the last message on subject FROM
 * in STREAM (a real edge's message, to resend under other headers).
 * Exit 0 when the stream stored it ("stored SEQ"), 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

int main(int argc, char **argv)
{
	static char payload[1 << 20];
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	natsMsg *msg = NULL;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	const char *stream = NULL, *from = NULL;
	size_t len = 0;
	natsStatus s;
	int rc = 1;

	if (argc > 3 && strcmp(argv[1], "--payload-of") == 0) {
		stream = argv[2];
		from = argv[3];
		argv += 3;
		argc -= 3;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: lw_nats_pub [--payload-of STREAM FROM] URL SUBJECT [KEY=VALUE ...] < PAYLOAD\n");
		return 2;
	}
	s = natsConnection_ConnectTo(&nc, argv[1]);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&js, nc, NULL);
	if (s == NATS_OK && stream != NULL) {
		natsMsg *last = NULL;

		s = js_GetLastMsg(&last, js, stream, from, NULL, &jerr);
		if (s == NATS_OK) {
			len = (size_t)natsMsg_GetDataLength(last);
			if (len > sizeof(payload))
				len = sizeof(payload);
			memcpy(payload, natsMsg_GetData(last), len);
		}
		natsMsg_Destroy(last);
	} else {
		len = fread(payload, 1, sizeof(payload), stdin);
	}
	if (s == NATS_OK)
		s = natsMsg_Create(&msg, argv[2], NULL, payload, (int)len);
	for (int i = 3; s == NATS_OK && i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq == NULL) {
			fprintf(stderr, "lw_nats_pub: '%s' is not KEY=VALUE\n", argv[i]);
			return 2;
		}
		*eq = '\0';
		s = natsMsgHeader_Set(msg, argv[i], eq + 1);
	}
	if (s == NATS_OK)
		s = js_PublishMsg(&pa, js, msg, NULL, &jerr);
	if (s == NATS_OK) {
		printf("stored %llu\n", (unsigned long long)pa->Sequence);
		rc = 0;
	} else {
		fprintf(stderr, "lw_nats_pub: %s (%d)\n", natsStatus_GetText(s), (int)jerr);
	}
	jsPubAck_Destroy(pa);
	natsMsg_Destroy(msg);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	nats_Close();
	return rc;
}
