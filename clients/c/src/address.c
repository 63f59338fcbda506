#include "address.h"

#include <string.h>

static int name_char(char c, int first) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return 1;
  return !first && (c == '.' || c == '_' || c == '-');
}

int name_valid(const char *s, size_t n) {
  if (n == 0 || n > SLOTLINK_MAX_NAME) return 0;
  for (size_t i = 0; i < n; i++)
    if (!name_char(s[i], i == 0)) return 0;
  return 1;
}

/* "digits.digits" */
static int instance_valid(const char *s, size_t n) {
  size_t i = 0, a = 0, b = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++, a++;
  if (i >= n || s[i] != '.') return 0;
  i++;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++, b++;
  return i == n && a > 0 && b > 0;
}

int address_parse(const char *text, size_t n, address *out, const char **why) {
  memset(out, 0, sizeof *out);
  if (n == 0) return *why = "empty", -1;
  if (n > SLOTLINK_MAX_ADDRESS) return *why = "longer than 255 characters", -1;
  if (n == sizeof PROXY_ADDRESS - 1 && memcmp(text, PROXY_ADDRESS, n) == 0) {
    out->is_proxy = 1;
    memcpy(out->name, PROXY_ADDRESS, n);
    return 0;
  }
  const char *at = memchr(text, '@', n);
  size_t local = at ? (size_t)(at - text) : n;
  if (at) {
    size_t node_len = n - local - 1;
    if (!name_valid(at + 1, node_len)) return *why = "the node is not a valid node name", -1;
    memcpy(out->node, at + 1, node_len);
  }
  const char *tilde = memchr(text, '~', local);
  size_t name_len = tilde ? (size_t)(tilde - text) : local;
  if (!name_valid(text, name_len)) return *why = "the name is not a valid name", -1;
  memcpy(out->name, text, name_len);
  if (tilde) {
    size_t inst_len = local - name_len - 1;
    if (inst_len >= sizeof out->instance || !instance_valid(tilde + 1, inst_len)) return *why = "the instance is not slotId.generation", -1;
    memcpy(out->instance, tilde + 1, inst_len);
  }
  return 0;
}

int address_answers(const address *to, const address *from) {
  if (to->is_proxy || from->is_proxy) return to->is_proxy && from->is_proxy;
  if (strcmp(to->name, from->name) != 0) return 0;
  if (to->node[0] && strcmp(to->node, from->node) != 0) return 0;
  if (to->instance[0] && strcmp(to->instance, from->instance) != 0) return 0;
  return 1;
}
