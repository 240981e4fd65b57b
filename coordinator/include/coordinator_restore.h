/*
 * coordinator_restore.h: rebuild executions and steps from the open store
 * at start (coordinator_restore.c).
 */
#ifndef BORA_COORD_RESTORE_H
#define BORA_COORD_RESTORE_H

#include <stddef.h>

/* After persist_open() and engine_glue_init(): the finished executions the
 * API shows, the unfinished executions and steps. An execution or step
 * that cannot be rebuilt is logged and left out. 0, or -1 with err when
 * the store cannot be read. */
int coord_restore(char *err, size_t errlen);

#endif
