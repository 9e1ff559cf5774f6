/*
 * Whole files into memory: mqpub -f and ssecat -d @FILE. Reads with
 * read(2), byte for byte, retrying on EINTR; nothing is printed.
 */
#ifndef MQSSE_FILE_H
#define MQSSE_FILE_H

#include <stddef.h>

/*
 * Read FD to its end into a new buffer (*BUF, *LEN bytes, NUL-terminated
 * after them). Returns 0, or -1 with errno set (EFBIG when more than MAX
 * bytes; then nothing is kept).
 */
int file_read_fd(int fd, size_t max, char **buf, size_t *len);
/* The same for the file at PATH (opened and closed here). */
int file_read_path(const char *path, size_t max, char **buf, size_t *len);

#endif
