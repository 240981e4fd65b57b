/*
 * agent_steps.h: the steps this agent runs.
 *
 * conn.c hands over run / cancel / ack messages; the step module starts the
 * step's runner (from the const table of step kinds in runners.c), adopts
 * its stdout, stderr and pidfd into the libwebsockets loop (no threads),
 * streams output messages as data arrives, enforces the timeout by killing
 * the whole process group, and sends the result. Results are journaled
 * (journal.h) and kept until acked, offered again in the next hello and
 * after each welcome, also by the next agent process.
 *
 * Its files: agent_steps.c (this API), step_table.c, step_launch.c,
 * step_watch.c, step_output.c, step_stop.c, step_result.c, step_journal.c;
 * agent_steps_int.h is what they share.
 */
#ifndef BORA_AGENT_AGENT_STEPS_H
#define BORA_AGENT_AGENT_STEPS_H

#include <libwebsockets.h>
#include <jansson.h>
#include "msg.h"
#include "agent_config.h"

/* The raw-file protocol that adopted pipes and pidfds use; agent_main.c
 * lists it after conn_protocol in the vhost's protocols. */
extern const struct lws_protocols steps_pipe_protocol;

/* Open and load the journal (its results wait for ack), remove step
 * directories it does not know. ctx and cfg are borrowed until
 * steps_shutdown(). 0, or -1 (logged). */
int steps_init(struct lws_context *ctx, const struct agent_config *cfg);

/* Kill every running step's process group and free everything. */
void steps_shutdown(void);

/* The messages conn.c hands over; each is borrowed for the call only. */
void steps_on_run(const struct bora_run *run);
void steps_on_cancel(const struct bora_cancel *cancel);
void steps_on_ack(const char *step);

/* The connection has been welcomed: send results not yet acked. */
void steps_on_connected(void);

/* The send queue has room again: resume reading paused pipes. */
void steps_on_send_space(void);

/* For hello: new references, array of running step ids / of result objects
 * not yet acked (oldest first, at most 512 KiB of them: the rest follow the
 * welcome). */
json_t *steps_running_json(void);
json_t *steps_unacked_json(void);

#endif
