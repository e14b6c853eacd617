/* lw_clictx: data directory, actor, audit for the console's commands. */
#include "cli/clictx.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/time.h"
#include "store/audit.h"

const char *lw_clictx_data_dir(void)
{
	const char *env = getenv("LOGWARD_DATA_DIR");

	return env != NULL && env[0] != '\0' ? env : "./var/logward";
}

const char *lw_clictx_actor(char *buf, size_t n)
{
	const char *s = getenv("SUDO_USER");

	if (s == NULL || s[0] == '\0')
		s = getenv("USER");
	if (s != NULL && s[0] != '\0')
		snprintf(buf, n, "cli:%s", s);
	else
		snprintf(buf, n, "cli:uid:%u", (unsigned)getuid());
	return buf;
}

void lw_clictx_audit(struct lw_store *st, const char *prog, const char *action,
		     const char *target, int ok, const char *detail)
{
	char actor[160];
	struct lw_diag diag = {0};

	if (lw_audit_append(st, &(struct lw_audit_entry){
			.time_ns = lw_time_now_ns(), .actor = lw_clictx_actor(actor, sizeof(actor)),
			.address = "local", .action = action, .target = target,
			.status = ok ? 200 : 400, .detail = detail}, &diag) != LW_OK)
		fprintf(stderr, "%s: cannot write the audit record: %s\n", prog, diag.detail);
}
