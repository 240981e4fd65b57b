/* test_support.c: see test_support.h. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

#include "test_support.h"

static int
test_rm_entry(const char *path, const struct stat *sb, int type,
    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

int
test_rmtree(const char *dir)
{
	return nftw(dir, test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
