/* Incident fields for the query language (prefix lw_qincident): the
 * schema that binds an lw_qlang expression to struct lw_incident_view, for
 * `logward incidents list -q` and the HTTP API.
 *
 *   id, count                          numbers
 *   first_seen, last_seen              times
 *   status, category, level, rule.id, rule.level, host.name (host),
 *   labels.zone (zone)                 keywords
 *   rule.name (rule.title)             text: bare words search it
 *   group.KEY                          the group-by value KEY of the
 *                                      incident (group.source.ip:10.0.0.0/8;
 *                                      an address when KEY ends in .ip)
 *
 * e.g. category:unauthorized-access AND level:(high OR critical)
 *      AND group.source.ip:203.0.113.0/24
 *
 * A field the view gains is one row of the table in qincident.c.
 * Threads: constant; any thread. */
#ifndef LW_STORE_QINCIDENT_H
#define LW_STORE_QINCIDENT_H

#include "store/incidents.h"
#include "store/qlang.h"

/* Records are const struct lw_incident_view *. */
extern const struct lw_qlang_schema lw_qincident_schema;

#endif
