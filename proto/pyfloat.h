/*
 * pyfloat.h: a double as Python's str() and repr() write it (the shortest
 * digits that read back to the same double; fixed notation from 1e-4 up to
 * 1e16, with ".0" when it is whole; scientific otherwise, "1e-05",
 * "1.5e+16"), so a number handed to a script or a Heat hook reads as it
 * does under heat-agents: 1.1 is "1.1", not jansson's 1.1000000000000001.
 */
#ifndef BORA_PROTO_PYFLOAT_H
#define BORA_PROTO_PYFLOAT_H

#include <stddef.h>

/* Into buf (32 bytes hold any double; a smaller buf gets the text cut,
 * never overrun); returns buf. Infinities
 * and NaN as Python writes them ("inf", "-inf", "nan"). */
const char *bora_py_float(double v, char *buf, size_t n);

#endif
