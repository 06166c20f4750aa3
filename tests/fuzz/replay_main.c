/* Replays every file of a corpus directory through LLVMFuzzerTestOneInput, so that
 * ctest exercises each fuzz target with any compiler (libFuzzer supplies its own main
 * when the target is built with -fsanitize=fuzzer). Exit status 0 when every input
 * returned without crashing; a crash is caught by the sanitizers of the build. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "could not open \"%s\"\n", path);
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || st.st_size > (64 << 20)) {
        fclose(f);
        fprintf(stderr, "could not size \"%s\"\n", path);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = malloc(size ? size : 1);
    if (!data || fread(data, 1, size, f) != size) {
        free(data);
        fclose(f);
        fprintf(stderr, "could not read \"%s\"\n", path);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *dir = opendir(argv[1]);
    if (!dir) {
        fprintf(stderr, "could not open corpus \"%s\"\n", argv[1]);
        return 1;
    }
    int count = 0, failed = 0;
    struct dirent *entry;
    char path[4096];
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", argv[1], entry->d_name);
        if (replay_file(path) != 0)
            failed++;
        count++;
    }
    closedir(dir);
    printf("replayed %d inputs from %s, %d unreadable\n", count, argv[1], failed);
    return (failed || count == 0) ? 1 : 0;
}
