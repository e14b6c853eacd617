/* lw_assets: lookup in the generated table. */
#include "web/assets.h"

#include <string.h>

const struct lw_asset *lw_assets_find(const char *path)
{
	for (size_t i = 0; i < lw_assets_count; i++)
		if (strcmp(lw_assets_table[i].path, path) == 0)
			return &lw_assets_table[i];
	return NULL;
}
