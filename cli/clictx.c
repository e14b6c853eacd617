/* lw_clictx: data directory, actor, audit for the commands that change
 * the console's records and incidents. */
#include "cli/clictx.h"

#include <pwd.h>
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

const char *lw_clictx_os_user(char *buf, size_t n)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd pw, *found = NULL;
	char pwbuf[1024];

	/* $USER is whatever the caller exported; the uid is not. Only root
	 * may name the person behind sudo (root could write anything). */
	if (getuid() == 0 && sudo != NULL && sudo[0] != '\0')
		snprintf(buf, n, "%s", sudo);
	else if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &found) == 0 && found != NULL)
		snprintf(buf, n, "%s", found->pw_name);
	else
		snprintf(buf, n, "uid:%u", (unsigned)getuid());
	return buf;
}

const char *lw_clictx_actor(char *buf, size_t n)
{
	char user[128];

	snprintf(buf, n, "cli:%s", lw_clictx_os_user(user, sizeof(user)));
	return buf;
}

void lw_clictx_audit(struct lw_store *st, const char *prog, const char *action,
		     const char *target, unsigned status, const char *detail)
{
	char actor[160];
	struct lw_diag diag = {0};

	if (lw_audit_append(st, &(struct lw_audit_entry){
			.time_ns = lw_time_now_ns(), .actor = lw_clictx_actor(actor, sizeof(actor)),
			.address = "local", .action = action, .target = target,
			.status = status, .detail = detail}, &diag) != LW_OK)
		fprintf(stderr, "%s: cannot write the audit record: %s\n", prog, diag.detail);
}
