/*
 * Just enough JSON for the control frames (welcome, refused, draining, closing) and ERROR
 * payloads: one object, read into a flat list of "path" -> value (nested objects as
 * "layout.cellCount"); arrays are checked and skipped. Input is untrusted: every length is
 * bounded, nesting is limited, and anything malformed is an error.
 */
#ifndef SLOTLINK_JSON_H
#define SLOTLINK_JSON_H

#include <stddef.h>

enum { JSON_STRING = 1, JSON_NUMBER, JSON_BOOL, JSON_NULL };

#define JSON_MAX_FIELDS 64
#define JSON_MAX_PATH 64

typedef struct json_field {
  char path[JSON_MAX_PATH];
  int type;
  const char *str; /* JSON_STRING: decoded UTF-8, NUL-terminated (inside the doc's arena) */
  size_t str_len;
  double num;      /* JSON_NUMBER */
  int boolean;     /* JSON_BOOL */
} json_field;

typedef struct json_doc {
  json_field fields[JSON_MAX_FIELDS];
  int count;
  char *arena;
  char error[128];
} json_doc;

/** Parses `len` bytes holding one JSON object. 0 on success; -1 with doc->error set. Free with json_free(). */
int json_parse(json_doc *doc, const char *text, size_t len);
void json_free(json_doc *doc);

/** The field at `path` if it has `type`, else NULL. */
const json_field *json_get(const json_doc *doc, const char *path, int type);
/** The string at `path`, or NULL. */
const char *json_string(const json_doc *doc, const char *path);
/** The number at `path` if it is a whole number in [0, 2^32): 0 and *out set; else -1. */
int json_u32(const json_doc *doc, const char *path, unsigned *out);

/** Appends `s` to `out` as a JSON string (with quotes), escaping as needed; never past `cap`. Returns bytes written or -1. */
int json_quote(char *out, size_t cap, const char *s);

#endif
