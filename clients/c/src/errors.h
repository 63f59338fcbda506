/* Result codes as strings, and the calling thread's last error message. */
#ifndef SLOTLINK_ERRORS_H
#define SLOTLINK_ERRORS_H

#include "../slotlink.h"

/** Records `code` and a printf-formatted message for this thread; returns `code`. */
int fail(int code, const char *format, ...) __attribute__((format(printf, 2, 3)));

/** Records a failed system call (its errno) as SLOTLINK_ERR_SYSCALL; returns it. */
int fail_errno(const char *what);

#endif
