/* A temporary folder for one unit-test file's databases: made before its
 * tests, emptied of whatever they left (side files included) and removed
 * after, so no list of file names has to be kept in step with the tests. */
#ifndef PARLEY_TESTS_TEMP_DIR_H
#define PARLEY_TESTS_TEMP_DIR_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[64];

/* Makes /tmp/parley-NAME-XXXXXX into `tmpdir`; 0 on success (a cmocka
 * group setup's answer). */
static int temp_dir_make(const char *name)
{
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/parley-%s-XXXXXX", name);
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* Removes every file in `tmpdir`, then the folder; 0 on success. */
static int temp_dir_remove(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[512];
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        (void)snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
        (void)unlink(p);
    }
    (void)closedir(d);
    return rmdir(tmpdir);
}

/* The path of database `name` in `tmpdir`, with any earlier copy and its
 * WAL, shared-memory and journal files gone. */
static void db_path(char *buf, size_t n, const char *name)
{
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    char p[512];
    (void)snprintf(buf, n, "%s/%s", tmpdir, name);
    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
        (void)snprintf(p, sizeof(p), "%s%s", buf, sfx[i]);
        (void)unlink(p);
    }
}

#endif
