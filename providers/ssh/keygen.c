/*
 * keygen.c - ed25519 keys in OpenSSH's formats, made in process with OpenSSL
 * (no ssh-keygen on the path needed, nothing secret on a command line).
 *
 * openssh-key-v1 (PROTOCOL.key): "openssh-key-v1\0", cipher "none", kdf
 * "none", kdf options "", 1 key, the public blob, then the private section:
 * two equal check words, type, pub(32), seed||pub (64), comment, padding
 * 1,2,3.. to a multiple of 8.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>

#include "ssh.h"

#define MAGIC "openssh-key-v1"
#define PEM_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define PEM_END "-----END OPENSSH PRIVATE KEY-----"

static void put_u32(struct cg_buf *b, uint32_t v)
{
	unsigned char x[4] = { v >> 24, v >> 16, v >> 8, v };
	cg_buf_add(b, x, 4);
}

static void put_str(struct cg_buf *b, const void *p, size_t n)
{
	put_u32(b, (uint32_t)n);
	cg_buf_add(b, p, n);
}

static char *b64(const unsigned char *p, size_t n)
{
	char *out = cg_xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* Decode base64 (no whitespace); *n excludes padding. NULL when invalid. */
static unsigned char *unb64(const char *s, size_t len, size_t *n)
{
	if (len == 0 || len % 4)
		return NULL;
	unsigned char *out = cg_xmalloc(len / 4 * 3 + 1);
	int r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (r < 0) {
		free(out);
		return NULL;
	}
	size_t pad = (s[len - 1] == '=') + (s[len - 2] == '=');
	*n = (size_t)r - pad;
	return out;
}

static void pub_blob(struct cg_buf *b, const unsigned char pub[32])
{
	put_str(b, "ssh-ed25519", 11);
	put_str(b, pub, 32);
}

static char *pub_line_of(const unsigned char pub[32], const char *comment)
{
	struct cg_buf blob = {0};
	pub_blob(&blob, pub);
	char *enc = b64((unsigned char *)blob.data, blob.len);
	char *line = cg_xasprintf("ssh-ed25519 %s%s%s", enc, comment && *comment ? " " : "",
				  comment ? comment : "");
	free(enc);
	cg_buf_free(&blob);
	return line;
}

static char *priv_text_of(const unsigned char seed[32], const unsigned char pub[32],
			  const char *comment)
{
	struct cg_buf b = {0}, priv = {0}, blob = {0};
	uint32_t check;
	RAND_bytes((unsigned char *)&check, sizeof(check));

	cg_buf_add(&b, MAGIC, sizeof(MAGIC));	/* with its NUL */
	put_str(&b, "none", 4);
	put_str(&b, "none", 4);
	put_str(&b, "", 0);
	put_u32(&b, 1);
	pub_blob(&blob, pub);
	put_str(&b, blob.data, blob.len);

	put_u32(&priv, check);
	put_u32(&priv, check);
	put_str(&priv, "ssh-ed25519", 11);
	put_str(&priv, pub, 32);
	put_u32(&priv, 64);
	cg_buf_add(&priv, seed, 32);
	cg_buf_add(&priv, pub, 32);
	put_str(&priv, comment, strlen(comment));
	for (unsigned char pad = 1; priv.len % 8; pad++)
		cg_buf_add(&priv, &pad, 1);
	put_str(&b, priv.data, priv.len);

	char *enc = b64((unsigned char *)b.data, b.len);
	struct cg_buf pem = {0};
	cg_buf_adds(&pem, PEM_BEGIN "\n");
	for (size_t i = 0, n = strlen(enc); i < n; i += 70) {
		cg_buf_add(&pem, enc + i, n - i < 70 ? n - i : 70);
		cg_buf_adds(&pem, "\n");
	}
	cg_buf_adds(&pem, PEM_END "\n");

	OPENSSL_cleanse(priv.data, priv.len);
	OPENSSL_cleanse(b.data, b.len);
	OPENSSL_cleanse(enc, strlen(enc));
	free(enc);
	cg_buf_free(&priv);
	cg_buf_free(&b);
	cg_buf_free(&blob);
	return cg_buf_detach(&pem);
}

static int gen(unsigned char seed[32], unsigned char pub[32], struct cg_err *err)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *key = NULL;
	size_t sl = 32, pl = 32;
	int ok = ctx && EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_keygen(ctx, &key) > 0 &&
		 EVP_PKEY_get_raw_private_key(key, seed, &sl) > 0 &&
		 EVP_PKEY_get_raw_public_key(key, pub, &pl) > 0 && sl == 32 && pl == 32;
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return cg_error(err, CG_EXIT_ERROR, "cannot generate an ed25519 key (OpenSSL)");
	return 0;
}

int cg_ssh_keygen_mem(char **priv_openssh, char **pub_line, struct cg_err *err)
{
	unsigned char seed[32], pub[32];
	if (gen(seed, pub, err))
		return -1;
	*priv_openssh = priv_text_of(seed, pub, "cassandgo");
	if (pub_line)
		*pub_line = pub_line_of(pub, "cassandgo");
	OPENSSL_cleanse(seed, sizeof(seed));
	return 0;
}

struct rd {
	const unsigned char *p;
	size_t n;
};

static int get_u32(struct rd *r, uint32_t *v)
{
	if (r->n < 4)
		return -1;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->n -= 4;
	return 0;
}

static int get_str(struct rd *r, const unsigned char **s, size_t *len)
{
	uint32_t l;
	if (get_u32(r, &l) || l > r->n)
		return -1;
	*s = r->p;
	*len = l;
	r->p += l;
	r->n -= l;
	return 0;
}

int cg_ssh_pub_from_priv(const char *text, char **pub_line, struct cg_err *err)
{
	const char *a = strstr(text, PEM_BEGIN), *z = strstr(text, PEM_END);
	if (!a || !z || z < a)
		return cg_error(err, CG_EXIT_ERROR, "not an OpenSSH private key");
	struct cg_buf body = {0};
	for (const char *p = a + strlen(PEM_BEGIN); p < z; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ')
			cg_buf_add(&body, p, 1);
	size_t n = 0;
	unsigned char *raw = unb64(body.data ? body.data : "", body.len, &n);
	cg_buf_free(&body);
	int rc = -1;
	struct rd r = { raw, n };
	const unsigned char *s, *blob;
	size_t sl, bl;
	uint32_t nkeys;
	if (!raw || n < sizeof(MAGIC) || memcmp(raw, MAGIC, sizeof(MAGIC)))
		goto bad;
	r.p += sizeof(MAGIC);
	r.n -= sizeof(MAGIC);
	if (get_str(&r, &s, &sl) || get_str(&r, &s, &sl) || get_str(&r, &s, &sl) ||
	    get_u32(&r, &nkeys) || nkeys != 1 || get_str(&r, &blob, &bl))
		goto bad;
	struct rd br = { blob, bl };
	if (get_str(&br, &s, &sl) || sl != 11 || memcmp(s, "ssh-ed25519", 11) ||
	    get_str(&br, &s, &sl) || sl != 32)
		return cg_error(err, CG_EXIT_ERROR, "not an ed25519 key (only ed25519 is supported)"),
		       free(raw), -1;
	*pub_line = pub_line_of(s, NULL);
	rc = 0;
	goto out;
bad:
	cg_error(err, CG_EXIT_ERROR, "not an OpenSSH private key (openssh-key-v1)");
out:
	if (raw)
		OPENSSL_cleanse(raw, n);
	free(raw);
	return rc;
}

int cg_ssh_keygen(const char *path, char **pub_line, struct cg_err *err)
{
	char *pubpath = cg_xasprintf("%s.pub", path);
	char *text = NULL;
	int rc = -1;
	if (access(path, F_OK) == 0) {
		/* Existing key: keep it; prefer the .pub (keeps its comment). */
		char *pub = NULL;
		if (cg_file_read(pubpath, &pub, NULL, NULL) == 0 && strncmp(pub, "ssh-", 4) == 0) {
			pub[strcspn(pub, "\r\n")] = 0;
			if (pub_line)
				*pub_line = pub;
			else
				free(pub);
			rc = 0;
			goto out;
		}
		free(pub);
		if (cg_file_read(path, &text, NULL, err))
			goto out;
		char *line = NULL;
		if (cg_ssh_pub_from_priv(text, &line, err)) {
			cg_error_wrap(err, "%s", path);
			goto out;
		}
		if (pub_line)
			*pub_line = line;
		else
			free(line);
		rc = 0;
		goto out;
	}
	char *dir = cg_dirname(path);
	int mk = cg_mkdir_p(dir, 0700, err);
	free(dir);
	if (mk)
		goto out;
	char *pub = NULL;
	if (cg_ssh_keygen_mem(&text, &pub, err))
		goto out;
	char *publn = cg_xasprintf("%s\n", pub);
	/* .pub first: a crash in between leaves no private key without it. */
	if (cg_file_write_atomic(pubpath, publn, strlen(publn), 0644, err) ||
	    cg_file_write_atomic(path, text, strlen(text), 0600, err)) {
		free(publn);
		free(pub);
		goto out;
	}
	free(publn);
	if (pub_line)
		*pub_line = pub;
	else
		free(pub);
	rc = 0;
out:
	if (text) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	free(pubpath);
	return rc;
}

/* Split "<type> <b64> [comment]" -> decoded blob. */
static unsigned char *line_blob(const char *line, size_t *n)
{
	if (!line)
		return NULL;
	while (*line == ' ' || *line == '\t')
		line++;
	const char *sp = strpbrk(line, " \t");
	if (!sp)
		return NULL;
	while (*sp == ' ' || *sp == '\t')
		sp++;
	size_t len = strcspn(sp, " \t\r\n");
	return unb64(sp, len, n);
}

char *cg_ssh_fingerprint(const char *pub_line)
{
	size_t n;
	unsigned char *blob = line_blob(pub_line, &n);
	if (!blob)
		return NULL;
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(blob, n, md);
	free(blob);
	char *enc = b64(md, sizeof(md));
	enc[strcspn(enc, "=")] = 0;
	char *fp = cg_xasprintf("SHA256:%s", enc);
	free(enc);
	return fp;
}

int cg_ssh_key_equal(const char *a, const char *b)
{
	size_t na, nb;
	unsigned char *ba = line_blob(a, &na), *bb = line_blob(b, &nb);
	int eq = ba && bb && na == nb && memcmp(ba, bb, na) == 0;
	free(ba);
	free(bb);
	return eq;
}
