/*
 * xml.h - EC2 answers read with libxml2, by element local name (namespaces
 * ignored: moto's differs from AWS's by a trailing slash), and every error
 * shape EC2 and its look-alikes produce.
 *
 * Ownership: cg_xml_parse returns a document freed with xmlFreeDoc();
 * cg_xml_text returns a heap string (or NULL) the caller frees.
 */
#ifndef CG_EC2_XML_H
#define CG_EC2_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <libxml/tree.h>
#include "../../util/util.h"

/* Parse body; NULL when it is not well-formed XML (no output printed). */
xmlDocPtr cg_xml_parse(const char *body, size_t len);

/* First element child of n with local name `name` (NULL name: any). */
xmlNodePtr cg_xml_child(xmlNodePtr n, const char *name);
/* Next element sibling of n with the same local name as `name`. */
xmlNodePtr cg_xml_next(xmlNodePtr n, const char *name);
/* Follow a path of local names "a/b/c" from n; NULL when absent. */
xmlNodePtr cg_xml_path(xmlNodePtr n, const char *path);
/* Text content at path below n (path NULL or "" = n itself). */
char *cg_xml_text(xmlNodePtr n, const char *path);
/* Like cg_xml_text into a fixed buffer; "" when absent. */
const char *cg_xml_textb(xmlNodePtr n, const char *path, char *buf, size_t size);

/* A failed EC2 call, as reported to callers. */
struct cg_ec2_error {
	long http_status;	/* 0 = no HTTP answer (network error) */
	char code[96];		/* "RequestLimitExceeded", "InvalidGroup.NotFound", "Network", "NonXml" */
	char message[512];	/* the service's message, or status + first bytes */
	char request_id[96];
	bool ambiguous;		/* the request may have been carried out */
};

/*
 * Read an error answer: <Response><Errors><Error>, <ErrorResponse><Error>,
 * a bare <Error>, or anything else (non-XML: code "NonXml", message
 * "HTTP <status>: <first bytes, control characters replaced>").
 */
void cg_ec2_parse_error(long status, const char *body, size_t len, struct cg_ec2_error *out);

/* Is this error worth retrying as-is (throttling, 5xx, network)? */
bool cg_ec2_error_retryable(const struct cg_ec2_error *e);
/* Throttling specifically (the request was not carried out). */
bool cg_ec2_error_throttled(const struct cg_ec2_error *e);
/* "...NotFound" codes (eventual consistency right after a create). */
bool cg_ec2_error_notfound(const struct cg_ec2_error *e);
/* "...Duplicate" codes: the object already exists. */
bool cg_ec2_error_duplicate(const struct cg_ec2_error *e);

#endif
