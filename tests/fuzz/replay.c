/*
 * Replays every fuzz corpus and every committed crash reproducer in the
 * normal build (make check), so that a fixed crash stays fixed without
 * clang or libFuzzer. For each target it reads CORPUS_DIR/<target>/ and,
 * when present, CORPUS_DIR/<target>-crashes/. Each input runs in a child
 * process, so that an abort() or a sanitizer report names the file and the
 * other inputs still run. Prints TAP: one line per target.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/targets.h"

#ifndef CORPUS_DIR
#error "CORPUS_DIR must be the absolute path of tests/fuzz/corpus"
#endif

struct target {
	const char *name;
	int (*fn)(const uint8_t *, size_t);
};

static const struct target targets[] = {
    {"jsonrec", fuzz_jsonrec},
    {"fmt", fuzz_fmt},
    {"topic", fuzz_topic},
    {"sse_parse", fuzz_sse_parse},
    {"sse_roundtrip", fuzz_sse_roundtrip},
};

/* Read PATH whole; NULL on error. *LEN gets its size. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	if (fp == NULL)
		return NULL;
	for (;;) {
		size_t got;

		if (n == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(fp);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		free(buf);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	*len = n;
	return buf;
}

/* Run T on PATH in a child; 0 when it returned normally. */
static int
run_one(const struct target *t, const char *path)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == -1) {
		printf("# fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		size_t len = 0;
		uint8_t *data = slurp(path, &len);

		if (data == NULL) {
			fprintf(stderr, "replay: cannot read %s\n", path);
			exit(3);
		}
		t->fn(data, len);
		free(data);
		/* exit, not _exit: LeakSanitizer runs at exit. */
		exit(0);
	}
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		printf("# %s: killed by signal %d\n", path, WTERMSIG(status));
	else
		printf("# %s: exit status %d\n", path, WEXITSTATUS(status));
	return -1;
}

static int
visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/*
 * Replay the regular files of DIR. Returns the number replayed, or -1 when
 * DIR cannot be read; *FAILED counts the inputs that crashed.
 */
static long
replay_dir(const struct target *t, const char *dir, long *failed)
{
	struct dirent **names;
	long count = 0;
	int n = scandir(dir, &names, visible, alphasort);

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_one(t, path) != 0)
				(*failed)++;
			count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int
main(void)
{
	size_t ntargets = sizeof(targets) / sizeof(targets[0]);
	int bad = 0;

	printf("1..%zu\n", ntargets);
	for (size_t i = 0; i < ntargets; i++) {
		const struct target *t = &targets[i];
		char dir[4096];
		long count, crashes = 0, failed = 0;

		snprintf(dir, sizeof(dir), "%s/%s", CORPUS_DIR, t->name);
		count = replay_dir(t, dir, &failed);
		if (count <= 0) {
			printf("not ok %zu - %s: %s is missing or empty\n",
			    i + 1, t->name, dir);
			bad++;
			continue;
		}
		snprintf(
		    dir, sizeof(dir), "%s/%s-crashes", CORPUS_DIR, t->name);
		crashes = replay_dir(t, dir, &failed);
		if (crashes < 0)
			crashes = 0;
		printf("%sok %zu - %s: %ld inputs replayed (%ld corpus, %ld "
		       "crash reproducers)\n",
		    failed ? "not " : "", i + 1, t->name, count + crashes,
		    count, crashes);
		if (failed)
			bad++;
	}
	return bad ? 1 : 0;
}
