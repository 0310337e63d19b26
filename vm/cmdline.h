/* The command line: QEMU's spelling where the meaning is the same. Parses
 * argv into a machine_config; an unknown option or a bad value prints one
 * clear line and makes the caller exit with status 1. */
#ifndef VM_CMDLINE_H
#define VM_CMDLINE_H

#include "vm/machine.h"

enum cmdline_result {
    CMDLINE_RUN,    /* start the machine */
    CMDLINE_EXIT_OK, /* --help, --version, -accel help: printed, exit 0 */
    CMDLINE_ERROR,  /* printed one line, exit 1 */
};

enum cmdline_result cmdline_parse(int argc, char **argv,
                                  struct machine_config *cfg);
/* "128M", "2G", "512" (MiB) -> bytes; -1 on a bad value */
long long cmdline_parse_size(const char *s);

#endif
