/*
 * step_table.c: the agent's table of steps (agent_steps_int.h): a chained
 * hash by id (idmap_hash) and the lists by start and by finish; making and
 * freeing a step; removing a step's directory.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_steps_int.h"
#include "idmap.h"
#include "log.h"

struct steps_state steps;

static size_t
steps_bucket(const char *id)
{
	return idmap_hash(id) % STEPS_HASH_SIZE;
}

void
steps_table_init(void)
{
	memset(&steps, 0, sizeof(steps));
	TAILQ_INIT(&steps.all);
	TAILQ_INIT(&steps.done);
	TAILQ_INIT(&steps.paused);
}

struct step *
steps_find(const char *id)
{
	struct step *st;

	for (st = steps.hash[steps_bucket(id)]; st; st = st->hash_next)
		if (strcmp(st->id, id) == 0)
			return st;
	return NULL;
}

struct step *
steps_new(const char *id, const char *kind, uint32_t timeout_s)
{
	struct step *st;
	size_t b;
	int i;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if ((st->id = strdup(id)) == NULL) {
		free(st);
		return NULL;
	}
	snprintf(st->kind, sizeof(st->kind), "%s", kind);
	st->timeout_s = timeout_s;
	for (i = 0; i < 3; i++) {
		st->h[i].step = st;
		st->h[i].fd = (enum steps_fd)i;
	}
	for (i = 0; i < 2; i++) {
		st->s[i].step = st;
		st->s[i].which = (enum bora_stream)i;
		st->s[i].drain_fd = -1;
	}
	b = steps_bucket(id);
	st->hash_next = steps.hash[b];
	steps.hash[b] = st;
	TAILQ_INSERT_TAIL(&steps.all, st, all_link);
	steps.count++;
	return st;
}

void
steps_free(struct step *st)
{
	struct step **pp;
	int i;

	lws_sul_cancel(&st->timeout_sul);
	lws_sul_cancel(&st->grace_sul);
	for (i = 0; i < 2; i++) {
		if (st->s[i].paused)
			TAILQ_REMOVE(&steps.paused, &st->s[i], pause_link);
		st->s[i].paused = 0;
		steps_drop_wsi(&st->s[i].wsi);
		if (st->s[i].drain_fd >= 0)
			close(st->s[i].drain_fd);
		st->s[i].drain_fd = -1;
		free(st->s[i].keep);
	}
	steps_drop_wsi(&st->pid_wsi);
	for (pp = &steps.hash[steps_bucket(st->id)]; *pp;
	    pp = &(*pp)->hash_next)
		if (*pp == st) {
			*pp = st->hash_next;
			break;
		}
	TAILQ_REMOVE(&steps.all, st, all_link);
	if (st->finished)
		TAILQ_REMOVE(&steps.done, st, done_link);
	if (st->send_pending)
		steps.results_pending--;
	steps.count--;
	json_decref(st->result);
	json_decref(st->spec);
	json_decref(st->inputs);
	runners_user_free(&st->user);
	free(st->cancel_reason);
	free(st->id);
	free(st);
}

static int
steps_rm_entry(const char *path, const struct stat *sb, int type,
    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if ((type == FTW_DP ? rmdir(path) : unlink(path)) != 0 &&
	    errno != ENOENT)
		log_warn("steps", "cannot remove path=%s", path);
	return 0;
}

void
steps_rm_dir(const char *dir)
{
	if (nftw(dir, steps_rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0
	    && errno != ENOENT)
		log_warn("steps", "cannot remove step directory dir=%s", dir);
}
