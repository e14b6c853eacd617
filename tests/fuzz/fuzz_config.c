/* libFuzzer target: the YAML config loader must reject any input with an
 * error that has a position, or accept it into a config whose bounded
 * fields hold their invariants; it must never crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lw_config *cfg = malloc(sizeof(*cfg));
	struct lw_diag diag;
	int rc;

	if (cfg == NULL)
		return 0;
	memset(&diag, 0, sizeof(diag));
	rc = lw_config_load_string("fuzz.yml", (const char *)data, size, cfg, &diag);
	if (rc == LW_OK) {
		if (cfg->nlisteners > LW_CONFIG_MAX_LISTENERS || cfg->nzones > LW_CONFIG_MAX_ZONES ||
		    cfg->nrule_dirs > LW_CONFIG_MAX_RULE_DIRS)
			abort();
		for (size_t i = 0; i < cfg->nlisteners; i++)
			if (cfg->listeners[i].allow.count > LW_CIDR_MAX)
				abort();
	} else if (diag.detail[0] == '\0') {
		abort(); /* every failure must say why */
	}
	free(cfg);
	return 0;
}
