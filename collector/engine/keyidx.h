/*
 * keyidx: which flows hold an instance under a key, by the key's 32-bit hash.
 *
 * An event of an undeclared type is `unexpected` in every flow that has an instance
 * for its key (docs: "Terms"). Asking every declared flow's table would make the
 * cost of such an event grow with the number of declared flows; this index answers
 * with the few flows whose tables hold a key of the same hash (the caller then looks
 * the key up in those tables only, so hash collisions cost a lookup, never a wrong
 * verdict). It mirrors the flow tables' own key indexes entry for entry: flowtab
 * calls keyidx_add when a key gets an index slot and keyidx_del when the slot goes,
 * so counts are exact. Open addressing, backward-shift deletion, 12 bytes an entry.
 * If an allocation fails the index marks itself lossy and the engine falls back to
 * asking every flow (slow, still correct). Single-threaded (the engine thread).
 */
#ifndef CHOREOSCOPE_KEYIDX_H
#define CHOREOSCOPE_KEYIDX_H

#include <stddef.h>
#include <stdint.h>

struct keyidx;

struct keyidx *keyidx_new(void);
void keyidx_free(struct keyidx *k);
void keyidx_add(struct keyidx *k, uint32_t h, uint16_t flow);
void keyidx_del(struct keyidx *k, uint32_t h, uint16_t flow);
/* Appends to out (up to cap) the flows holding a key of hash h; returns how many
 * there are (may exceed cap), or -1 when the index is lossy. */
int keyidx_flows(const struct keyidx *k, uint32_t h, uint16_t *out, int cap);
size_t keyidx_memory(const struct keyidx *k);

#endif
