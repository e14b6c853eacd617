/* libFuzzer target for what `logward query` parses from its arguments:
 * --since/--until times (RFC 3339 or relative), --severity and --field.
 * The input is up to four NUL-separated strings: time, severity, field,
 * and an RFC 3339 prefix. Invariants: a relative time is never in the
 * future, a severity is 0-7 or LW_EINVAL, a field splits at its first '='
 * into a non-empty key, and the RFC 3339 parser never claims more bytes
 * than it was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/time.h"
#include "store/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_NS 1700000000000000000LL

static char *next_arg(const char **p, const char *end)
{
	const char *start = *p;
	const char *nul = memchr(start, '\0', (size_t)(end - start));
	size_t len = (size_t)((nul ? nul : end) - start);
	char *s = malloc(len + 1);

	if (s != NULL) {
		memcpy(s, start, len);
		s[len] = '\0';
	}
	*p = nul ? nul + 1 : end;
	return s;
}

static void check_time(const char *s)
{
	int64_t ns = 0;
	size_t len = strlen(s);

	if (lw_time_parse_query(s, NOW_NS, &ns) == LW_OK && len > 0 &&
	    strchr("smhdw", s[len - 1]) != NULL && strspn(s, "0123456789") == len - 1 &&
	    ns > NOW_NS)
		abort();
}

static void check_field(char *s)
{
	struct lw_query_filter f;
	size_t len = strlen(s);
	char *eq = strchr(s, '=');
	int rc;

	lw_query_filter_init(&f);
	rc = lw_query_filter_add_field(&f, s);
	if ((rc == LW_OK) != (eq != NULL && eq != s))
		abort();
	if (rc == LW_OK && (f.nfields != 1 || strlen(f.fields[0].key) != (size_t)(eq - s) ||
			    strlen(f.fields[0].key) + 1 + strlen(f.fields[0].value) != len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *t = next_arg(&p, end), *sev = next_arg(&p, end);
	char *field = next_arg(&p, end);
	size_t rest = (size_t)(end - p);
	int64_t ns;
	int code;

	if (t != NULL)
		check_time(t);
	if (sev != NULL) {
		code = lw_query_parse_severity(sev);
		if (code != LW_EINVAL && (code < 0 || code > 7))
			abort();
	}
	if (field != NULL)
		check_field(field);
	/* Not NUL-terminated on purpose: the parser must honour len. */
	if (rest > 0) {
		char *raw = malloc(rest);
		if (raw != NULL) {
			memcpy(raw, p, rest);
			if (lw_time_parse_rfc3339(raw, rest, &ns) > rest)
				abort();
			free(raw);
		}
	}
	free(t);
	free(sev);
	free(field);
	return 0;
}
