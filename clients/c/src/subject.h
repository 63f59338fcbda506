/*
 * Subjects and subscription patterns (docs/slot-layout.md §8), as src/slot/subject.ts: 1–255
 * bytes of tokens separated by single dots, each token printable ASCII (0x21–0x7E) but for
 * `.`; in a pattern the whole token `*` matches one token and a last `>` one or more. A
 * publication names a subject without wildcards.
 */
#ifndef SLOTLINK_SUBJECT_H
#define SLOTLINK_SUBJECT_H

#include <stddef.h>

/**
 * Whether `s[0..n)` is a subject (`wildcards` 0: what a publication names) or a pattern
 * (`wildcards` 1: what a subscription names). 0 if it is; -1 if not, with why in `why`.
 */
int subject_check(const char *s, size_t n, int wildcards, char *why, size_t cap);

#endif
