/* coordinator_init.h: `bora-coordinator init DIR` (coordinator_init.c): the CA, the server
 * certificate and the operator token of a new coordinator; and
 * `bora-coordinator operator-token rotate DIR`: a new operator token. */
#ifndef BORA_COORD_INIT_H
#define BORA_COORD_INIT_H

/* argv[0] is "init". Returns the exit status. */
int coord_init_main(int argc, char **argv);

/* `bora-coordinator operator-token rotate DIR [--api-socket PATH]`:
 * argv[0] is "operator-token". Returns the exit status. */
int coord_operator_token_main(int argc, char **argv);

#endif
