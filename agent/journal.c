/*
 * journal.c: the agent's fsynced record of started and finished steps
 * (journal.h says the format and the rules).
 *
 * File names: "step.<ID>" is an entry, "tmp.<ID>" a write in
 * progress (removed by the next load: it was never renamed, so it never
 * counted). Step ids are [A-Za-z0-9._:-], so both prefixes are unambiguous
 * and no name holds a slash. Anything else in the directory is logged and
 * left alone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "file.h"
#include "clock.h"
#include "boot_id.h"
#include "journal.h"
#include "log.h"

#define JOURNAL_SUBDIR      "journal"
#define JOURNAL_PREFIX      "step."
#define JOURNAL_TMP_PREFIX  "tmp."
#define JOURNAL_VERSION     1

struct journal {
	int dirfd;
	char dir[PATH_MAX];
	char boot_id[BOOT_ID_MAX + 1];  /* this boot's, "" if unknown */
};

static int64_t
journal_now_ms(void)
{
	return bora_wall_ms();
}

struct journal *
journal_open(const char *state_dir, char *err, size_t errlen)
{
	struct journal *j;
	struct stat sb;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		bora_errf(err, errlen, "out of memory");
		return NULL;
	}
	j->dirfd = -1;
	if ((size_t)snprintf(j->dir, sizeof(j->dir), "%s/%s", state_dir,
	    JOURNAL_SUBDIR) >= sizeof(j->dir)) {
		bora_errf(err, errlen, "journal path too long");
		goto fail;
	}
	if (mkdir(j->dir, 0700) != 0 && errno != EEXIST) {
		bora_errf(err, errlen, "cannot create %s: %s", j->dir,
		    strerror(errno));
		goto fail;
	}
	j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (j->dirfd < 0 || fstat(j->dirfd, &sb) != 0) {
		bora_errf(err, errlen, "cannot open %s: %s", j->dir,
		    strerror(errno));
		goto fail;
	}
	if ((sb.st_mode & 077) != 0 && fchmod(j->dirfd, 0700) != 0) {
		bora_errf(err, errlen, "cannot make %s private: %s", j->dir,
		    strerror(errno));
		goto fail;
	}
	(void)boot_id_read(j->boot_id, sizeof(j->boot_id));
	return j;
fail:
	journal_close(j);
	return NULL;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j);
}

const char *
journal_dir(const struct journal *j)
{
	return j->dir;
}

const char *
journal_boot_id(const struct journal *j)
{
	return j->boot_id;
}

/* Replace the entry of step with text, durably (file.h: temporary file
 * "tmp.<ID>", write, fsync, rename over the entry, fsync of the
 * directory). 0, or -1 with err filled. */
static int
journal_put(struct journal *j, const char *step, const char *text,
    size_t len, char *err, size_t errlen)
{
	char tmp[PATH_MAX], name[PATH_MAX];
	int rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), JOURNAL_TMP_PREFIX "%s",
	    step) >= sizeof(tmp) || (size_t)snprintf(name, sizeof(name),
	    JOURNAL_PREFIX "%s", step) >= sizeof(name)) {
		bora_errf(err, errlen, "journal path too long");
		return -1;
	}
	rc = bora_file_write_at(j->dirfd, name, tmp, text, len, 0600);
	switch (rc) {
	case 0:
		return 0;
	case BORA_FILE_CREATE:
		bora_errf(err, errlen, "cannot create a file in %s: %s",
		    j->dir, strerror(errno));
		break;
	case BORA_FILE_SYNC:
		bora_errf(err, errlen, "cannot fsync %s: %s", j->dir,
		    strerror(errno));
		break;
	default:
		bora_errf(err, errlen, "cannot write %s/%s: %s", j->dir, tmp,
		    strerror(errno));
		break;
	}
	return -1;
}

/* The entry's own fields as a JSON object; new reference or NULL. A
 * pgid > 0 is recorded with the boot id (if known). */
static json_t *
journal_head(const struct journal *j, const char *step, const char *kind,
    int64_t started_ms, const char *work, int64_t pgid)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:I}", "journal",
	    JOURNAL_VERSION, "step", step, "kind", kind, "started_ms",
	    (json_int_t)started_ms);

	if (o == NULL)
		return NULL;
	if ((work != NULL && work[0] != '\0' &&
	    json_object_set_new(o, "work", json_string(work)) != 0) ||
	    (pgid > 0 && json_object_set_new(o, "pgid",
	    json_integer((json_int_t)pgid)) != 0) ||
	    (pgid > 0 && j->boot_id[0] != '\0' && json_object_set_new(o,
	    "boot_id", json_string(j->boot_id)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
journal_check_args(const char *step, const char *kind, char *err,
    size_t errlen)
{
	if (!bora_step_id_valid(step)) {
		bora_errf(err, errlen, "not a valid step id");
		return -1;
	}
	if (kind == NULL || kind[0] == '\0' || strlen(kind) > BORA_MAX_KIND) {
		bora_errf(err, errlen, "not a valid step kind");
		return -1;
	}
	return 0;
}

int
journal_start(struct journal *j, const char *step, const char *kind,
    int64_t started_ms, const char *work, int64_t pgid, char *err,
    size_t errlen)
{
	json_t *o;
	char *text;
	int rc;

	if (journal_check_args(step, kind, err, errlen) != 0)
		return -1;
	if ((o = journal_head(j, step, kind, started_ms, work, pgid)) ==
	    NULL ||
	    (text = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		bora_errf(err, errlen, "cannot encode the journal entry");
		return -1;
	}
	json_decref(o);
	rc = journal_put(j, step, text, strlen(text), err, errlen);
	free(text);
	return rc;
}

int
journal_finish(struct journal *j, const char *step, const char *kind,
    int64_t started_ms, const char *work, const json_t *result, char *err,
    size_t errlen)
{
	const json_t *rs = json_object_get(result, "step");
	char *head = NULL, *res = NULL, *text = NULL;
	size_t hlen, rlen;
	json_t *o;
	int rc = -1;

	if (journal_check_args(step, kind, err, errlen) != 0)
		return -1;
	if (!json_is_object(result) || !json_is_string(rs) ||
	    strcmp(json_string_value(rs), step) != 0) {
		bora_errf(err, errlen, "the result is not this step's");
		return -1;
	}
	/* The entry is its head with the result spliced in as "result":
	 * no copy of a result that can be near 1 MiB. */
	o = journal_head(j, step, kind, started_ms, work, 0);
	head = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	res = json_dumps(result, JSON_COMPACT);
	if (head == NULL || res == NULL) {
		bora_errf(err, errlen, "cannot encode the journal entry");
		goto out;
	}
	rlen = strlen(res);
	if (rlen > JOURNAL_RESULT_MAX) {
		bora_errf(err, errlen, "result of %zu bytes is larger than %d",
		    rlen, JOURNAL_RESULT_MAX);
		goto out;
	}
	hlen = strlen(head);            /* ends with '}' */
	if ((text = malloc(hlen + rlen + 16)) == NULL) {
		bora_errf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(text, head, hlen - 1);
	memcpy(text + hlen - 1, ",\"result\":", 10);
	memcpy(text + hlen + 9, res, rlen);
	text[hlen + 9 + rlen] = '}';
	rc = journal_put(j, step, text, hlen + 10 + rlen, err, errlen);
out:
	free(text);
	free(res);
	free(head);
	return rc;
}

int
journal_remove(struct journal *j, const char *step)
{
	char name[PATH_MAX];

	if (!bora_step_id_valid(step))
		return 0;       /* never written */
	snprintf(name, sizeof(name), JOURNAL_PREFIX "%s", step);
	if (unlinkat(j->dirfd, name, 0) != 0) {
		if (errno == ENOENT)
			return 0;
		log_warn("journal", "cannot remove the entry step=%s dir=%s",
		    step, j->dir);
		return -1;
	}
	if (fsync(j->dirfd) != 0)
		log_warn("journal", "cannot fsync dir=%s", j->dir);
	return 0;
}

/* ---- loading ---- */

/* Free what e holds (not e itself). */
static void
journal_entry_clear(struct journal_entry *e)
{
	free(e->step);
	free(e->kind);
	free(e->work);
	free(e->boot_id);
	json_decref(e->result);
	memset(e, 0, sizeof(*e));
}

/* The bytes of the regular file name (at most JOURNAL_ENTRY_MAX), as a
 * malloc'ed buffer of *len bytes; NULL with err filled. */
static char *
journal_read(struct journal *j, const char *name, size_t *len, char *err,
    size_t errlen)
{
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;
	ssize_t r;
	int fd;

	fd = openat(j->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd < 0) {
		bora_errf(err, errlen, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		bora_errf(err, errlen, "not a regular file");
		goto out;
	}
	if (sb.st_size > JOURNAL_ENTRY_MAX) {
		bora_errf(err, errlen, "%lld bytes, more than %d",
		    (long long)sb.st_size, JOURNAL_ENTRY_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		bora_errf(err, errlen, "out of memory");
		goto out;
	}
	/* Read one byte past the size to see it did not grow meanwhile. */
	while (got <= (size_t)sb.st_size) {
		r = read(fd, buf + got, (size_t)sb.st_size + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			bora_errf(err, errlen, "cannot read: %s",
			    strerror(errno));
			free(buf);
			buf = NULL;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got != (size_t)sb.st_size) {
		bora_errf(err, errlen, "changed while read");
		free(buf);
		buf = NULL;
		goto out;
	}
	*len = got;
out:
	close(fd);
	return buf;
}

/* 1 when the result can be sent as a result message as it is. */
static int
journal_result_sendable(const json_t *result)
{
	struct bora_msg m = { .type = BORA_MSG_RESULT };
	struct bora_msg_err verr;
	size_t len = 0;
	char *text;

	if (bora_result_from_json(result, "result", &m.u.result, &verr) != 0)
		return 0;
	text = bora_msg_encode(&m, &len);
	free(text);
	return text != NULL && len <= BORA_MAX_MESSAGE_BYTES;
}

/* Parse and check the entry file name (of step id) into e. 0, or -1 with
 * err filled (e untouched). */
static int
journal_parse(const char *id, const char *buf, size_t len,
    struct journal_entry *e, char *err, size_t errlen)
{
	json_t *o, *v, *res = NULL;
	json_error_t jerr;
	const char *key, *step = NULL, *kind = NULL, *work = NULL;
	const char *boot = NULL;
	json_int_t version = 0, started = -1, pgid = 0;
	int rc = -1;

	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		bora_errf(err, errlen, "not JSON: %s at byte %d", jerr.text,
		    jerr.position);
		return -1;
	}
	if (!json_is_object(o)) {
		bora_errf(err, errlen, "not a JSON object");
		goto out;
	}
	json_object_foreach(o, key, v) {
		if (strcmp(key, "journal") == 0 && json_is_integer(v))
			version = json_integer_value(v);
		else if (strcmp(key, "step") == 0 && json_is_string(v))
			step = json_string_value(v);
		else if (strcmp(key, "kind") == 0 && json_is_string(v))
			kind = json_string_value(v);
		else if (strcmp(key, "started_ms") == 0 && json_is_integer(v))
			started = json_integer_value(v);
		else if (strcmp(key, "work") == 0 && json_is_string(v))
			work = json_string_value(v);
		else if (strcmp(key, "pgid") == 0 && json_is_integer(v) &&
		    json_integer_value(v) > 1 &&
		    json_integer_value(v) <= INT32_MAX)
			pgid = json_integer_value(v);
		else if (strcmp(key, "boot_id") == 0 && json_is_string(v) &&
		    json_string_length(v) <= BOOT_ID_MAX)
			boot = json_string_value(v);
		else if (strcmp(key, "result") == 0 && json_is_object(v))
			res = v;
		else {
			bora_errf(err, errlen, "unexpected field %.64s", key);
			goto out;
		}
	}
	if (version != JOURNAL_VERSION) {
		bora_errf(err, errlen, "not a version %d journal entry",
		    JOURNAL_VERSION);
		goto out;
	}
	if (step == NULL || strcmp(step, id) != 0 || kind == NULL ||
	    journal_check_args(step, kind, err, errlen) != 0 || started < 0) {
		bora_errf(err, errlen, "step, kind or started_ms missing or not "
		    "the file's");
		goto out;
	}
	if (res != NULL) {
		v = json_object_get(res, "step");
		if (!json_is_string(v) || strcmp(json_string_value(v), id) != 0 ||
		    !journal_result_sendable(res)) {
			bora_errf(err, errlen, "result is not a valid result of "
			    "this step");
			goto out;
		}
	}
	memset(e, 0, sizeof(*e));
	e->step = strdup(step);
	e->kind = strdup(kind);
	e->work = work ? strdup(work) : NULL;
	e->boot_id = boot ? strdup(boot) : NULL;
	e->pgid = pgid;
	e->started_ms = started;
	if (e->step == NULL || e->kind == NULL || (work && e->work == NULL) ||
	    (boot && e->boot_id == NULL)) {
		journal_entry_clear(e);
		bora_errf(err, errlen, "out of memory");
		goto out;
	}
	if (res != NULL) {
		e->result = json_incref(res);
		v = json_object_get(res, "finished_ms");
		e->finished_ms = json_is_integer(v) ? json_integer_value(v) : 0;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* A started-only entry: its process died with an earlier agent. Give it
 * the lost result, in memory and on disk. 0 or -1 (out of memory). */
static int
journal_make_lost(struct journal *j, struct journal_entry *e)
{
	struct bora_result r;
	char err[256];

	memset(&r, 0, sizeof(r));
	r.step = e->step;
	r.status = BORA_STATUS_LOST;
	r.started_ms = e->started_ms;
	r.finished_ms = journal_now_ms();
	if (r.finished_ms < r.started_ms)
		r.finished_ms = r.started_ms;
	r.error = JOURNAL_LOST_ERROR;
	if ((e->result = bora_result_to_json(&r)) == NULL)
		return -1;
	e->finished_ms = r.finished_ms;
	e->lost = 1;
	log_info("journal", "step started by an earlier agent process is lost "
	    "step=%s kind=%s started_ms=%lld", e->step, e->kind,
	    (long long)e->started_ms);
	if (journal_finish(j, e->step, e->kind, e->started_ms, e->work,
	    e->result, err, sizeof(err)) != 0)
		log_warnx("journal", "cannot record the lost result step=%s "
		    "error=\"%s\"", e->step, err);
	return 0;
}

static int
journal_cmp(const void *a, const void *b)
{
	const struct journal_entry *x = a, *y = b;

	if (x->finished_ms != y->finished_ms)
		return x->finished_ms < y->finished_ms ? -1 : 1;
	return strcmp(x->step, y->step);
}

int
journal_load(struct journal *j, size_t max, journal_left_fn on_left,
    struct journal_entry **out, size_t *n)
{
	struct journal_entry *es = NULL, *grown;
	struct dirent *de;
	size_t count = 0, cap = 0, skipped = 0, i;
	char err[256], *buf;
	const char *name;
	size_t len;
	DIR *d;
	int fd, rc = -1;

	*out = NULL;
	*n = 0;
	fd = openat(j->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		log_warn("journal", "cannot read dir=%s", j->dir);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (strncmp(name, JOURNAL_TMP_PREFIX,
		    strlen(JOURNAL_TMP_PREFIX)) == 0) {
			log_info("journal", "removing an unfinished write "
			    "file=%s/%s", j->dir, name);
			if (unlinkat(j->dirfd, name, 0) != 0 && errno != ENOENT)
				log_warn("journal", "cannot remove file=%s/%s",
				    j->dir, name);
			continue;
		}
		if (strncmp(name, JOURNAL_PREFIX, strlen(JOURNAL_PREFIX)) != 0 ||
		    !bora_step_id_valid(name + strlen(JOURNAL_PREFIX))) {
			log_warnx("journal", "ignoring a foreign file file=%s/%s",
			    j->dir, name);
			continue;
		}
		if (count >= max) {
			skipped++;
			continue;
		}
		if ((buf = journal_read(j, name, &len, err, sizeof(err))) ==
		    NULL) {
			log_warnx("journal", "ignoring an unreadable entry "
			    "file=%s/%s error=\"%s\"", j->dir, name, err);
			continue;
		}
		if (count == cap) {
			cap = cap ? 2 * cap : 16;
			if (cap > max)
				cap = max;
			if ((grown = realloc(es, cap * sizeof(*es))) == NULL) {
				free(buf);
				log_errorx("journal", "out of memory loading "
				    "dir=%s", j->dir);
				goto out;
			}
			es = grown;
		}
		if (journal_parse(name + strlen(JOURNAL_PREFIX), buf, len,
		    &es[count], err, sizeof(err)) != 0)
			log_warnx("journal", "ignoring a corrupt entry file=%s/%s "
			    "error=\"%s\"", j->dir, name, err);
		else
			count++;
		free(buf);
	}
	if (errno != 0) {
		log_warn("journal", "cannot read dir=%s", j->dir);
		goto out;
	}
	if (skipped > 0)
		log_warnx("journal", "more entries than the agent holds, %zu "
		    "left for a later start dir=%s max=%zu", skipped, j->dir,
		    max);
	for (i = 0; i < count; i++) {
		if (es[i].result != NULL)
			continue;
		/* Before the lost result is durable: once it is, nothing
		 * would look for the step's processes again. */
		if (on_left != NULL)
			on_left(j, &es[i]);
		if (journal_make_lost(j, &es[i]) != 0) {
			log_errorx("journal", "out of memory loading dir=%s",
			    j->dir);
			goto out;
		}
	}
	if (count > 1)
		qsort(es, count, sizeof(*es), journal_cmp);
	*out = es;
	*n = count;
	es = NULL;
	count = 0;
	rc = 0;
out:
	closedir(d);
	journal_entries_free(es, count);
	return rc;
}

void
journal_entries_free(struct journal_entry *e, size_t n)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < n; i++)
		journal_entry_clear(&e[i]);
	free(e);
}
