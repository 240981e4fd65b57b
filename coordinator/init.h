/* init.h: `bora-coordinator init DIR` (init.c): the CA, the server
 * certificate and the operator token of a new coordinator. */
#ifndef BORA_COORD_INIT_H
#define BORA_COORD_INIT_H

/* argv[0] is "init". Returns the exit status. */
int coord_init_main(int argc, char **argv);

#endif
