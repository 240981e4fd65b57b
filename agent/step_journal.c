/*
 * step_journal.c: the step table and the journal (journal.h) at the two
 * ends of a step's life. At start, every journaled result (a started-only
 * entry comes back "lost") becomes a finished step waiting for its ack, and
 * step directories the journal does not know are removed. On ack, the
 * step's directories go, then its entry, then the step.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "agent_steps_int.h"
#include "journal.h"
#include "log.h"

/* A "work" path from the journal, if it is one runners.c makes (it is
 * removed on ack, so nothing else is taken). */
static int
steps_work_ok(const char *work)
{
	size_t n = strlen(STEPS_USER_WORK_PREFIX);

	return strncmp(work, STEPS_USER_WORK_PREFIX, n) == 0 &&
	    work[n] != '\0' && strchr(work + n, '/') == NULL &&
	    strlen(work) < PATH_MAX;
}

/* A journaled result becomes a finished step waiting for its ack. */
static int
steps_adopt_entry(const struct journal_entry *e)
{
	struct step *st;

	if ((st = steps_new(e->step, e->kind, 0)) == NULL)
		return -1;
	st->started_ms = e->started_ms;
	st->finished_ms = e->finished_ms;
	st->result = json_incref(e->result);
	st->result_len = steps_json_len(st->result);
	if (steps_dir_path(st) == 0)
		st->has_dir = 1;        /* removed on ack, if it is there */
	if (e->work != NULL && steps_work_ok(e->work))
		snprintf(st->work, sizeof(st->work), "%s", e->work);
	st->finished = 1;
	TAILQ_INSERT_TAIL(&steps.done, st, done_link);
	log_info("steps", "journaled result waits for its ack step=%s kind=%s "
	    "status=%s", st->id, st->kind, e->lost ? "lost" :
	    json_string_value(json_object_get(e->result, "status")));
	return 0;
}

int
steps_load_journal(void)
{
	struct journal_entry *es;
	size_t n, i;

	if (journal_load(steps.journal, STEPS_MAX, steps_end_left, &es, &n) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (steps_adopt_entry(&es[i]) != 0) {
			log_errorx("steps", "out of memory loading the "
			    "journal");
			journal_entries_free(es, n);
			return -1;
		}
	if (n > 0)
		log_info("steps", "journal loaded results=%zu dir=%s", n,
		    journal_dir(steps.journal));
	journal_entries_free(es, n);
	return 0;
}

/* Step directories of steps the journal does not know never ran (their
 * "started" entry was not written) or were acked: remove them. */
void
steps_sweep_dirs(const char *base)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(base)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 || steps_find(de->d_name))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", base,
		    de->d_name) >= sizeof(path))
			continue;
		log_info("steps", "removing the directory of a step the "
		    "journal does not know dir=%s", path);
		steps_rm_dir(path);
	}
	closedir(d);
}

void
steps_forget(struct step *st)
{
	log_debug("steps", "result acked step=%s", st->id);
	if (st->has_dir)
		steps_rm_dir(st->dir);
	if (st->work[0])
		steps_rm_dir(st->work);
	/* After the directories: a crash in between leaves an entry whose
	 * result is sent (and acked) again, not an unknown directory. */
	(void)journal_remove(steps.journal, st->id);
	steps_free(st);
}
