/*
 * Names and addresses (as src/address.ts): `name`, `name@node`, `name~slotId.generation@node`
 * (one registered process), or "~proxy". Addresses are ASCII by construction.
 */
#ifndef SLOTLINK_ADDRESS_H
#define SLOTLINK_ADDRESS_H

#include <stddef.h>

#include "../slotlink.h"
#include "layout.h"

typedef struct address {
  int is_proxy;
  char name[SLOTLINK_MAX_NAME + 1];
  char instance[32]; /* "slotId.generation", or "" */
  char node[SLOTLINK_MAX_NAME + 1]; /* "" when the address names no node */
} address;

/** Whether `s[0..n)` is a valid name: 1–64 of A-Z a-z 0-9 . _ -, starting with a letter or digit. */
int name_valid(const char *s, size_t n);

/** Parses `text` (n bytes). 0 on success; -1 with `why` (a static string) set. */
int address_parse(const char *text, size_t n, address *out, const char **why);

/**
 * Whether an answer from `from` may settle a request sent to `to` (docs/slot-layout.md §4,
 * matching replies): the same name; the same node and instance when the request named them;
 * "~proxy" only from "~proxy".
 */
int address_answers(const address *to, const address *from);

#endif
