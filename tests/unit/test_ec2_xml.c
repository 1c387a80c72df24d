/*
 * test_ec2_xml.c - EC2 answer and error parsing on fixture bodies
 * (tests/ec2/fixtures), request body encoding and endpoint selection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../providers/ec2/client.h"
#include "../../providers/ec2/xml.h"

static char *fixture(const char *name, size_t *len)
{
	char *path = cg_xasprintf("ec2/fixtures/%s", name);
	char *s = NULL;
	struct cg_err err = { 0 };
	int rc = cg_file_read(path, &s, len, &err);
	free(path);
	assert_int_equal(rc, 0);
	return s;
}

static void test_response_errors(void **state)
{
	(void)state;
	size_t len;
	char *b = fixture("error-response.xml", &len);
	struct cg_ec2_error e;
	cg_ec2_parse_error(400, b, len, &e);
	assert_string_equal(e.code, "InvalidGroup.NotFound");
	assert_non_null(strstr(e.message, "sg-1234"));
	assert_string_equal(e.request_id, "ea966190-f9aa-478e-9ede-example");
	assert_true(cg_ec2_error_notfound(&e));
	assert_false(cg_ec2_error_retryable(&e));
	assert_false(cg_ec2_error_duplicate(&e));
	free(b);

	b = fixture("error-errorresponse.xml", &len);
	cg_ec2_parse_error(503, b, len, &e);
	assert_string_equal(e.code, "RequestLimitExceeded");
	assert_string_equal(e.message, "Request limit exceeded.");
	assert_string_equal(e.request_id, "4f1e-throttle");
	assert_true(cg_ec2_error_throttled(&e));
	assert_true(cg_ec2_error_retryable(&e));
	free(b);

	b = fixture("error-capacity.xml", &len);
	cg_ec2_parse_error(500, b, len, &e);
	assert_string_equal(e.code, "InsufficientInstanceCapacity");
	assert_false(cg_ec2_error_retryable(&e));	/* a 500, yet final */
	free(b);
	const char *ie = "<Response><Errors><Error><Code>InternalError</Code></Error></Errors></Response>";
	cg_ec2_parse_error(500, ie, strlen(ie), &e);
	assert_string_equal(e.code, "InternalError");
	assert_true(cg_ec2_error_retryable(&e));

	/* bare <Error> and Duplicate */
	const char *dup = "<Error><Code>InvalidKeyPair.Duplicate</Code><Message>exists</Message></Error>";
	cg_ec2_parse_error(400, dup, strlen(dup), &e);
	assert_string_equal(e.code, "InvalidKeyPair.Duplicate");
	assert_true(cg_ec2_error_duplicate(&e));
	assert_false(cg_ec2_error_retryable(&e));
}

static void test_non_xml(void **state)
{
	(void)state;
	size_t len;
	char *b = fixture("error-moto-html.html", &len);
	struct cg_ec2_error e;
	cg_ec2_parse_error(500, b, len, &e);
	assert_string_equal(e.code, "NonXml");
	assert_non_null(strstr(e.message, "HTTP 500: <!doctype html>"));
	assert_non_null(strstr(e.message, "..."));	/* cut after the first bytes */
	assert_true(strlen(e.message) < 260);
	assert_true(cg_ec2_error_retryable(&e));
	free(b);

	/* control bytes and escapes never reach the message */
	const char bad[] = "\x1b[31mboom\x01\n\xff";
	cg_ec2_parse_error(502, bad, sizeof(bad) - 1, &e);
	assert_string_equal(e.message, "HTTP 502: ?[31mboom? ?");
	cg_ec2_parse_error(504, NULL, 0, &e);
	assert_string_equal(e.message, "HTTP 504: (empty body)");
	/* well-formed XML of another shape */
	cg_ec2_parse_error(403, "<Foo/>", 6, &e);
	assert_string_equal(e.code, "NonXml");
	/* truncated XML */
	cg_ec2_parse_error(400, "<Response><Errors><Err", 22, &e);
	assert_string_equal(e.code, "NonXml");
	/* an empty code is no code (found by tests/fuzz/fuzz_ec2_xml.c) */
	const char *nocode = "<Error><Code></Code><Message>The rxists</Message></Error>";
	cg_ec2_parse_error(400, nocode, strlen(nocode), &e);
	assert_string_equal(e.code, "NonXml");
	assert_non_null(strstr(e.message, "HTTP 400: <Error>"));
	/* code and request id are printed too: no line breaks or tabs */
	const char *nl = "<Response><Errors><Error><Code>Bad\nCode\t</Code></Error></Errors>"
			 "<RequestID>r\r1</RequestID></Response>";
	cg_ec2_parse_error(400, nl, strlen(nl), &e);
	assert_string_equal(e.code, "Bad Code ");
	assert_string_equal(e.request_id, "r 1");
}

/* Bodies that libxml2's encoding layer complains about print nothing (found
 * by tests/fuzz/fuzz_ec2_xml.c: "encoding error : input conversion failed"
 * on stderr, past XML_PARSE_NOERROR). */
static void test_quiet(void **state)
{
	(void)state;
	static const char *const bodies[] = {
		"<?xml version=\"1.0\" encoding=\"EUC-JP\"?><a>\xff\xff</a>",
		"<?xml version=\"1.0\" encoding=\"SHIFT_JIS\"?><Error><Code>\x81</Code></Error>",
	};
	FILE *cap = tmpfile();
	assert_non_null(cap);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(cap), 2), 2);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
		xmlDocPtr d = cg_xml_parse(bodies[i], strlen(bodies[i]));
		if (d)
			xmlFreeDoc(d);
		struct cg_ec2_error e;
		cg_ec2_parse_error(400, bodies[i], strlen(bodies[i]), &e);
		assert_string_equal(e.code, "NonXml");
	}
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	struct stat st;
	assert_int_equal(fstat(fileno(cap), &st), 0);
	fclose(cap);
	assert_int_equal(st.st_size, 0);
}

static void test_describe(void **state)
{
	(void)state;
	size_t len;
	char *b = fixture("describe-instances.xml", &len);
	xmlDocPtr d = cg_xml_parse(b, len);
	assert_non_null(d);
	xmlNodePtr root = xmlDocGetRootElement(d);
	xmlNodePtr res = cg_xml_child(cg_xml_child(root, "reservationSet"), "item");
	assert_non_null(res);
	xmlNodePtr it = cg_xml_path(res, "instancesSet/item");
	char buf[64];
	assert_string_equal(cg_xml_textb(it, "instanceId", buf, sizeof(buf)), "i-0aaa");
	assert_string_equal(cg_xml_textb(it, "instanceState/name", buf, sizeof(buf)), "running");
	assert_string_equal(cg_xml_textb(it, "placement/availabilityZone", buf, sizeof(buf)),
			    "us-west-1c");
	int tags = 0;
	for (xmlNodePtr t = cg_xml_path(it, "tagSet/item"); t; t = cg_xml_next(t, "item"))
		tags++;
	assert_int_equal(tags, 4);
	it = cg_xml_next(it, "item");
	assert_non_null(it);
	assert_string_equal(cg_xml_textb(it, "ipAddress", buf, sizeof(buf)), "");
	char *missing = cg_xml_text(it, "ipAddress");
	assert_null(missing);
	assert_null(cg_xml_next(it, "item"));
	char *tok = cg_xml_text(root, "nextToken");
	assert_string_equal(tok, "tok-2");
	free(tok);
	xmlFreeDoc(d);
	free(b);
	assert_null(cg_xml_parse("not xml", 7));
}

static void test_body_encoding(void **state)
{
	(void)state;
	struct cg_ec2_params p = { 0 };
	cg_ec2_params_add(&p, "TagSpecification.1.Tag.1.Key", "cassandgo:cluster");
	cg_ec2_params_add(&p, "UserData", "I2Ns+b/3=");
	cg_ec2_params_addf(&p, "Name", "[%s] n%d %s", "DC1", 3, "Multi DC");
	char *body = cg_ec2_params_body("RunInstances", &p);
	assert_string_equal(body,
			    "Action=RunInstances&Version=2016-11-15"
			    "&TagSpecification.1.Tag.1.Key=cassandgo%3Acluster"
			    "&UserData=I2Ns%2Bb%2F3%3D&Name=%5BDC1%5D%20n3%20Multi%20DC");
	free(body);
	cg_ec2_params_free(&p);
}

static void test_endpoint(void **state)
{
	(void)state;
	unsetenv("AWS_ENDPOINT_URL_EC2");
	unsetenv("AWS_ENDPOINT_URL");
	char *e = cg_ec2_endpoint("eu-west-1");
	assert_string_equal(e, "https://ec2.eu-west-1.amazonaws.com/");
	free(e);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000", 1);
	e = cg_ec2_endpoint("eu-west-1");
	assert_string_equal(e, "http://127.0.0.1:5000/");
	free(e);
	setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.2:6000/", 1);
	e = cg_ec2_endpoint("eu-west-1");
	assert_string_equal(e, "http://127.0.0.2:6000/");
	free(e);
	unsetenv("AWS_ENDPOINT_URL_EC2");
	unsetenv("AWS_ENDPOINT_URL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response_errors),
		cmocka_unit_test(test_non_xml),
		cmocka_unit_test(test_quiet),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_body_encoding),
		cmocka_unit_test(test_endpoint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
