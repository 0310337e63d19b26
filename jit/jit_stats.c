/* What the JIT could not do natively, counted while the guest runs, for
 * whoever tunes it: with TANDEM_JIT_STATS=FILE in the environment, tandem
 * writes at exit how often each instruction ran through the interpreter
 * (REP-prefixed forms apart), how many memory accesses took the helper
 * path, how many conditions and carries the helpers computed, and how
 * often generated code went back to the run loop. The counters are bumped
 * only on those slow paths, so keeping them always costs nothing that
 * matters. */
#include <stdio.h>
#include <stdlib.h>
#include "cpu/opcode_table.h"
#include "jit/jit.h"

struct jit_stats jit_stats;
unsigned long jit_stats_fallback[I_COUNT + 1][2];

static void write_stats(void)
{
    const char *path = getenv("TANDEM_JIT_STATS");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f)
        return;
    const struct jit_stats *s = &jit_stats;
    fprintf(f, "loop entries %lu\ntranslations %lu\nflushes %lu\n"
               "slow loads %lu\nslow stores %lu\nhelper conditions %lu\n"
               "helper carries %lu\nfallbacks by instruction:\n",
            s->loop_entries, s->translations, s->flushes, s->slow_loads,
            s->slow_stores, s->helper_conds, s->helper_carries);
    for (unsigned i = 0; i <= I_COUNT; i++)
        for (unsigned rep = 0; rep < 2; rep++)
            if (jit_stats_fallback[i][rep])
                fprintf(f, "%14lu %s%s\n", jit_stats_fallback[i][rep],
                        i < I_COUNT ? x86_mnemonic_name(i) : "(undecodable)",
                        rep ? " (REP)" : "");
    fclose(f);
}

void jit_stats_init(void)
{
    static bool done;
    if (!done && getenv("TANDEM_JIT_STATS"))
        atexit(write_stats);
    done = true;
}

void jit_stats_count_fallback(const struct x86_insn *insn)
{
    unsigned id = insn->op ? insn->op->id : I_COUNT;
    jit_stats_fallback[id][insn->rep != 0]++;
}
