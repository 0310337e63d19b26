/* The 16-byte output queue a PS/2 device (keyboard or mouse) keeps for
 * bytes the controller has not taken yet. Plain data, for snapshots. */
#ifndef DEVICES_PS2_QUEUE_H
#define DEVICES_PS2_QUEUE_H

#include <stdint.h>

#define PS2_QUEUE_SIZE 16

struct ps2_queue {
    uint8_t data[PS2_QUEUE_SIZE];
    uint8_t head, count;
};

static inline unsigned ps2_queue_room(const struct ps2_queue *q)
{
    return PS2_QUEUE_SIZE - q->count;
}

/* Dropped when full */
static inline void ps2_queue_push(struct ps2_queue *q, uint8_t v)
{
    if (q->count < PS2_QUEUE_SIZE)
        q->data[(q->head + q->count++) % PS2_QUEUE_SIZE] = v;
}

/* The oldest byte, or -1 when empty */
static inline int ps2_queue_pop(struct ps2_queue *q)
{
    if (q->count == 0)
        return -1;
    uint8_t v = q->data[q->head];
    q->head = (q->head + 1) % PS2_QUEUE_SIZE;
    q->count--;
    return v;
}

#endif
