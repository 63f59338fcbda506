/*
 * The mark devices (docs/slot-layout.md §3): the only code that touches a cell's marks or a
 * direction's READER_SLEEPING / WRITER_WAITING flags. Every access is a sequentially
 * consistent C11 atomic on an aligned 32-bit word, so a side about to sleep either sees the
 * other's change or the other sees its flag: no wake-up is lost.
 */
#ifndef SLOTLINK_MARKS_H
#define SLOTLINK_MARKS_H

#include <stdatomic.h>
#include <stdint.h>

#include "layout.h"

/* The word at byte `offset` of the slot. Offsets are multiples of 4 by construction. */
static inline _Atomic int32_t *mark_word(uint8_t *slot, uint32_t offset) {
  return (_Atomic int32_t *)(void *)(slot + offset);
}

static inline int32_t mark_load(uint8_t *slot, uint32_t offset) {
  return atomic_load_explicit(mark_word(slot, offset), memory_order_seq_cst);
}

static inline void mark_store(uint8_t *slot, uint32_t offset, int32_t v) {
  atomic_store_explicit(mark_word(slot, offset), v, memory_order_seq_cst);
}

/* Compare-and-swap `from` -> `to`; true if the word held `from` (and now holds `to`). */
static inline int mark_cas(uint8_t *slot, uint32_t offset, int32_t from, int32_t to) {
  int32_t expected = from;
  return atomic_compare_exchange_strong_explicit(mark_word(slot, offset), &expected, to, memory_order_seq_cst, memory_order_seq_cst);
}

#endif
