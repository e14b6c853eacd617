/* libFuzzer target for the API's query strings and cookies (web/params):
 * the input is split at the first newline into a query string and a
 * Cookie header. Both must be read or refused cleanly, and every decoded
 * key and value is valid UTF-8 without NUL. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/utf8.h"
#include "web/params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nl = memchr(s, '\n', size);
	size_t qlen = nl ? (size_t)(nl - s) : size;
	struct lw_params p;
	char out[64], *cookie;

	if (lw_params_parse(s, qlen, &p, NULL) == LW_OK) {
		for (unsigned i = 0; i < p.n; i++)
			if (!lw_utf8_valid(p.kv[i].key, strlen(p.kv[i].key)) ||
			    !lw_utf8_valid(p.kv[i].value, strlen(p.kv[i].value)) || p.kv[i].key[0] == '\0')
				__builtin_trap();
		lw_params_release(&p);
	}
	if (nl == NULL)
		return 0;
	cookie = malloc(size - qlen);
	if (cookie == NULL)
		return 0;
	memcpy(cookie, nl + 1, size - qlen - 1);
	cookie[size - qlen - 1] = '\0';
	if (lw_params_cookie(cookie, "lw_session", out, sizeof(out)) == LW_OK) {
		for (char *c = out; *c; c++)
			if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f || *c == ';')
				__builtin_trap();
	}
	free(cookie);
	return 0;
}
