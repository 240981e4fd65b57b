/*
 * enroll.h: the old name of agent_enroll.h, kept only because enroll_tls.c
 * (another change is rewriting it) still includes it. Remove this file once
 * enroll_tls.c includes "agent_enroll.h".
 */
#include "agent_enroll.h"
