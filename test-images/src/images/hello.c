/*
 * hello: prints its arguments one per line and the value of MMULAB_GREETING.
 * argv[0] is printed as its basename only, since the path an image is started by differs
 * between the native recording and the emulator run.
 */
#include "mmrt.h"

static const char *basename_of(const char *p)
{
    const char *b = p;
    for (; *p; p++) {
        if (*p == '/') {
            b = p + 1;
        }
    }
    return b;
}

int main(int argc, char **argv, char **envp)
{
    int envc = 0;
    while (envp[envc]) {
        envc++;
    }
    mm_printf("hello from mmulab's test image\n");
    mm_printf("argc=%d envc=%d\n", argc, envc);
    mm_printf("argv[0] basename=%s\n", argc > 0 ? basename_of(argv[0]) : "(none)");
    for (int i = 1; i < argc; i++) {
        mm_printf("argv[%d]=%s\n", i, argv[i]);
    }
    const char *g = mm_getenv("MMULAB_GREETING");
    mm_printf("MMULAB_GREETING=%s\n", g ? g : "(unset)");
    return 0;
}
