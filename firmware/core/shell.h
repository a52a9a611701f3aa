/* The operator shell on the serial line (prompt "cg> "). */
#ifndef CG_SHELL_H
#define CG_SHELL_H

#include <cg/types.h>
#include "shell_line.h"

/* shell_exec: run one complete line and print its answer. */
void shell_exec(const char *line);

/* shell_start: print the first prompt; enabled is false with cg.shell=0. */
void shell_start(bool enabled);

/* shell_enabled: the shell serves the operator line. */
bool shell_enabled(void);

/* shell_poll: handle every byte waiting on the operator line (never
 * blocks; CPU 0 calls it between guest time slices). */
void shell_poll(void);

#endif
