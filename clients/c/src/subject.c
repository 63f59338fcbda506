/* Subject and pattern rules (subject.h); the same checks as src/slot/subject.ts. */
#include "subject.h"

#include <stdio.h>

#include "layout.h"

int subject_check(const char *s, size_t n, int wildcards, char *why, size_t cap) {
  if (n == 0) return snprintf(why, cap, "it is empty"), -1;
  if (n > MAX_ADDRESS_BYTES) return snprintf(why, cap, "it is %zu bytes, over %u", n, MAX_ADDRESS_BYTES), -1;
  size_t start = 0;
  unsigned token = 1;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && s[i] != '.') continue;
    size_t len = i - start;
    if (len == 0) return snprintf(why, cap, "token %u is empty (tokens are separated by single dots, none at either end)", token), -1;
    char first = s[start];
    if (len == 1 && (first == '*' || first == '>')) {
      if (!wildcards) return snprintf(why, cap, "\"%c\" is a wildcard, for subscriptions only: a publication names one subject", first), -1;
      if (first == '>' && i != n) return snprintf(why, cap, "\">\" matches the rest of a subject and must be its last token"), -1;
    } else {
      for (size_t j = start; j < i; j++) {
        unsigned char c = (unsigned char)s[j];
        if (c < 0x21 || c > 0x7e || c == '*' || c == '>')
          return snprintf(why, cap, "token %u holds byte 0x%02x at %zu (printable ASCII only, no spaces; \"*\" and \">\" only as whole tokens)", token, c, j), -1;
      }
    }
    start = i + 1;
    token++;
  }
  return 0;
}
