/* A small, strict JSON object reader (see json.h). */
#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 8

typedef struct parser {
  const char *start, *p, *end;
  char *out; /* arena cursor */
  json_doc *doc;
} parser;

static int err(parser *ps, const char *what) {
  snprintf(ps->doc->error, sizeof ps->doc->error, "%s at byte %ld", what, (long)(ps->p - ps->start));
  return -1;
}

static void skip_ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static int hex4(parser *ps, unsigned *v) {
  if (ps->end - ps->p < 4) return err(ps, "short \\u escape");
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = *ps->p++;
    *v <<= 4;
    if (c >= '0' && c <= '9') *v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') *v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') *v |= (unsigned)(c - 'A' + 10);
    else return err(ps, "bad \\u escape");
  }
  return 0;
}

/* Decodes a string into the arena (decoded text is never longer than its source). */
static int parse_string(parser *ps, const char **s, size_t *n) {
  if (ps->p >= ps->end || *ps->p != '"') return err(ps, "expected a string");
  ps->p++;
  char *start = ps->out;
  for (;;) {
    if (ps->p >= ps->end) return err(ps, "unterminated string");
    unsigned char c = (unsigned char)*ps->p++;
    if (c == '"') break;
    if (c < 0x20) return err(ps, "control character in string");
    if (c != '\\') {
      *ps->out++ = (char)c;
      continue;
    }
    if (ps->p >= ps->end) return err(ps, "unterminated escape");
    char e = *ps->p++;
    switch (e) {
      case '"': *ps->out++ = '"'; break;
      case '\\': *ps->out++ = '\\'; break;
      case '/': *ps->out++ = '/'; break;
      case 'b': *ps->out++ = '\b'; break;
      case 'f': *ps->out++ = '\f'; break;
      case 'n': *ps->out++ = '\n'; break;
      case 'r': *ps->out++ = '\r'; break;
      case 't': *ps->out++ = '\t'; break;
      case 'u': {
        unsigned cp;
        if (hex4(ps, &cp) < 0) return -1;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned lo;
          if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u') return err(ps, "lone surrogate");
          ps->p += 2;
          if (hex4(ps, &lo) < 0) return -1;
          if (lo < 0xDC00 || lo > 0xDFFF) return err(ps, "bad surrogate pair");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return err(ps, "lone surrogate");
        }
        /* A \uXXXX escape is 6 source bytes; its UTF-8 form is at most 4 (a pair: 12 -> 4). */
        if (cp == 0) return err(ps, "NUL in string");
        if (cp < 0x80) *ps->out++ = (char)cp;
        else if (cp < 0x800) {
          *ps->out++ = (char)(0xC0 | cp >> 6);
          *ps->out++ = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          *ps->out++ = (char)(0xE0 | cp >> 12);
          *ps->out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
          *ps->out++ = (char)(0x80 | (cp & 0x3F));
        } else {
          *ps->out++ = (char)(0xF0 | cp >> 18);
          *ps->out++ = (char)(0x80 | ((cp >> 12) & 0x3F));
          *ps->out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
          *ps->out++ = (char)(0x80 | (cp & 0x3F));
        }
        break;
      }
      default: return err(ps, "unknown escape");
    }
  }
  *ps->out++ = '\0';
  *s = start;
  *n = (size_t)(ps->out - start - 1);
  return 0;
}

static int parse_number(parser *ps, double *v) {
  const char *s = ps->p;
  if (ps->p < ps->end && *ps->p == '-') ps->p++;
  if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return err(ps, "bad number");
  while (ps->p < ps->end && ((*ps->p >= '0' && *ps->p <= '9') || *ps->p == '.' || *ps->p == 'e' || *ps->p == 'E' || *ps->p == '+' || *ps->p == '-')) ps->p++;
  char buf[64];
  size_t n = (size_t)(ps->p - s);
  if (n >= sizeof buf) return err(ps, "number too long");
  memcpy(buf, s, n);
  buf[n] = '\0';
  char *endp;
  *v = strtod(buf, &endp);
  if (*endp != '\0') return err(ps, "bad number");
  return 0;
}

static int literal(parser *ps, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return err(ps, "unexpected token");
  ps->p += n;
  return 0;
}

static int parse_value(parser *ps, const char *path, int depth);

static json_field *add(parser *ps, const char *path, int type) {
  if (ps->doc->count >= JSON_MAX_FIELDS) return NULL; /* more fields than any frame we read: keep the first ones */
  json_field *f = &ps->doc->fields[ps->doc->count++];
  snprintf(f->path, sizeof f->path, "%s", path);
  f->type = type;
  return f;
}

static int parse_object(parser *ps, const char *path, int depth) {
  if (depth > MAX_DEPTH) return err(ps, "nested too deeply");
  ps->p++; /* '{' */
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == '}') {
    ps->p++;
    return 0;
  }
  for (;;) {
    skip_ws(ps);
    const char *key;
    size_t key_len;
    if (parse_string(ps, &key, &key_len) < 0) return -1;
    char child[JSON_MAX_PATH];
    int w = path[0] ? snprintf(child, sizeof child, "%s.%s", path, key) : snprintf(child, sizeof child, "%s", key);
    if (w < 0 || (size_t)w >= sizeof child) child[0] = '\0', child[1] = '\0'; /* too long to be a field we read */
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ':') return err(ps, "expected ':'");
    ps->p++;
    skip_ws(ps);
    if (parse_value(ps, child, depth + 1) < 0) return -1;
    skip_ws(ps);
    if (ps->p >= ps->end) return err(ps, "unterminated object");
    if (*ps->p == ',') {
      ps->p++;
      continue;
    }
    if (*ps->p == '}') {
      ps->p++;
      return 0;
    }
    return err(ps, "expected ',' or '}'");
  }
}

static int parse_array(parser *ps, int depth) {
  if (depth > MAX_DEPTH) return err(ps, "nested too deeply");
  ps->p++; /* '[' */
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == ']') {
    ps->p++;
    return 0;
  }
  for (;;) {
    skip_ws(ps);
    if (parse_value(ps, "", depth + 1) < 0) return -1; /* elements are checked, not kept */
    skip_ws(ps);
    if (ps->p >= ps->end) return err(ps, "unterminated array");
    if (*ps->p == ',') {
      ps->p++;
      continue;
    }
    if (*ps->p == ']') {
      ps->p++;
      return 0;
    }
    return err(ps, "expected ',' or ']'");
  }
}

static int parse_value(parser *ps, const char *path, int depth) {
  if (ps->p >= ps->end) return err(ps, "expected a value");
  char c = *ps->p;
  json_field *f;
  if (c == '{') return parse_object(ps, path, depth);
  if (c == '[') return parse_array(ps, depth);
  if (c == '"') {
    const char *s;
    size_t n;
    if (parse_string(ps, &s, &n) < 0) return -1;
    if (path[0] && (f = add(ps, path, JSON_STRING)) != NULL) f->str = s, f->str_len = n;
    return 0;
  }
  if (c == 't' || c == 'f') {
    int b = c == 't';
    if (literal(ps, b ? "true" : "false") < 0) return -1;
    if (path[0] && (f = add(ps, path, JSON_BOOL)) != NULL) f->boolean = b;
    return 0;
  }
  if (c == 'n') {
    if (literal(ps, "null") < 0) return -1;
    if (path[0]) add(ps, path, JSON_NULL);
    return 0;
  }
  double v;
  if (parse_number(ps, &v) < 0) return -1;
  if (path[0] && (f = add(ps, path, JSON_NUMBER)) != NULL) f->num = v;
  return 0;
}

int json_parse(json_doc *doc, const char *text, size_t len) {
  memset(doc, 0, sizeof *doc);
  doc->arena = malloc(len + 1);
  if (doc->arena == NULL) {
    snprintf(doc->error, sizeof doc->error, "out of memory");
    return -1;
  }
  parser ps = { text, text, text + len, doc->arena, doc };
  skip_ws(&ps);
  if (ps.p >= ps.end || *ps.p != '{') return err(&ps, "expected an object");
  if (parse_object(&ps, "", 0) < 0) return -1;
  skip_ws(&ps);
  if (ps.p != ps.end) return err(&ps, "trailing bytes after the object");
  return 0;
}

void json_free(json_doc *doc) {
  free(doc->arena);
  doc->arena = NULL;
}

const json_field *json_get(const json_doc *doc, const char *path, int type) {
  for (int i = 0; i < doc->count; i++)
    if (doc->fields[i].type == type && strcmp(doc->fields[i].path, path) == 0) return &doc->fields[i];
  return NULL;
}

const char *json_string(const json_doc *doc, const char *path) {
  const json_field *f = json_get(doc, path, JSON_STRING);
  return f ? f->str : NULL;
}

int json_u32(const json_doc *doc, const char *path, unsigned *out) {
  const json_field *f = json_get(doc, path, JSON_NUMBER);
  if (f == NULL || !(f->num >= 0 && f->num <= 4294967295.0) || f->num != (double)(uint32_t)f->num) return -1;
  *out = (unsigned)f->num;
  return 0;
}

int json_quote(char *out, size_t cap, const char *s) {
  size_t n = 0;
#define PUT(ch)              \
  do {                       \
    if (n + 1 >= cap) return -1; \
    out[n++] = (ch);         \
  } while (0)
  PUT('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      PUT('\\');
      PUT((char)*p);
    } else if (*p < 0x20) {
      if (n + 7 >= cap) return -1;
      n += (size_t)snprintf(out + n, cap - n, "\\u%04x", *p);
    } else {
      PUT((char)*p);
    }
  }
  PUT('"');
#undef PUT
  out[n] = '\0';
  return (int)n;
}
