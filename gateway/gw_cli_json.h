/* gw_cli_json.h — yc-admin's --json for answers that come as XML (the IAM API's).
 *
 * An element with children becomes an object of its children by name; a name met more than once
 * among siblings becomes an array of them, and so does <member> always (IAM's list items, so that
 * a list of one is an array too); an element with only text
 * becomes that text as a string. Attributes and namespaces are dropped. The answer's root element
 * is the top object's only key. Parsed with expat, entities off.
 */
#ifndef YC_GW_CLI_JSON_H
#define YC_GW_CLI_JSON_H
#include <jansson.h>
#include <stddef.h>

/* The JSON form of the XML document xml[0..len); NULL when it is not XML (or too deep). Caller
 * json_decref()s it. */
json_t *gw_cli_xml_to_json(const char *xml, size_t len);

#endif
