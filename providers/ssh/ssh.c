/*
 * ssh.c - libssh2 sessions, non-blocking throughout: every wait is a poll()
 * on the directions libssh2 is blocked on, bounded by a deadline, so no step
 * can hang (FACTS.md "libssh2 1.10" lists the traps avoided here).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libssh2.h>
#include <openssl/evp.h>

#include "ssh.h"

#define KEEPALIVE_S 15

struct cg_ssh {
	int fd;
	LIBSSH2_SESSION *sess;
	char *name;
	int io_timeout_ms;
	int broken;		/* a step timed out or failed mid-way */
	int ready;		/* authenticated: keepalives allowed (never during kex) */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void do_init(void)
{
	init_rc = libssh2_init(0);
}

static const char *sess_msg(LIBSSH2_SESSION *sess)
{
	char *m = NULL;
	if (!sess)
		return "";
	libssh2_session_last_error(sess, &m, NULL, 0);
	return m ? m : "";
}

/*
 * Wait until libssh2 can make progress or the deadline passes (-1). When
 * libssh2 reports no direction, wait only briefly: it may be waiting on
 * nothing. Keepalives go out only when nothing outbound is pending (a
 * keepalive must never interleave with a half-sent packet).
 */
static int wait_io(struct cg_ssh *s, int64_t deadline)
{
	int64_t left = deadline - cg_now_ms();
	if (left <= 0)
		return -1;
	int dirs = libssh2_session_block_directions(s->sess);
	struct pollfd p = { .fd = s->fd };
	int ms = left > 1000 ? 1000 : (int)left;
	if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
		p.events |= POLLIN;
	if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		p.events |= POLLOUT;
	if (!p.events) {
		p.events = POLLIN;
		if (ms > 10)
			ms = 10;
	}
	if (poll(&p, 1, ms) < 0 && errno != EINTR)
		return -1;
	if (s->ready && dirs == LIBSSH2_SESSION_BLOCK_INBOUND) {
		int next;
		libssh2_keepalive_send(s->sess, &next);
	}
	return 0;
}

/* --- connecting --------------------------------------------------------- */

/* TCP connect with a deadline. *transient = worth retrying. */
static int tcp_connect(const struct cg_ssh_target *t, int64_t deadline, int *fd_out,
		       int *transient, struct cg_err *err)
{
	char port[16];
	snprintf(port, sizeof(port), "%d", t->port ? t->port : 22);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int g = getaddrinfo(t->host, port, &hints, &ai);
	if (g) {
		*transient = g == EAI_AGAIN;
		return cg_error(err, CG_EXIT_ERROR, "%s: cannot resolve %s: %s", t->name,
				t->host, gai_strerror(g));
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		*transient = 0;
		return cg_error(err, CG_EXIT_ERROR, "socket: %s", strerror(errno));
	}
	int e = 0;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		e = errno;
		if (e == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int64_t left = deadline - cg_now_ms();
			/* At least a moment: a refusal arrives at once even at the deadline. */
			if (left < 200)
				left = 200;
			int r = poll(&p, 1, left > 5000 ? 5000 : (int)left);
			if (r == 0) {
				e = ETIMEDOUT;
			} else if (r < 0) {
				e = errno;
			} else {
				socklen_t sl = sizeof(e);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) != 0)
					e = errno;
			}
		}
	}
	freeaddrinfo(ai);
	if (e) {
		close(fd);
		*transient = e == ECONNREFUSED || e == ETIMEDOUT || e == EHOSTUNREACH ||
			     e == ENETUNREACH || e == ECONNRESET || e == EINTR || e == ECONNABORTED;
		return cg_error(err, CG_EXIT_ERROR, "%s: cannot connect to %s port %s: %s", t->name,
				t->host, port, strerror(e));
	}
	*fd_out = fd;
	return 0;
}

static char *server_key_line(LIBSSH2_SESSION *sess, int *type)
{
	size_t len = 0;
	const char *k = libssh2_session_hostkey(sess, &len, type);
	if (!k || !len)
		return NULL;
	char *enc = cg_xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)k, (int)len);
	char *line = cg_xasprintf("ssh-ed25519 %s", enc);
	free(enc);
	return line;
}

/* The server's key must equal the expected one and the pinned one. */
static int verify_host(const struct cg_ssh_target *t, const char *server,
		       struct cg_err *err)
{
	char *pinned = NULL;
	if (cg_ssh_knownhosts_get(t->known_hosts, t->alias, &pinned, err))
		return -1;
	char *fs = cg_ssh_fingerprint(server);
	int rc = 0;
	if (t->host_key && !cg_ssh_key_equal(server, t->host_key)) {
		char *fe = cg_ssh_fingerprint(t->host_key);
		rc = cg_error(err, CG_EXIT_ERROR,
			      "host key of %s (%s) does not match: the server offers %s, "
			      "cassandgo expects %s (the machine's host_key); refusing to connect",
			      t->name, t->host, fs, fe ? fe : "(invalid key)");
		free(fe);
	} else if (pinned && !cg_ssh_key_equal(server, pinned) && t->repin && t->host_key) {
		/* Server proved the expected key: the pin is an earlier machine's. */
		rc = cg_ssh_knownhosts_pin(t->known_hosts, t->alias, t->host_key, err);
	} else if (pinned && !cg_ssh_key_equal(server, pinned)) {
		char *fp = cg_ssh_fingerprint(pinned);
		rc = cg_error(err, CG_EXIT_ERROR,
			      "host key of %s (%s) changed: the server offers %s, %s pins %s "
			      "for %s; refusing to connect",
			      t->name, t->host, fs, t->known_hosts, fp ? fp : "(invalid)", t->alias);
		free(fp);
	} else if (!pinned && !t->host_key) {
		rc = cg_error(err, CG_EXIT_ERROR,
			      "unknown host key of %s (%s): the server offers %s, nothing is "
			      "pinned for %s in %s and no key is expected; refusing to connect",
			      t->name, t->host, fs, t->alias, t->known_hosts);
	} else if (!pinned) {
		/* The expected key comes from the tool itself: not trust on first use. */
		rc = cg_ssh_knownhosts_pin(t->known_hosts, t->alias, t->host_key, err);
	}
	free(fs);
	free(pinned);
	return rc;
}

static void sess_free(struct cg_ssh *s)
{
	if (s->sess) {
		if (s->broken) {
			/* Unblock whatever libssh2 still wants to say on a dead link. */
			shutdown(s->fd, SHUT_RDWR);
		} else {
			int64_t dl = cg_now_ms() + 2000;
			while (libssh2_session_disconnect(s->sess, "bye") == LIBSSH2_ERROR_EAGAIN)
				if (wait_io(s, dl))
					break;
		}
		libssh2_session_set_blocking(s->sess, 1);
		shutdown(s->fd, SHUT_RDWR);
		libssh2_session_free(s->sess);
		s->sess = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* One attempt. *transient = the failure may go away by retrying. */
static int attempt(const struct cg_ssh_target *t, struct cg_ssh *s, int64_t deadline,
		   int *transient, struct cg_err *err)
{
	*transient = 0;
	if (tcp_connect(t, deadline, &s->fd, transient, err))
		return -1;
	s->sess = libssh2_session_init();
	if (!s->sess)
		return cg_error(err, CG_EXIT_ERROR, "%s: libssh2_session_init failed", t->name);
	libssh2_session_set_blocking(s->sess, 0);
	libssh2_keepalive_config(s->sess, 1, KEEPALIVE_S);
	if (libssh2_session_method_pref(s->sess, LIBSSH2_METHOD_HOSTKEY, "ssh-ed25519"))
		return cg_error(err, CG_EXIT_ERROR, "%s: libssh2 lacks ssh-ed25519", t->name);

	int64_t step = cg_now_ms() + s->io_timeout_ms;
	if (step > deadline && deadline > cg_now_ms())
		step = deadline;
	int rc;
	while ((rc = libssh2_session_handshake(s->sess, s->fd)) == LIBSSH2_ERROR_EAGAIN)
		if (wait_io(s, step)) {
			*transient = 1;
			return cg_error(err, CG_EXIT_ERROR, "%s: SSH handshake with %s timed out",
					t->name, t->host);
		}
	if (rc) {
		/* Banner lost, reset: sshd starting or dropping excess connects. */
		*transient = rc == LIBSSH2_ERROR_SOCKET_RECV || rc == LIBSSH2_ERROR_BANNER_RECV ||
			     rc == LIBSSH2_ERROR_SOCKET_SEND || rc == LIBSSH2_ERROR_SOCKET_DISCONNECT ||
			     rc == LIBSSH2_ERROR_TIMEOUT;
		/* A key exchange that fails is a mismatch of algorithms, not a boot
		 * in progress: fail at once. */
		return cg_error(err, CG_EXIT_ERROR, "%s: SSH handshake with %s failed (%d): %s%s",
				t->name, t->host, rc, sess_msg(s->sess),
				rc == LIBSSH2_ERROR_KEX_FAILURE
				? " (cassandgo needs an ssh-ed25519 host key)" : "");
	}
	int type = 0;
	char *server = server_key_line(s->sess, &type);
	if (!server || type != LIBSSH2_HOSTKEY_TYPE_ED25519) {
		free(server);
		return cg_error(err, CG_EXIT_ERROR, "%s: %s offers no ssh-ed25519 host key",
				t->name, t->host);
	}
	rc = verify_host(t, server, err);
	free(server);
	if (rc)
		return -1;

	step = cg_now_ms() + s->io_timeout_ms;
	while ((rc = libssh2_userauth_publickey_fromfile(s->sess, t->user, NULL, t->key_file,
							  NULL)) == LIBSSH2_ERROR_EAGAIN)
		if (wait_io(s, step)) {
			*transient = 1;
			return cg_error(err, CG_EXIT_ERROR, "%s: authentication timed out", t->name);
		}
	if (rc) {
		*transient = rc == LIBSSH2_ERROR_SOCKET_RECV || rc == LIBSSH2_ERROR_SOCKET_SEND ||
			     rc == LIBSSH2_ERROR_SOCKET_DISCONNECT;
		return cg_error(err, CG_EXIT_ERROR,
				"%s: %s@%s refused key %s (%d): %s", t->name, t->user, t->host,
				t->key_file, rc, sess_msg(s->sess));
	}
	s->ready = 1;
	return 0;
}

int cg_ssh_connect(const struct cg_ssh_target *t, struct cg_ssh **out, struct cg_err *err)
{
	pthread_once(&init_once, do_init);
	if (init_rc)
		return cg_error(err, CG_EXIT_ERROR, "libssh2_init failed (%d)", init_rc);
	if (!t->host || !t->user || !t->key_file || !t->known_hosts || !t->alias)
		return cg_error(err, CG_EXIT_ERROR, "%s: incomplete SSH target (host, user, key, "
				"known_hosts, alias)", t->name ? t->name : "?");
	int total = t->connect_timeout_ms > 0 ? t->connect_timeout_ms : 60000;
	int64_t deadline = cg_now_ms() + total;
	struct cg_ssh *s = cg_xcalloc(1, sizeof(*s));
	s->fd = -1;
	s->name = cg_xstrdup(t->name ? t->name : t->host);
	s->io_timeout_ms = t->io_timeout_ms > 0 ? t->io_timeout_ms : 30000;
	int delay = 100, tries = 0;
	for (;;) {
		int transient = 0;
		tries++;
		if (attempt(t, s, deadline, &transient, err) == 0) {
			*out = s;
			return 0;
		}
		s->broken = 1;
		sess_free(s);
		s->broken = 0;
		s->ready = 0;
		int64_t now = cg_now_ms();
		if (!transient || now >= deadline) {
			if (transient)
				cg_error_wrap(err, "gave up after %d attempts in %d s", tries,
					      (int)((total + 999) / 1000));
			cg_ssh_close(s);
			return -1;
		}
		usleep((useconds_t)(deadline - now < delay ? deadline - now : delay) * 1000);
		if (delay < 1000)
			delay *= 2;
	}
}

int cg_ssh_usable(const struct cg_ssh *s)
{
	return s && s->ready && !s->broken;
}

int cg_ssh_alive(struct cg_ssh *s, int timeout_ms)
{
	struct cg_ssh_result r;
	struct cg_err e = {0};
	int ok = cg_ssh_exec(s, "true", NULL, 0, timeout_ms, &r, &e) == 0 && r.status == 0;
	cg_ssh_result_free(&r);
	return ok;
}

void cg_ssh_close(struct cg_ssh *s)
{
	if (!s)
		return;
	sess_free(s);
	free(s->name);
	free(s);
}

/* --- commands ------------------------------------------------------------ */

void cg_ssh_result_free(struct cg_ssh_result *r)
{
	free(r->signal);
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* Drain one stream; returns 1 when data came, 0 when none, -1 on error. */
static int drain(LIBSSH2_CHANNEL *ch, int stream, struct cg_buf *b)
{
	char chunk[32768];
	int got = 0;
	for (;;) {
		ssize_t n = libssh2_channel_read_ex(ch, stream, chunk, sizeof(chunk));
		if (n > 0) {
			cg_buf_add(b, chunk, (size_t)n);
			got = 1;
			continue;
		}
		if (n == 0 || n == LIBSSH2_ERROR_EAGAIN)
			return got;
		return -1;
	}
}

/* Pass what arrived on to sink (-1: keep it); a sink that went away (its
 * reader stopped) swallows the rest. */
static void to_sink(int *sink, struct cg_buf *b)
{
	if (*sink == -1 || !b->len)
		return;
	if (*sink < 0) {
		cg_buf_reset(b);
		return;
	}
	for (size_t off = 0; off < b->len;) {
		ssize_t w = write(*sink, b->data + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			*sink = -2;
			break;
		}
		off += (size_t)w;
	}
	cg_buf_reset(b);
}

static int exec_impl(struct cg_ssh *s, const char *cmd, const void *in, size_t in_len,
		     int timeout_ms, int sink, struct cg_ssh_result *res, struct cg_err *err);

int cg_ssh_exec(struct cg_ssh *s, const char *cmd, const void *in, size_t in_len,
		int timeout_ms, struct cg_ssh_result *res, struct cg_err *err)
{
	return exec_impl(s, cmd, in, in_len, timeout_ms, -1, res, err);
}

int cg_ssh_exec_stream(struct cg_ssh *s, const char *cmd, const void *in, size_t in_len,
		       int timeout_ms, int fd, struct cg_ssh_result *res, struct cg_err *err)
{
	return exec_impl(s, cmd, in, in_len, timeout_ms, fd, res, err);
}

static int exec_impl(struct cg_ssh *s, const char *cmd, const void *in, size_t in_len,
		     int timeout_ms, int sink, struct cg_ssh_result *res, struct cg_err *err)
{
	memset(res, 0, sizeof(*res));
	res->status = -1;
	if (s->broken)
		return cg_error(err, CG_EXIT_ERROR, "%s: SSH session unusable after an earlier "
				"failure", s->name);
	int64_t deadline = cg_now_ms() + (timeout_ms > 0 ? timeout_ms : s->io_timeout_ms);
	struct cg_buf out = {0}, eb = {0};
	LIBSSH2_CHANNEL *ch;
	const char *what = "opening a channel";
	int rc;
	while (!(ch = libssh2_channel_open_session(s->sess)) &&
	       libssh2_session_last_errno(s->sess) == LIBSSH2_ERROR_EAGAIN)
		if (wait_io(s, deadline))
			goto timeout;
	if (!ch)
		goto fail;
	what = "starting the command";
	while ((rc = libssh2_channel_exec(ch, cmd)) == LIBSSH2_ERROR_EAGAIN)
		if (wait_io(s, deadline))
			goto timeout;
	if (rc)
		goto fail;

	what = "running the command";
	size_t off = 0;
	int eof_sent = 0;
	for (;;) {
		int progress = 0;
		if (off < in_len && !libssh2_channel_eof(ch)) {
			size_t chunk = in_len - off > 32768 ? 32768 : in_len - off;
			ssize_t w = libssh2_channel_write(ch, (const char *)in + off, chunk);
			if (w > 0) {
				off += (size_t)w;
				progress = 1;
			} else if (w != LIBSSH2_ERROR_EAGAIN) {
				off = in_len;	/* the command stopped reading: fine */
			}
		}
		if ((off >= in_len || libssh2_channel_eof(ch)) && !eof_sent) {
			rc = libssh2_channel_send_eof(ch);
			if (rc == 0 || rc != LIBSSH2_ERROR_EAGAIN)
				eof_sent = 1;
			progress |= rc == 0;
		}
		int a = drain(ch, 0, &out), b = drain(ch, SSH_EXTENDED_DATA_STDERR, &eb);
		to_sink(&sink, &out);	/* what came before a failure too */
		to_sink(&sink, &eb);
		if (a < 0 || b < 0)
			goto fail;
		progress |= a | b;
		if (eof_sent && libssh2_channel_eof(ch) && !a && !b)
			break;
		if (!progress && wait_io(s, deadline))
			goto timeout;
	}
	what = "closing the channel";
	while ((rc = libssh2_channel_close(ch)) == LIBSSH2_ERROR_EAGAIN)
		if (wait_io(s, deadline))
			goto timeout;
	while ((rc = libssh2_channel_wait_closed(ch)) == LIBSSH2_ERROR_EAGAIN)
		if (wait_io(s, deadline))
			goto timeout;
	/* Status 0 is also what a killed command reports: ask for the signal. */
	char *sig = NULL;
	size_t sl = 0;
	libssh2_channel_get_exit_signal(ch, &sig, &sl, NULL, NULL, NULL, NULL);
	if (sig && sl) {
		res->signal = cg_xstrndup(sig, sl);
		res->status = -1;
	} else {
		res->status = libssh2_channel_get_exit_status(ch);
	}
	if (sig)
		libssh2_free(s->sess, sig);
	while (libssh2_channel_free(ch) == LIBSSH2_ERROR_EAGAIN)
		if (wait_io(s, deadline))
			break;
	res->out_len = out.len;
	res->err_len = eb.len;
	res->out = out.data ? cg_buf_detach(&out) : cg_xstrdup("");
	res->err = eb.data ? cg_buf_detach(&eb) : cg_xstrdup("");
	return 0;
timeout:
	s->broken = 1;
	cg_buf_free(&out);
	cg_buf_free(&eb);
	return cg_error(err, CG_EXIT_ERROR, "%s: timed out after %d s %s `%s`", s->name,
			(timeout_ms > 0 ? timeout_ms : s->io_timeout_ms) / 1000, what, cmd);
fail:
	s->broken = 1;
	cg_error(err, CG_EXIT_ERROR, "%s: SSH error %s `%s`: %s", s->name, what, cmd,
		 sess_msg(s->sess));
	cg_buf_free(&out);
	cg_buf_free(&eb);
	return -1;
}

const char *cg_ssh_tail(const char *text, int n)
{
	if (!text)
		return "";
	const char *end = text + strlen(text);
	while (end > text && end[-1] == '\n')
		end--;
	const char *p = end;
	while (p > text) {
		if (p[-1] == '\n' && --n <= 0)
			break;
		p--;
	}
	return p;
}

int cg_ssh_result_error(struct cg_ssh *s, const char *cmd, const struct cg_ssh_result *r,
			struct cg_err *err)
{
	char how[64];
	if (r->signal)
		snprintf(how, sizeof(how), "was killed by SIG%s", r->signal);
	else
		snprintf(how, sizeof(how), "exited with status %d", r->status);
	const char *detail = r->err_len ? r->err : r->out;
	/* The last 30 lines, cut further (at a line) to fit the message:
	 * the end of a log is what explains a failure. */
	const char *tail = cg_ssh_tail(detail ? detail : "", 30);
	size_t tl = strlen(tail), room = sizeof(err->msg) / 4 * 3;
	if (tl > room) {
		tail += tl - room;
		const char *nl = strchr(tail, '\n');
		if (nl && nl[1])
			tail = nl + 1;
	}
	return cg_error(err, CG_EXIT_ERROR, "%s: `%.300s` %s%s%s", s->name, cmd, how,
			*tail ? ":\n" : "", tail);
}

int cg_ssh_run(struct cg_ssh *s, const char *cmd, const void *in, size_t in_len,
	       int timeout_ms, char **out, struct cg_err *err)
{
	struct cg_ssh_result r;
	if (cg_ssh_exec(s, cmd, in, in_len, timeout_ms, &r, err))
		return -1;
	if (r.signal || r.status != 0) {
		cg_ssh_result_error(s, cmd, &r, err);
		cg_ssh_result_free(&r);
		return -1;
	}
	if (out) {
		*out = r.out;
		r.out = NULL;
	}
	cg_ssh_result_free(&r);
	return 0;
}

char *cg_ssh_quote(const char *s)
{
	struct cg_buf b = {0};
	cg_buf_adds(&b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			cg_buf_adds(&b, "'\\''");
		else
			cg_buf_add(&b, s, 1);
	}
	cg_buf_adds(&b, "'");
	return cg_buf_detach(&b);
}

int cg_ssh_upload(struct cg_ssh *s, const char *dir, const char *name,
		  const void *data, size_t len, int mode, int timeout_ms,
		  struct cg_err *err)
{
	if (!*name || strchr(name, '/'))
		return cg_error(err, CG_EXIT_ERROR, "invalid file name '%s'", name);
	char *qd = cg_ssh_quote(dir), *qn = cg_ssh_quote(name);
	/* umask first: the temp file never exists with wider permissions. */
	char *cmd = cg_xasprintf("umask 077 && mkdir -p %s && cat > %s/.tmp.$$ && "
				 "chmod %o %s/.tmp.$$ && mv -f %s/.tmp.$$ %s/%s || "
				 "{ rm -f %s/.tmp.$$; exit 1; }",
				 qd, qd, (unsigned)mode & 07777, qd, qd, qd, qn, qd);
	int rc = cg_ssh_run(s, cmd, data, len, timeout_ms, NULL, err);
	free(cmd);
	free(qd);
	free(qn);
	return rc;
}
