/*
 * boot_id.h: which boot of the machine this is. The journal records it
 * with each started step, so a later agent can tell "my predecessor died"
 * (the step's process group may still run: kill it) from "the machine
 * rebooted" (nothing of the step is left, and its pgid may now be
 * someone else's).
 *
 * The id is read from /proc/sys/kernel/random/boot_id, or from the file
 * named by the environment variable BORA_BOOT_ID_FILE (a test's way to
 * simulate a reboot; docs/agent.md).
 */
#ifndef BORA_AGENT_BOOT_ID_H
#define BORA_AGENT_BOOT_ID_H

#include <stddef.h>

#define BOOT_ID_MAX     64      /* bytes of an id we keep */
#define BOOT_ID_PATH    "/proc/sys/kernel/random/boot_id"
#define BOOT_ID_ENV     "BORA_BOOT_ID_FILE"

/* Fill out (len > 0) with the boot id, its first line without the newline,
 * at most BOOT_ID_MAX bytes. 0, or -1 (logged) with out "" when it cannot
 * be read. */
int boot_id_read(char *out, size_t len);

#endif
