/* Unit tests for gw_cli_json.c: the IAM API's XML answers as JSON for yc-admin --json. */
#include "gateway/gw_cli_json.h"
#include "unit.h"
#include <stdlib.h>

static json_t *conv(const char *xml)
{
    return gw_cli_xml_to_json(xml, strlen(xml));
}

TEST(test_xml_json_elements_text_and_namespaces)
{
    json_t *doc = conv("<?xml version=\"1.0\"?><GetGroupResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                       "<GetGroupResult><Group><GroupName>readers</GroupName><Path>/</Path></Group>"
                       "<IsTruncated>false</IsTruncated></GetGroupResult></GetGroupResponse>");
    CHECK(doc != NULL);
    json_t *r = json_object_get(json_object_get(doc, "GetGroupResponse"), "GetGroupResult");
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(r, "Group"), "GroupName")), "readers") == 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "IsTruncated")), "false") == 0);
    json_decref(doc);
}

TEST(test_xml_json_lists_are_arrays_even_of_one)
{
    json_t *doc = conv("<R><Users><member><UserName>a</UserName></member></Users>"
                       "<Keys><Key>1</Key><Key>2</Key><Key>3</Key></Keys></R>");
    CHECK(doc != NULL);
    json_t *r = json_object_get(doc, "R");
    json_t *members = json_object_get(json_object_get(r, "Users"), "member");
    CHECK(json_is_array(members) && json_array_size(members) == 1);
    json_t *keys = json_object_get(json_object_get(r, "Keys"), "Key");
    CHECK(json_is_array(keys) && json_array_size(keys) == 3);
    CHECK(strcmp(json_string_value(json_array_get(keys, 2)), "3") == 0);
    json_decref(doc);
}

TEST(test_xml_json_refuses_what_is_not_plain_xml)
{
    CHECK(conv("") == NULL);
    CHECK(conv("not xml at all") == NULL);
    CHECK(conv("<a><b></a>") == NULL);
    CHECK(conv("<!DOCTYPE a [<!ENTITY e \"xx\">]><a>&e;</a>") == NULL); /* no entity expands */
    char deep[40 * 3 + 40 * 4 + 1] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "<a>");
    for (int i = 0; i < 40; i++)
        strcat(deep, "</a>");
    CHECK(conv(deep) == NULL);
}

int main(void)
{
    RUN(test_xml_json_elements_text_and_namespaces);
    RUN(test_xml_json_lists_are_arrays_even_of_one);
    RUN(test_xml_json_refuses_what_is_not_plain_xml);
    return unit_done();
}
