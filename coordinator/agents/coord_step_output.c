/*
 * coord_step_output.c: a step's output as it is shown (coord_step_int.h): each chunk
 * goes to the step's event log, the store, the coordinator's log (with
 * log.step_output) and the step's owner, in that order.
 *
 * A step with secrets has each of them masked in every one of those. A
 * secret may be cut across two chunks: the end of a chunk that may be the
 * start of a secret is held back (per stream) and shown with the next
 * chunk, or when the result comes (step_output_flush). After a restart,
 * output that was lost with the last uncommitted turn is filled in from
 * the end the result carries (step_output_fill_lost).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "persist.h"
#include "secrets.h"
#include "coord_step_int.h"

void
steps_set_log_output(int on)
{
	stepmod.log_output = on;
}

/* --log-step-output: each line of an output chunk as one log event (a
 * chunk's unfinished last line is logged as it is). */
static void
step_log_output(const struct coord_step *s, const char *stream,
    const char *data, size_t len)
{
	char line[1024], q[2 * sizeof(line)];
	const char *nl;
	size_t n, take;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl ? (size_t)(nl - data) : len;
		take = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
		memcpy(line, data, take);
		line[take] = '\0';
		log_info("steps", "output step=%s%s agent=%s stream=%s line=%s",
		    s->id, s->labels, s->agent, stream,
		    bora_log_quote(line, q, sizeof(q)));
		n += nl ? 1 : 0;
		data += n;
		len -= n;
	}
}

/* One chunk of output as it is shown: the step's log, the store, the
 * coordinator's log, the owner. */
static void
step_output_show(struct coord_step *s, enum bora_stream stream, uint64_t seq,
    const char *data, size_t len)
{
	step_record(s, json_pack("{s:s, s:s, s:I, s:s%}", "event", "output",
	    "stream", bora_stream_name(stream), "seq", (json_int_t)seq,
	    "data", data, len));
	persist_output(s->id, bora_stream_name(stream), data, len);
	if (stepmod.log_output)
		step_log_output(s, bora_stream_name(stream), data, len);
	if (s->owner.on_output != NULL)
		s->owner.on_output(s->owner.user, s->id,
		    bora_stream_name(stream), data, len);
}

/*
 * A step with secrets: the chunk, after what was held back of the last
 * one, with every secret masked; its end that may be the start of a
 * secret is held back for the next chunk (flush: not held, the stream
 * ended). 0, or -1 when out of memory (the chunk is not shown).
 */
static int
step_output_masked(struct coord_step *s, enum bora_stream stream,
    uint64_t seq, const char *data, size_t len, int flush)
{
	unsigned si = stream == BORA_STREAM_STDERR ? 1 : 0;
	size_t total = s->hold_len[si] + len, hold, mlen;
	char *buf, *masked;

	if ((buf = malloc(total + 1)) == NULL)
		return -1;
	if (s->hold_len[si] > 0)
		memcpy(buf, s->hold[si], s->hold_len[si]);
	if (len > 0)
		memcpy(buf + s->hold_len[si], data, len);
	buf[total] = '\0';
	if (len == 0)
		seq = s->hold_seq_no[si];
	hold = flush ? 0 : secrets_tail_hold(s->secrets, buf, total);
	free(s->hold[si]);
	s->hold[si] = NULL;
	s->hold_len[si] = 0;
	if (hold > 0) {
		if ((s->hold[si] = malloc(hold)) == NULL) {
			free(buf);
			return -1;
		}
		memcpy(s->hold[si], buf + total - hold, hold);
		s->hold_len[si] = hold;
		s->hold_seq_no[si] = seq;
	}
	total -= hold;
	if (total == 0) {
		free(buf);
		return 0;
	}
	masked = secrets_mask_mem(s->secrets, buf, total, &mlen);
	if (masked == NULL && secrets_contains(s->secrets, buf, total)) {
		free(buf);
		return -1;
	}
	if (masked != NULL)
		step_output_show(s, stream, seq, masked, mlen);
	else
		step_output_show(s, stream, seq, buf, total);
	free(masked);
	free(buf);
	return 0;
}

void
step_set_secrets(struct coord_step *s, const json_t *set)
{
	size_t i;
	json_t *v;

	if (set == NULL || json_array_size(set) == 0)
		return;
	if (s->secrets == NULL && (s->secrets = json_array()) == NULL)
		return;
	json_array_foreach(set, i, v)
		if (json_is_string(v) && json_string_length(v) > 0)
			(void)json_array_append(s->secrets, v);
}

int
steps_on_output(struct coord_agent *a, const struct bora_output *m, char *err,
    size_t errlen)
{
	struct coord_step *s = step_table_of_agent(a, m->step, err, errlen);

	if (s == NULL)
		return -1;
	if (s->state == STEP_DONE)
		return 0;
	s->out_bytes += m->data_len;
	if (s->secrets != NULL)
		return step_output_masked(s, m->stream, m->seq, m->data,
		    m->data_len, 0);
	step_output_show(s, m->stream, m->seq, m->data, m->data_len);
	return 0;
}

void
step_output_flush(struct coord_step *s)
{
	if (s->hold_len[0] > 0)
		(void)step_output_masked(s, BORA_STREAM_STDOUT, 0, NULL, 0, 1);
	if (s->hold_len[1] > 0)
		(void)step_output_masked(s, BORA_STREAM_STDERR, 0, NULL, 0, 1);
}

/*
 * Output a restored step streamed to the coordinator before the restart,
 * in the last turn that was not committed, is gone, and the agent does not
 * send output twice. When the bytes stored and received fall short of
 * what the result says the step wrote, store its kept end (deploy_stdout,
 * deploy_stderr) after a line that says so.
 */
void
step_output_fill_lost(struct coord_step *s, const struct bora_result *m,
    const json_t *res)
{
	static const char *const streams[] = { "stdout", "stderr" };
	const json_t *outs = json_object_get(res, "outputs"), *v;
	uint64_t wrote = m->stdout_bytes + m->stderr_bytes;
	char note[256];
	size_t i;

	if (s->out_bytes >= wrote)
		return;
	for (i = 0; i < 2; i++) {
		char key[32];

		snprintf(key, sizeof(key), "deploy_%s", streams[i]);
		v = json_object_get(outs, key);
		if (!json_is_string(v) || json_string_length(v) == 0)
			continue;
		snprintf(note, sizeof(note), "[bora: the coordinator restarted "
		    "while this step ran; %llu bytes of its output were not "
		    "received; the end of its %s follows]\n",
		    (unsigned long long)(wrote - s->out_bytes), streams[i]);
		persist_output(s->id, streams[i], note, strlen(note));
		persist_output(s->id, streams[i], json_string_value(v),
		    json_string_length(v));
	}
}

