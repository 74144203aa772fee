/* gw_ready.c — /health/live and /health/ready (design in gw_ready.h). */
#include "gateway/gw_ready.h"
#include "gateway/gw_health.h"
#include "gateway/gw_quorum.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int gw_ready_set_writable(uint32_t ok, uint32_t k, uint32_t m)
{
    return ok >= gw_quorum_write(k, m);
}

int gw_live_answer(const char **body, size_t *len)
{
    static const char live[] = "{\"status\":\"live\"}\n";
    *body = live;
    *len = sizeof(live) - 1;
    return 200;
}

/* The state of drive i; unknown without a health module. */
static gw_health_state_t drive_state(gw_cluster_t *c, size_t i)
{
    gw_health_drive_t d;
    if (c->health == NULL)
        return GW_HEALTH_UNKNOWN;
    gw_health_drive(c->health, i, &d);
    return d.state;
}

int gw_ready_answer(gw_cluster_t *c, char **body, size_t *len)
{
    json_t *root = json_object(), *sets = json_array(), *down = json_array();
    int ready = 1;

    *body = NULL;
    *len = 0;
    if (root == NULL || sets == NULL || down == NULL)
        goto out;
    for (size_t s = 0; s < c->nsets; s++) {
        gw_set_t *set = &c->sets[s];
        uint32_t ok = 0;
        for (uint32_t j = 0; j < gw_set_width(set); j++) {
            size_t i = (size_t)(set->drives[j] - c->drives);
            gw_health_state_t st = drive_state(c, i);
            if (st == GW_HEALTH_OK) {
                ok++;
                continue;
            }
            /* a spec that is not UTF-8 cannot be a JSON string: null, the index still says which */
            json_t *name = json_string(c->drives[i].path);
            json_array_append_new(down, json_pack("{s:i, s:o, s:s, s:i}", "index", (json_int_t)i, "drive",
                                                  name != NULL ? name : json_null(), "state", gw_health_state_name(st),
                                                  "set", (json_int_t)s));
        }
        int writable = gw_ready_set_writable(ok, set->k, set->m);
        ready &= writable;
        json_array_append_new(sets, json_pack("{s:i, s:i, s:i, s:i, s:b}", "set", (json_int_t)s, "drives",
                                              (json_int_t)gw_set_width(set), "ok", (json_int_t)ok, "write_quorum",
                                              (json_int_t)gw_set_write_quorum(set), "writable", writable));
    }
    json_object_set_new(root, "status", json_string(ready ? "ready" : "not_ready"));
    json_object_set(root, "sets", sets);
    json_object_set(root, "drives_not_ok", down);
    /* drive specs are paths: JSON_ENSURE_ASCII keeps any byte of theirs a valid \u escape */
    if ((*body = json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII)) != NULL)
        *len = strlen(*body);
out:
    json_decref(sets);
    json_decref(down);
    json_decref(root);
    return ready && *body != NULL ? 200 : 503;
}
