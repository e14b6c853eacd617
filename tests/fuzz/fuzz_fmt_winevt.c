/* libFuzzer target for correlator/fmt_winevt.c (lw_fmt_winevt_parse)
 * with the template of event 4625 (sections, labels that are prefixes of
 * others, a label before any section). Invariants: tests/fuzz/fuzz_fmt.h;
 * values always point into the input. */
#include "correlator/fmt_winevt.h"
#include "tests/fuzz/fuzz_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define E(s, l) {LW_STR_LIT(s), LW_STR_LIT(l), LW_STR_LIT(s "." l)}
static const struct lw_fmt_winevt_entry tmpl[] = {
	{LW_STR_NULL, LW_STR_LIT("Logon Type"), LW_STR_LIT("Logon Type")},
	E("Subject", "Security ID"), E("Subject", "Account Name"),
	E("Subject", "Account Domain"), E("Subject", "Logon ID"),
	E("Account For Which Logon Failed", "Security ID"),
	E("Account For Which Logon Failed", "Account Name"),
	E("Account For Which Logon Failed", "Account Domain"),
	E("Failure Information", "Failure Reason"), E("Failure Information", "Status"),
	E("Failure Information", "Sub Status"),
	E("Network Information", "Workstation Name"),
	E("Network Information", "Source Network Address"),
	E("Network Information", "Source Port"),
};

static int parse(const char *in, size_t n, struct lw_fmt_buf *buf, lw_fmt_pair_fn fn,
		 void *arg)
{
	(void)buf;
	return lw_fmt_winevt_parse(tmpl, sizeof(tmpl) / sizeof(tmpl[0]), in, n, fn, arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_fmt(data, size, parse);
}
