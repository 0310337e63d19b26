/* Capstone wrapper for cpu/disasm.h: one lazily opened handle per CPU mode,
 * guarded by a mutex so that any thread may ask. */
#include "cpu/disasm.h"

#include <capstone/capstone.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

static pthread_mutex_t disasm_lock = PTHREAD_MUTEX_INITIALIZER;
static csh handles[3];
static bool opened[3], failed[3];

static int mode_index(unsigned code_size)
{
    return code_size == 2 ? 0 : code_size == 4 ? 1 : 2;
}

unsigned disasm_one(const uint8_t *code, size_t len, uint64_t addr,
                    unsigned code_size, char *buf, size_t bufsize)
{
    static const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
    int m = mode_index(code_size);
    unsigned size = 0;
    cs_insn *insn = NULL;

    pthread_mutex_lock(&disasm_lock);
    if (!opened[m] && !failed[m]) {
        if (cs_open(CS_ARCH_X86, modes[m], &handles[m]) == CS_ERR_OK)
            opened[m] = true;
        else
            failed[m] = true;
    }
    if (opened[m] && cs_disasm(handles[m], code, len, addr, 1, &insn) == 1) {
        size = insn->size;
        snprintf(buf, bufsize, "%s%s%s", insn->mnemonic,
                 insn->op_str[0] ? " " : "", insn->op_str);
        cs_free(insn, 1);
    } else if (bufsize) {
        snprintf(buf, bufsize, "(bad)");
    }
    pthread_mutex_unlock(&disasm_lock);
    return size;
}
