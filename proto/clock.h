/* clock.h: milliseconds, the way every part of Bora counts them. */
#ifndef BORA_PROTO_CLOCK_H
#define BORA_PROTO_CLOCK_H

#include <stdint.h>

/* Wall-clock time (CLOCK_REALTIME), ms since the epoch: what results,
 * journals and the store record. */
int64_t bora_wall_ms(void);
/* A monotonic clock (CLOCK_MONOTONIC), ms: for measuring and timers. */
int64_t bora_mono_ms(void);

#endif
