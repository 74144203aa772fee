/* gw_cli_json.c — XML answers as JSON for yc-admin --json (gw_cli_json.h). */
#include "gateway/gw_cli_json.h"
#include <expat.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX 32
#define TEXT_MAX  (1 << 20)

typedef struct {
    json_t *obj[DEPTH_MAX + 1]; /* obj[d]: the children of the open element at depth d (lazily made) */
    char *name[DEPTH_MAX + 1];
    char *text;
    size_t text_len;
    int depth, failed;
    json_t *root;
} conv_t;

/* Adds value under name in parent: a second value of one name turns it into an array (values are
 * strings or objects, so an array there is one made here). */
static void add_child(json_t *parent, const char *name, json_t *value)
{
    json_t *old = json_object_get(parent, name);
    if (old == NULL && strcmp(name, "member") == 0) { /* IAM's list items: an array even of one */
        json_t *list = json_array();
        json_array_append_new(list, value);
        json_object_set_new(parent, name, list);
    } else if (old == NULL) {
        json_object_set_new(parent, name, value);
    } else if (json_is_array(old)) {
        json_array_append_new(old, value);
    } else {
        json_t *list = json_array();
        json_array_append(list, old);
        json_array_append_new(list, value);
        json_object_set_new(parent, name, list);
    }
}

static void on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
    conv_t *cv = arg;
    const char *local = strrchr(name, ' '); /* namespace-separated "uri name" */
    if (cv->failed || cv->depth == DEPTH_MAX) {
        cv->failed = 1;
        return;
    }
    cv->depth++;
    cv->name[cv->depth] = strdup(local != NULL ? local + 1 : name);
    cv->obj[cv->depth] = NULL;
    cv->text_len = 0;
}

static void on_end(void *arg, const XML_Char *name)
{
    conv_t *cv = arg;
    if (cv->failed || cv->depth == 0)
        return;
    json_t *value = cv->obj[cv->depth] != NULL ? cv->obj[cv->depth] : json_stringn(cv->text, cv->text_len);
    char *own = cv->name[cv->depth];
    cv->depth--;
    if (cv->depth == 0) {
        cv->root = json_object();
        json_object_set_new(cv->root, own != NULL ? own : "", value);
    } else {
        if (cv->obj[cv->depth] == NULL)
            cv->obj[cv->depth] = json_object();
        add_child(cv->obj[cv->depth], own != NULL ? own : "", value);
    }
    free(own);
    cv->text_len = 0;
}

static void on_text(void *arg, const XML_Char *s, int len)
{
    conv_t *cv = arg;
    if (cv->failed || len <= 0 || cv->text_len + (size_t)len > TEXT_MAX)
        return;
    memcpy(cv->text + cv->text_len, s, (size_t)len);
    cv->text_len += (size_t)len;
}

/* Refuses every entity declaration: nothing an answer says can expand. */
static void on_entity(void *arg, const XML_Char *name, int pe, const XML_Char *v, int vlen, const XML_Char *base,
                      const XML_Char *sys, const XML_Char *pub, const XML_Char *notation)
{
    ((conv_t *)arg)->failed = 1;
}

json_t *gw_cli_xml_to_json(const char *xml, size_t len)
{
    conv_t cv = {0};
    XML_Parser p = XML_ParserCreateNS(NULL, ' ');

    if (p == NULL || (cv.text = malloc(TEXT_MAX)) == NULL || len > (size_t)INT32_MAX) {
        if (p != NULL)
            XML_ParserFree(p);
        free(cv.text);
        return NULL;
    }
    XML_SetUserData(p, &cv);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    XML_SetEntityDeclHandler(p, on_entity);
    if (XML_Parse(p, xml, (int)len, 1) != XML_STATUS_OK || cv.failed || cv.root == NULL) {
        json_decref(cv.root);
        cv.root = NULL;
    }
    /* what an early stop left open */
    for (int d = cv.depth; d > 0; d--) {
        json_decref(cv.obj[d]);
        free(cv.name[d]);
    }
    XML_ParserFree(p);
    free(cv.text);
    return cv.root;
}
