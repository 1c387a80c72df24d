/*
 * keypair.c - keypair.<region>: the local ed25519 key imported as the
 * region's key pair, applied and observed (see internal.h).
 */
#include "internal.h"
#include "../ssh/ssh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *keys_dir(struct cg_provider *p)
{
	return cg_xasprintf("%s/keys", p->env && p->env->state_dir ? p->env->state_dir : ".cassandgo");
}

static char *key_path(struct cg_provider *p, const char *region)
{
	char *d = keys_dir(p);
	char *s = cg_xasprintf("%s/%s-%s", d, p->c->name, region);
	free(d);
	return s;
}

static int keypair_describe(struct cg_provider *p, const char *region, const char *name,
			    xmlDocPtr *doc, xmlNodePtr *item, struct cg_err *err)
{
	struct cg_ec2_params pa = { 0 };
	int nf = 0;
	ec2_add_filter1(&pa, &nf, "key-name", name);
	cg_ec2_params_add(&pa, "IncludePublicKey", "true");
	int rc = ec2_call(p, region, "DescribeKeyPairs", &pa, 0, doc, NULL, err);
	cg_ec2_params_free(&pa);
	if (rc < 0)
		return -1;
	*item = cg_xml_path(ec2_root(*doc), "keySet/item");
	return 0;
}

int ec2_keypair_apply(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
		      const struct cg_resource *desired, const struct cg_resource *current,
		      struct cg_resource *result, struct cg_err *err)
{
	const struct cg_resource *r = desired ? desired : current;
	const char *region = r->region;
	char *defname = ec2_sg_name(p, region);
	const char *name = cg_res_get(r, "name") ? cg_res_get(r, "name") : defname;
	char *path = key_path(p, region);
	int rc = -1;
	char *pub = NULL, *kid = NULL, *fp = NULL;
	xmlDocPtr d = NULL;
	xmlNodePtr it = NULL;

	if (op == CG_OP_DELETE) {
		ec2_progress(ctx, r->addr, "deleting key pair");
		struct cg_ec2_params pa = { 0 };
		cg_ec2_params_add(&pa, "KeyName", name);
		struct cg_ec2_error e;
		rc = ec2_call(p, region, "DeleteKeyPair", &pa, 0, NULL, &e, err);
		cg_ec2_params_free(&pa);
		if (rc < 0 && cg_ec2_error_notfound(&e))
			rc = 0;
		if (rc == 0) {
			/* Its instances are gone: the private key has no use left. */
			char *pubp = cg_xasprintf("%s.pub", path);
			unlink(path);
			unlink(pubp);
			free(pubp);
		}
		goto out;
	}

	char *kd = keys_dir(p);
	rc = cg_mkdir_p(kd, 0700, err);
	free(kd);
	if (rc < 0)
		goto out;
	rc = -1;
	if (cg_ssh_keygen(path, &pub, err) < 0)
		goto out;
	ec2_progress(ctx, r->addr, "importing key pair");
	struct cg_ec2_params pa = { 0 };
	cg_ec2_params_add(&pa, "KeyName", name);
	char *mat = ec2_b64(pub);
	cg_ec2_params_add(&pa, "PublicKeyMaterial", mat);
	free(mat);
	const char *tags[] = { TAG_CLUSTER, p->c->name, "Name", name };
	ec2_add_tags(&pa, 1, "key-pair", tags, 2);
	struct cg_ec2_error e;
	int crc = ec2_call(p, region, "ImportKeyPair", &pa, 0, &d, &e, err);
	cg_ec2_params_free(&pa);
	if (crc == 0) {
		kid = cg_xml_text(ec2_root(d), "keyPairId");
		fp = cg_xml_text(ec2_root(d), "keyFingerprint");
		xmlFreeDoc(d);
		d = NULL;
	} else if (cg_ec2_error_duplicate(&e)) {
		if (keypair_describe(p, region, name, &d, &it, err) < 0)
			goto out;
		char *remote = cg_xml_text(it, "publicKey");
		bool same = remote && cg_ssh_key_equal(remote, pub);
		free(remote);
		if (!same) {
			cg_error(err, CG_EXIT_ERROR,
				 "%s: key pair %s already exists in %s with another public key than "
				 "%s; delete it (aws ec2 delete-key-pair --region %s --key-name %s) or "
				 "restore the matching private key file", r->addr, name, region, path,
				 region, name);
			goto out;
		}
		kid = cg_xml_text(it, "keyPairId");
		fp = cg_xml_text(it, "keyFingerprint");
	} else {
		goto out;
	}
	cg_res_copy(result, desired);
	cg_res_set_id(result, kid && *kid ? kid : name);
	cg_res_set(result, "fingerprint", fp, CG_ATTR_INFO);
	cg_res_set(result, "key_file", path, CG_ATTR_INFO);
	rc = 0;
out:
	if (d)
		xmlFreeDoc(d);
	free(pub);
	free(kid);
	free(fp);
	free(path);
	free(defname);
	return rc;
}

int ec2_keypair_refresh(struct region_job *j)
{
	struct cg_provider *p = j->p;
	char *name = ec2_sg_name(p, j->region);
	xmlDocPtr d = NULL;
	xmlNodePtr it = NULL;
	int rc = keypair_describe(p, j->region, name, &d, &it, &j->err);
	char *path = key_path(p, j->region);
	if (it) {
		/* Only a key pair holding our local key counts as ours: any other
		 * (or one whose private half is lost) is left out, so the plan
		 * creates it and ImportKeyPair explains the conflict instead of
		 * instances being launched with a key nobody here holds. */
		char *remote = cg_xml_text(it, "publicKey");
		char *local = NULL;
		struct cg_err ignored = { 0 };
		bool ours = remote && access(path, R_OK) == 0 &&
			    cg_ssh_keygen(path, &local, &ignored) == 0 && cg_ssh_key_equal(remote, local);
		if (!remote && access(path, R_OK) == 0)
			ours = true;	/* an endpoint without IncludePublicKey */
		free(remote);
		free(local);
		/* (state import records it anyway, so that destroy removes it) */
		if (!ours && !(p->env && p->env->importing))
			it = NULL;
	}
	if (it) {
		char *addr = cg_addr_region(CG_KIND_KEYPAIR, j->region);
		struct cg_resource *r = cg_rset_new(&j->live, CG_KIND_KEYPAIR, addr);
		free(addr);
		r->region = cg_xstrdup(j->region);
		char *kid = cg_xml_text(it, "keyPairId");
		cg_res_set_id(r, kid && *kid ? kid : name);
		free(kid);
		cg_res_set(r, "name", name, CG_ATTR_FORCENEW);
		char *fp = cg_xml_text(it, "keyFingerprint");
		cg_res_set(r, "fingerprint", fp, CG_ATTR_INFO);
		free(fp);
		cg_res_set(r, "key_file", path, CG_ATTR_INFO);
	}
	free(path);
	if (d)
		xmlFreeDoc(d);
	free(name);
	return rc;
}
