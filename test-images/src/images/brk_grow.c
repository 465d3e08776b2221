/*
 * brk_grow: grows the program break in 64 KiB steps up to 1 MiB, touching and verifying every
 * new page; shrinks it by half; grows it again and checks that the re-grown pages read as zero
 * (Linux unmaps what a shrinking brk gives back); checks that a request below the start of the
 * heap is refused. Addresses are never printed (the native break is randomised), only sizes.
 */
#include "mmrt.h"

#define STEP (64UL * 1024)
#define TOTAL (1024UL * 1024)

static uint8_t tag(uintptr_t off)
{
    return (uint8_t)((off * 131) >> 7 ^ off);
}

int main(void)
{
    int bad = 0;
    uint8_t *start = sys_brk(0);
    uint8_t *cur = start;
    mm_printf("brk_grow: grow to %lu KiB in %lu KiB steps\n", TOTAL / 1024, STEP / 1024);

    /* grow and touch */
    int steps = 0;
    while ((uintptr_t)(cur - start) < TOTAL) {
        uint8_t *want = cur + STEP;
        uint8_t *got = sys_brk(want);
        if (got != want) {
            mm_printf("brk grow step %d refused\n", steps);
            return 1;
        }
        for (uintptr_t off = (uintptr_t)(cur - start); off < (uintptr_t)(want - start); off += 512) {
            if (start[off] != 0) {
                bad = 1;
            }
            start[off] = tag(off);
        }
        cur = want;
        steps++;
    }
    uint8_t *q = sys_brk(0);
    mm_printf("grew %d steps, brk(0) %s\n", steps, q == cur ? "matches" : "BAD");
    bad |= q != cur;

    /* verify everything */
    uintptr_t wrong = 0;
    for (uintptr_t off = 0; off < TOTAL; off += 512) {
        wrong += start[off] != tag(off);
    }
    mm_printf("verify %lu KiB: %s\n", TOTAL / 1024, wrong == 0 ? "ok" : "BAD");
    bad |= wrong != 0;

    /* shrink by half */
    uint8_t *mid = start + TOTAL / 2;
    uint8_t *got = sys_brk(mid);
    mm_printf("shrink to %lu KiB: %s\n", TOTAL / 2048, got == mid ? "ok" : "BAD");
    bad |= got != mid;

    /* below the start of the heap: refused, the break stays */
    got = sys_brk(start - 4 * MM_PAGE_SIZE * 1024);
    mm_printf("brk below heap start refused: %s\n", got == mid ? "ok" : "BAD");
    bad |= got != mid;

    /* grow again: the first half keeps its data, the re-grown half is zero */
    got = sys_brk(start + TOTAL);
    bad |= got != start + TOTAL;
    uintptr_t kept = 0, zero = 0;
    for (uintptr_t off = 0; off < TOTAL; off += 512) {
        if (off < TOTAL / 2) {
            kept += start[off] == tag(off);
        } else {
            zero += start[off] == 0;
        }
    }
    mm_printf("regrow: first half kept %lu/%lu, second half zero %lu/%lu\n",
              (unsigned long)kept, TOTAL / 1024, (unsigned long)zero, TOTAL / 1024);
    bad |= kept != TOTAL / 1024 || zero != TOTAL / 1024;

    /* an unaligned break works too; the page it lands in is usable up to the end */
    uint8_t *odd = start + TOTAL + 100;
    got = sys_brk(odd);
    bad |= got != odd;
    odd[-1] = 7;
    mm_printf("unaligned brk: %s\n", got == odd && odd[-1] == 7 ? "ok" : "BAD");

    sys_brk(start);
    mm_printf("%s\n", bad ? "FAILED" : "PASSED");
    return bad;
}
