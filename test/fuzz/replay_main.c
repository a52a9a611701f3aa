/* replay_<name> DIR|FILE...: a harness without libFuzzer. Runs every file
 * given, and every file in every directory given (in name order), through
 * LLVMFuzzerTestOneInput, each in an exactly-sized heap copy. Built with
 * the unit tests' compiler and sanitizers and run by `make unit-test` on
 * test/fuzz/corpus/<name> and test/fuzz/crashes/<name>, so a crash once
 * found stays fixed. A missing directory counts as empty. On a sanitizer
 * report or a broken FUZZ_CHECK the input's path is printed and the run
 * fails; otherwise it prints "<harness>: N inputs replayed". */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sanitizer/common_interface_defs.h>
#include "fuzz.h"

static const char *replay_current;

static void replay_blame(void)
{
	if (replay_current)
		fprintf(stderr, "replay: the failing input is %s\n", replay_current);
}

static void replay_on_abort(int sig)
{
	(void)sig;
	replay_blame();
	signal(SIGABRT, SIG_DFL);
}

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;
	u8 *buf;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		perror(path);
		if (f)
			fclose(f);
		return -1;
	}
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	replay_current = path;
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	replay_current = NULL;
	free(buf);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Replays the regular files of dir; returns how many, or -1. */
static long replay_dir(const char *dir)
{
	struct dirent **ents;
	int k = scandir(dir, &ents, NULL, by_name);
	long count = 0;

	if (k < 0)
		return 0;
	for (int i = 0; i < k; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && !stat(path, &st) && S_ISREG(st.st_mode)) {
			if (replay_file(path))
				count = -1;
			else if (count >= 0)
				count++;
		}
		free(ents[i]);
	}
	free(ents);
	return count;
}

int main(int argc, char **argv)
{
	long total = 0;

	signal(SIGABRT, replay_on_abort);
	__sanitizer_set_death_callback(replay_blame);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		long n;

		if (stat(argv[i], &st))
			continue; /* no crashes saved for this harness */
		n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : (replay_file(argv[i]) ? -1 : 1);
		if (n < 0)
			return 2;
		total += n;
	}
	printf("%s: %ld inputs replayed\n", argv[0], total);
	return 0;
}
