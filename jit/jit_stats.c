/* What the JIT did, for whoever tunes it, driven by the environment:
 * - TANDEM_JIT_STATS=FILE: at exit, how often each instruction ran through
 *   the interpreter (REP-prefixed forms apart), how many memory accesses
 *   took the helper path, how many conditions the helper computed, and
 *   how often generated code went back to the run loop.
 *   The counters are bumped only on those slow paths.
 * - TANDEM_JIT_PERFMAP=1: /tmp/perf-PID.map names every block by its guest
 *   RIP, so that `perf report` attributes host time to guest code.
 * - TANDEM_JIT_DUMP=FILE: every translated block, its guest instructions
 *   and the host code generated for them. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "cpu/disasm.h"
#include "cpu/opcode_table.h"
#include "jit/jit.h"

struct jit_stats jit_stats;
bool jit_stats_on;
unsigned long jit_stats_fallback[I_COUNT + 1][2];
static FILE *perf_map, *dump;

static void write_stats(void)
{
    const char *path = getenv("TANDEM_JIT_STATS");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f)
        return;
    const struct jit_stats *s = &jit_stats;
    fprintf(f, "loop entries %lu\ntranslations %lu\nflushes %lu\n"
               "slow loads %lu\nslow stores %lu\nhelper conditions %lu\n"
               "fallbacks by instruction:\n",
            s->loop_entries, s->translations, s->flushes, s->slow_loads,
            s->slow_stores, s->helper_conds);
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
    if (done)
        return;
    done = true;
    jit_stats_on = getenv("TANDEM_JIT_STATS") != NULL;
    if (jit_stats_on)
        atexit(write_stats);
    if (getenv("TANDEM_JIT_PERFMAP")) {
        char path[64];
        snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
        perf_map = fopen(path, "w");
    }
    const char *dump_path = getenv("TANDEM_JIT_DUMP");
    if (dump_path)
        dump = fopen(dump_path, "w");
}

void jit_stats_count_fallback(const struct x86_insn *insn)
{
    unsigned id = insn->op ? insn->op->id : I_COUNT;
    jit_stats_fallback[id][insn->rep != 0]++;
}

static void dump_code(const uint8_t *p, size_t len, uint64_t addr,
                      unsigned code_size)
{
    char text[128];
    for (size_t off = 0; off < len;) {
        unsigned n = disasm_one(p + off, len - off, addr + off, code_size,
                                text, sizeof(text));
        fprintf(dump, "  %12llx  %s\n", (unsigned long long)(addr + off),
                text);
        off += n ? n : 1;
    }
}

void jit_stats_block(const struct jit_block *b, const uint8_t *guest,
                     unsigned code_size, size_t host_len)
{
    if (perf_map) {
        fprintf(perf_map, "%llx %zx guest_%llx\n",
                (unsigned long long)(uintptr_t)b->code, host_len,
                (unsigned long long)b->rip);
        fflush(perf_map);
    }
    if (dump) {
        fprintf(dump, "block rip %llx gpa %llx: %u instructions\n",
                (unsigned long long)b->rip, (unsigned long long)b->gpa,
                b->ninsn);
        dump_code(guest, b->guest_len, b->rip, code_size);
        fprintf(dump, "host code (%zu bytes)\n", host_len);
        dump_code(b->code, host_len, (uint64_t)(uintptr_t)b->code, 8);
        fflush(dump);
    }
}
