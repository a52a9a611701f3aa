/* The monitor's voice on the operator serial line. kprintf is for people;
 * cg_marker emits one machine-read "@cg <kind> ..." line (docs/markers.md).
 * Both write whole lines under one lock so CPUs never interleave mid-line. */
#ifndef CG_LOG_H
#define CG_LOG_H

#include <cg/types.h>

/* kprintf: formatted output to the operator line (fmt.h conversions). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* klog_line: like kprintf, but starts on a fresh line if the operator line
 * is in the middle of one (a prompt): for output programs parse. */
void klog_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cg_marker: print "@cg <kind> <fields>\n"; fields is a printf format. */
void cg_marker(const char *kind, const char *fields, ...)
	__attribute__((format(printf, 2, 3)));

/* cg_quote: copy src into dst (size bytes) for a quoted marker value:
 * '"' and '\\' are escaped with a backslash, control bytes become '?'.
 * Always NUL-terminated; truncated at a character boundary. Returns dst. */
const char *cg_quote(char *dst, size_t size, const char *src);

#define LOG_RING_SIZE 4096

/* log_ring_copy: the monitor's recent output (up to size-1 bytes, the
 * newest kept), NUL-terminated. Returns its length. */
size_t log_ring_copy(char *dst, size_t size);

/* klog_raw: print s as is, however long (line: start on a fresh line). */
void klog_raw(const char *s, bool line);

/* klog_guest_write: n bytes of an attached guest's console (already
 * through its marker guard), raw, in one piece: no other output comes
 * between them. CRs are left out (each LF is sent as CR LF). Kept short
 * by the callers (at most a replay piece): the lock is held meanwhile. */
void klog_guest_write(const char *s, size_t n);

/* klog_reply: prefix then body on a line of their own, in one piece (a
 * console reply: nothing may come between "@cg-rsp " and its JSON). */
void klog_reply(const char *prefix, const char *body);

/* log_force_unlock: take the output lock over from a CPU that will never
 * release it (used once, on the fatal path). */
void log_force_unlock(void);

#endif
