/* coord_steps_fixture.c: see coord_steps_fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <libwebsockets.h>

#include "log.h"
#include "persist.h"
#include "coord_steps_fixture.h"

struct fx_agent {
	struct coord_agent a;
	int pipe[2];
};

static struct {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct fx_agent *agents[FX_MAX_AGENTS];
	size_t nagents;
	char dir[64];                   /* the store's, "" for none */
	char sent[4096];
	int saved_stderr;               /* while the log is captured */
	FILE *log;
} fx;

struct fx_heard fx_heard;

/* The adopted pipe ends are never serviced: nothing to do. */
static int
fx_lws_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	(void)wsi;
	(void)reason;
	(void)user;
	(void)in;
	(void)len;
	return 0;
}

static const struct lws_protocols fx_protocols[] = {
	{ "fx-raw", fx_lws_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static int
fx_start(int with_store)
{
	struct lws_context_creation_info info;
	char err[256];

	memset(&fx, 0, sizeof(fx));
	memset(&fx_heard, 0, sizeof(fx_heard));
	fx.saved_stderr = -1;
	bora_log_init(BORA_LOG_ERROR, BORA_LOG_TEXT);   /* quiet but errors */
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = fx_protocols;
	fx.ctx = lws_create_context(&info);
	assert_non_null(fx.ctx);
	fx.vh = lws_get_vhost_by_name(fx.ctx, "default");
	assert_non_null(fx.vh);
	if (with_store) {
		snprintf(fx.dir, sizeof(fx.dir), "/tmp/bora-steps-XXXXXX");
		assert_non_null(mkdtemp(fx.dir));
		assert_int_equal(persist_open(fx.dir, err, sizeof(err)), 0);
		assert_int_equal(persist_on_turn(NULL, steps_release, NULL), 0);
	}
	return 0;
}

int
fx_setup(void **state)
{
	(void)state;
	return fx_start(0);
}

int
fx_setup_store(void **state)
{
	(void)state;
	return fx_start(1);
}

int
fx_teardown(void **state)
{
	char path[128];
	size_t i;

	(void)state;
	if (fx.saved_stderr >= 0)
		free(fx_log_end());
	steps_shutdown();
	if (fx.dir[0] != '\0') {
		persist_close();
		snprintf(path, sizeof(path), "%s/%s", fx.dir, PERSIST_DB_NAME);
		(void)unlink(path);
		snprintf(path, sizeof(path), "%s/%s-wal", fx.dir,
		    PERSIST_DB_NAME);
		(void)unlink(path);
		snprintf(path, sizeof(path), "%s/%s-shm", fx.dir,
		    PERSIST_DB_NAME);
		(void)unlink(path);
		(void)rmdir(fx.dir);
	}
	for (i = 0; i < fx.nagents; i++)
		registry_remove(&fx.agents[i]->a);
	lws_context_destroy(fx.ctx);    /* closes the adopted pipe ends */
	for (i = 0; i < fx.nagents; i++) {
		bora_sendq_clear(&fx.agents[i]->a.q);
		(void)close(fx.agents[i]->pipe[1]);
		free(fx.agents[i]);
	}
	fx.nagents = 0;
	return 0;
}

struct coord_agent *
fx_agent(const char *name)
{
	struct fx_agent *fa;
	lws_sock_file_fd_type fd;

	assert_true(fx.nagents < FX_MAX_AGENTS);
	fa = calloc(1, sizeof(*fa));
	assert_non_null(fa);
	assert_int_equal(pipe(fa->pipe), 0);
	snprintf(fa->a.name, sizeof(fa->a.name), "%s", name);
	snprintf(fa->a.addr, sizeof(fa->a.addr), "in-memory");
	bora_sendq_init(&fa->a.q, LWS_PRE, 1 << 20);
	fd.filefd = fa->pipe[0];
	fa->a.wsi = lws_adopt_descriptor_vhost(fx.vh, LWS_ADOPT_RAW_FILE_DESC,
	    fd, "fx-raw", NULL);
	assert_non_null(fa->a.wsi);
	fa->a.welcomed = 1;
	assert_null(registry_add(&fa->a));
	fx.agents[fx.nagents++] = fa;
	return &fa->a;
}

void
fx_hello(struct coord_agent *a, json_t *running, json_t *results)
{
	struct bora_hello h;

	memset(&h, 0, sizeof(h));
	h.name = a->name;
	h.version = "test";
	h.running = running;
	h.results = results;
	a->welcomed = 1;
	if (!a->registered)
		(void)registry_add(a);
	steps_on_agent_welcomed(a, &h);
}

void
fx_gone(struct coord_agent *a)
{
	registry_remove(a);
	a->welcomed = 0;
	steps_on_agent_gone(a);
}

const char *
fx_sent(struct coord_agent *a)
{
	const struct bora_limits lim = BORA_LIMITS_DEFAULT;
	struct bora_sendq_item *it;
	struct bora_msg m;
	struct bora_msg_err err;
	const char *step;
	size_t n = 0;

	fx.sent[0] = '\0';
	while ((it = bora_sendq_peek(&a->q)) != NULL) {
		assert_int_equal(bora_msg_decode((const char *)it->buf +
		    a->q.headroom, it->len, &lim, &m, &err), 0);
		switch (m.type) {
		case BORA_MSG_RUN:
			step = m.u.run.step;
			break;
		case BORA_MSG_ACK:
			step = m.u.ack.step;
			break;
		case BORA_MSG_CANCEL:
			step = m.u.cancel.step;
			break;
		default:
			step = "?";
			break;
		}
		n += (size_t)snprintf(fx.sent + n, sizeof(fx.sent) - n, "%s%s %s",
		    n ? ", " : "", bora_msg_type_name(m.type), step);
		assert_true(n < sizeof(fx.sent));
		bora_msg_free(&m);
		bora_sendq_pop(&a->q);
	}
	return fx.sent;
}

void
fx_turn(void)
{
	persist_turn();
}

static void
fx_on_output(void *user, const char *step_id, const char *stream,
    const char *data, size_t len)
{
	size_t have = strlen(fx_heard.output);

	(void)user;
	(void)step_id;
	(void)stream;
	assert_true(have + len < sizeof(fx_heard.output));
	memcpy(fx_heard.output + have, data, len);
	fx_heard.output[have + len] = '\0';
	fx_heard.outputs++;
}

static void
fx_on_done(void *user, const char *step_id, const json_t *result)
{
	size_t have = strlen(fx_heard.order);

	(void)user;
	fx_heard.dones++;
	snprintf(fx_heard.done_step, sizeof(fx_heard.done_step), "%s",
	    step_id);
	snprintf(fx_heard.done_status, sizeof(fx_heard.done_status), "%s",
	    json_string_value(json_object_get(result, "status")));
	snprintf(fx_heard.order + have, sizeof(fx_heard.order) - have, "%s%s",
	    have ? " " : "", step_id);
}

const struct step_owner *
fx_owner(void)
{
	static const struct step_owner owner = {
		.on_output = fx_on_output,
		.on_done = fx_on_done,
	};

	return &owner;
}

const struct step_owner *
fx_owner_labelled(const char *exec, const char *task)
{
	static struct step_owner owner;

	owner = *fx_owner();
	owner.exec = exec;
	owner.task = task;
	return &owner;
}

struct coord_step *
fx_submit(const char *id, const char *agent, const struct step_owner *owner)
{
	json_t *spec = json_pack("{s:s}", "script", "true");
	struct coord_step *s;
	char err[256];

	s = steps_submit(id, agent, "script", spec, NULL, 60, owner, err,
	    sizeof(err));
	json_decref(spec);
	if (s == NULL)
		fail_msg("steps_submit %s: %s", id ? id : "(new)", err);
	return s;
}

int
fx_result(struct coord_agent *a, const char *step, const char *status,
    int exit_code)
{
	struct bora_result r;
	char err[256];
	int i;

	memset(&r, 0, sizeof(r));
	r.step = step;
	for (i = 0; i < BORA_STATUS_COUNT; i++)
		if (strcmp(bora_status_name((enum bora_status)i), status) == 0)
			r.status = (enum bora_status)i;
	assert_string_equal(bora_status_name(r.status), status);
	r.has_exit_code = 1;
	r.exit_code = exit_code;
	r.started_ms = 1000;
	r.finished_ms = 1250;
	return steps_on_result(a, &r, err, sizeof(err));
}

int
fx_output(struct coord_agent *a, const char *step, const char *stream,
    uint64_t seq, const char *data)
{
	struct bora_output o;
	char err[256];

	memset(&o, 0, sizeof(o));
	o.step = step;
	o.stream = strcmp(stream, "stderr") == 0 ? BORA_STREAM_STDERR :
	    BORA_STREAM_STDOUT;
	o.seq = seq;
	o.data = data;
	o.data_len = strlen(data);
	return steps_on_output(a, &o, err, sizeof(err));
}

void
fx_log_start(void)
{
	assert_int_equal(fx.saved_stderr, -1);
	fx.log = tmpfile();
	assert_non_null(fx.log);
	fx.saved_stderr = dup(STDERR_FILENO);
	assert_true(fx.saved_stderr >= 0);
	assert_true(dup2(fileno(fx.log), STDERR_FILENO) >= 0);
	bora_log_init(BORA_LOG_INFO, BORA_LOG_TEXT);
}

char *
fx_log_end(void)
{
	long n;
	char *text;

	assert_true(fx.saved_stderr >= 0);
	bora_log_init(BORA_LOG_ERROR, BORA_LOG_TEXT);
	(void)dup2(fx.saved_stderr, STDERR_FILENO);
	(void)close(fx.saved_stderr);
	fx.saved_stderr = -1;
	/* log.c write()s to the descriptor, past the FILE's buffer */
	n = lseek(fileno(fx.log), 0, SEEK_END);
	assert_true(n >= 0);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(pread(fileno(fx.log), text, (size_t)n, 0), n);
	fclose(fx.log);
	fx.log = NULL;
	return text;
}

char *
fx_events(struct coord_step *s)
{
	struct evlog *l = step_log(s);
	size_t i, len, total = 0;
	const char *line;
	char *out;

	for (i = 0; i < evlog_count(l); i++) {
		(void)evlog_line(l, i, &len);
		total += len + 1;
	}
	out = calloc(1, total + 1);
	assert_non_null(out);
	total = 0;
	for (i = 0; (line = evlog_line(l, i, &len)) != NULL; i++) {
		memcpy(out + total, line, len);
		total += len;
		out[total++] = '\n';
	}
	return out;
}

char *
fx_event_output(struct coord_step *s, const char *stream)
{
	struct evlog *l = step_log(s);
	size_t i, len, total = 0, n;
	const char *line;
	json_t *ev;
	char *out = calloc(1, 1);

	assert_non_null(out);
	for (i = 0; (line = evlog_line(l, i, &len)) != NULL; i++) {
		ev = json_loadb(line, len, 0, NULL);
		assert_non_null(ev);
		if (strcmp(json_string_value(json_object_get(ev, "event")),
		    "output") == 0 && strcmp(json_string_value(
		    json_object_get(ev, "stream")), stream) == 0) {
			n = json_string_length(json_object_get(ev, "data"));
			out = realloc(out, total + n + 1);
			assert_non_null(out);
			memcpy(out + total, json_string_value(json_object_get(ev,
			    "data")), n);
			total += n;
			out[total] = '\0';
		}
		json_decref(ev);
	}
	return out;
}
