/*
 * xml.c - EC2 XML answers and errors; see xml.h.
 */
#include "xml.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

static void quiet(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
}

xmlDocPtr cg_xml_parse(const char *body, size_t len)
{
	if (!body || !len || len > (size_t)0x7fffffff)
		return NULL;
	/* Library code does not print. NOERROR/NOWARNING silence the parser,
	 * but not the encoding and I/O layers (a body declaring EUC-JP with
	 * bytes that are not makes libxml2 write "encoding error" to stderr):
	 * a do-nothing handler for this thread (libxml2's error handlers are
	 * per thread) catches those, the previous one is put back after. */
	xmlStructuredErrorFunc prev = xmlStructuredError;
	void *prev_ctx = xmlStructuredErrorContext;
	xmlSetStructuredErrorFunc(NULL, quiet);
	/* NONET: never fetch anything. */
	xmlDocPtr d = xmlReadMemory(body, (int)len, "ec2.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				    XML_PARSE_NOBLANKS);
	xmlSetStructuredErrorFunc(prev_ctx, prev);
	return d;
}

static bool is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       (!name || !strcmp((const char *)n->name, name));
}

xmlNodePtr cg_xml_child(xmlNodePtr n, const char *name)
{
	if (!n)
		return NULL;
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

xmlNodePtr cg_xml_next(xmlNodePtr n, const char *name)
{
	if (!n)
		return NULL;
	for (xmlNodePtr c = n->next; c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

xmlNodePtr cg_xml_path(xmlNodePtr n, const char *path)
{
	if (!path || !*path)
		return n;
	char seg[128];
	const char *p = path;
	while (n && *p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len >= sizeof(seg))
			return NULL;
		memcpy(seg, p, len);
		seg[len] = 0;
		n = cg_xml_child(n, seg);
		p += len;
		if (*p == '/')
			p++;
	}
	return n;
}

char *cg_xml_text(xmlNodePtr n, const char *path)
{
	n = cg_xml_path(n, path);
	if (!n)
		return NULL;
	xmlChar *t = xmlNodeGetContent(n);
	if (!t)
		return cg_xstrdup("");
	char *s = cg_xstrdup((const char *)t);
	xmlFree(t);
	return s;
}

const char *cg_xml_textb(xmlNodePtr n, const char *path, char *buf, size_t size)
{
	char *t = cg_xml_text(n, path);
	snprintf(buf, size, "%s", t ? t : "");
	free(t);
	return buf;
}

/* Status + first bytes of a body, printable ASCII only (a body may hold
 * anything, including terminal escapes). */
static void sanitized_head(long status, const char *body, size_t len, char *out, size_t n)
{
	int k = snprintf(out, n, "HTTP %ld: ", status);
	size_t j = k > 0 ? (size_t)k : 0;
	bool space = false;
	for (size_t i = 0; body && i < len && i < 200 && j + 4 < n; i++) {
		unsigned char c = (unsigned char)body[i];
		if (isspace(c)) {
			space = true;
			continue;
		}
		if (space && j > (size_t)k)
			out[j++] = ' ';
		space = false;
		out[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (len > 200 && j + 4 < n) {
		memcpy(out + j, "...", 3);
		j += 3;
	}
	if (!body || !len)
		j += snprintf(out + j, n - j, "(empty body)");
	out[j < n ? j : n - 1] = 0;
}

void cg_ec2_parse_error(long status, const char *body, size_t len, struct cg_ec2_error *out)
{
	memset(out, 0, sizeof(*out));
	out->http_status = status;
	xmlDocPtr doc = cg_xml_parse(body, len);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNodePtr e = NULL;
	if (root) {
		if (is(root, "Error"))
			e = root;
		else if (is(root, "ErrorResponse"))
			e = cg_xml_child(root, "Error");
		else
			e = cg_xml_path(root, "Errors/Error");
		if (!e)
			e = cg_xml_child(root, "Error");
	}
	/* an empty <Code/> says no more than no code: the raw answer does */
	if (e)
		cg_xml_textb(e, "Code", out->code, sizeof(out->code));
	if (out->code[0]) {
		cg_xml_textb(e, "Message", out->message, sizeof(out->message));
		cg_xml_textb(root, "RequestID", out->request_id, sizeof(out->request_id));
		if (!out->request_id[0])
			cg_xml_textb(root, "RequestId", out->request_id, sizeof(out->request_id));
		/* all three come from the far side and are printed: keep them
		 * printable */
		char *const fields[] = {out->code, out->message, out->request_id};
		for (size_t f = 0; f < sizeof(fields) / sizeof(*fields); f++)
			for (char *c = fields[f]; *c; c++)
				if ((unsigned char)*c < 0x20)
					*c = ' ';
	} else {
		snprintf(out->code, sizeof(out->code), "NonXml");
		sanitized_head(status, body, len, out->message, sizeof(out->message));
	}
	if (doc)
		xmlFreeDoc(doc);
}

bool cg_ec2_error_throttled(const struct cg_ec2_error *e)
{
	static const char *const codes[] = {
		"RequestLimitExceeded", "Throttling", "ThrottlingException",
		"RequestThrottled", "RequestThrottledException", "TooManyRequestsException",
		"SlowDown", "PriorRequestNotComplete", NULL
	};
	for (int i = 0; codes[i]; i++)
		if (!strcmp(e->code, codes[i]))
			return true;
	return e->http_status == 429;
}

bool cg_ec2_error_retryable(const struct cg_ec2_error *e)
{
	static const char *const codes[] = {
		"InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable",
		"RequestTimeout", "RequestTimeoutException", "Network", NULL
	};
	/* capacity answers come as 500s but retrying the same request in the
	 * same zone is pointless: the caller reports them */
	static const char *const final[] = {
		"InsufficientInstanceCapacity", "InsufficientHostCapacity",
		"InsufficientCapacity", "Unsupported", NULL
	};
	for (int i = 0; final[i]; i++)
		if (!strcmp(e->code, final[i]))
			return false;
	if (cg_ec2_error_throttled(e))
		return true;
	for (int i = 0; codes[i]; i++)
		if (!strcmp(e->code, codes[i]))
			return true;
	return e->http_status == 0 || e->http_status >= 500;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

bool cg_ec2_error_notfound(const struct cg_ec2_error *e)
{
	return ends_with(e->code, "NotFound") || ends_with(e->code, ".Malformed.NotFound");
}

bool cg_ec2_error_duplicate(const struct cg_ec2_error *e)
{
	return ends_with(e->code, ".Duplicate") || !strcmp(e->code, "Duplicate");
}
