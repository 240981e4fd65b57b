/*
 * runners.h: the kinds of step this agent runs, as one const table.
 *
 * A runner turns a run message (its spec and inputs) into an exec request
 * for exec_start(), writing what the process needs (a script file) into
 * the step's private directory. Later kinds (puppet, file, heat_config)
 * are more rows of the same table.
 */
#ifndef BORA_AGENT_RUNNERS_H
#define BORA_AGENT_RUNNERS_H

#include <stddef.h>

#include "exec.h"
#include "msg.h"

/* Fixed part of every step's environment, before its inputs. */
#define RUNNERS_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RUNNERS_LANG "C.UTF-8"

struct runner {
	const char *kind;
	/*
	 * Fill *req for run, whose directory dir exists (mode 0700, empty).
	 * 0, or -1 with one sentence in err that names the field or input at
	 * fault (the step's result is then status "error"). On -1 *req holds
	 * nothing; on 0 the caller frees it with exec_req_free().
	 */
	int (*build)(const struct bora_run *run, const char *dir,
	    struct exec_req *req, char *err, size_t errlen);
};

/* The runner for kind, or NULL when this agent has none. */
const struct runner *runners_find(const char *kind);

#endif
