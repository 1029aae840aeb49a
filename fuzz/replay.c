/* replay.c - a main for a fuzz target without libFuzzer: runs every file
 * named on the command line (or found in a directory named there) through
 * LLVMFuzzerTestOneInput once, in a sorted order. scripts/coverage.sh links
 * it with each fuzz/fuzz_*.c to measure what the corpora reach. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) { uint8_t *b = realloc(buf, cap *= 2); if (!b) { free(buf); buf = NULL; } else buf = b; }
    }
    fclose(f);
    if (!buf) { fprintf(stderr, "%s: out of memory\n", path); return 1; }
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_path(const char *path, size_t *count) {
    struct stat st;
    if (stat(path, &st) != 0) return 0;          /* a corpus not made yet */
    if (!S_ISDIR(st.st_mode)) { (*count)++; return run_file(path); }
    DIR *d = opendir(path);
    if (!d) { perror(path); return 1; }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) { char **p = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *p); if (!p) { rc = 1; break; } names = p; }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(len))) { rc = 1; break; }
        snprintf(names[n++], len, "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (names) qsort(names, n, sizeof *names, cmp);
    for (size_t i = 0; i < n; i++) { if (!rc) rc = run_path(names[i], count); free(names[i]); }
    free(names);
    return rc;
}

int main(int argc, char **argv) {
    size_t count = 0;
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) rc = run_path(argv[i], &count);
    fprintf(stderr, "%s: replayed %zu inputs\n", argv[0], count);
    return rc;
}
