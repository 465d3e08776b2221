/*
 * gdbdemo: the debuggee of the gdb end-to-end suite (GdbEndToEndTest). Named functions to break at,
 * globals in .data to watch and to write from gdb, and a spin mode for Ctrl-C.
 *
 *   gdbdemo          calls gd_tick() GD_TICKS times (each adds its argument to gd_counter), prints the
 *                    counter and exits with status 3 (a distinctive status for gdb's "exited with code 03")
 *   gdbdemo spin     the same, but first spins in gd_spin_loop() while gd_spin is non-zero: it never
 *                    ends on its own; a debugger interrupts it and clears gd_spin to let it finish
 *
 * Both globals live on the same .data page, which main writes first, so the page is present and
 * writable (COW already broken) when a debugger stops in gd_tick or gd_spin_loop.
 */
#include "mmrt.h"

#define GD_TICKS 3

volatile long gd_counter = 100;
volatile int gd_spin = 0;

__attribute__((noinline)) void gd_tick(long step)
{
    gd_counter += step;
}

__attribute__((noinline)) long gd_spin_loop(void)
{
    long laps = 0;
    while (gd_spin) {
        laps++;
    }
    return laps;
}

int main(int argc, char **argv)
{
    gd_spin = argc > 1 && strcmp(argv[1], "spin") == 0;
    gd_counter = 1;
    if (gd_spin) {
        gd_spin_loop();
    }
    for (long i = 1; i <= GD_TICKS; i++) {
        gd_tick(i);
    }
    mm_printf("gd_counter=%ld\n", gd_counter);
    return 3;
}
