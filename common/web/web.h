/*
 * The viewer page that ssepush and mq2sse serve at GET / (SPEC.md sections 6
 * and 7). common/web/viewer.html, viewer.css and viewer.js are the source;
 * common/web/embed.sh inlines the stylesheet and the script and generates
 * common/web/viewer.c, which defines these two.
 */
#ifndef MQSSE_WEB_H
#define MQSSE_WEB_H

#include <stddef.h>

/*
 * The page, NUL-terminated, with its placeholders still in. Before sending
 * it, the server replaces each occurrence of @MQSSE_TITLE@ (the page title,
 * HTML-escaped), @MQSSE_MODE@ ("ssepush" or "mq2sse") and @MQSSE_BACKLOG@
 * (the --backlog value in decimal). The script reads the last two from its
 * meta elements.
 */
extern const char web_viewer_html[];
/* Its length in bytes, without the terminating NUL. */
extern const size_t web_viewer_html_len;

#endif
