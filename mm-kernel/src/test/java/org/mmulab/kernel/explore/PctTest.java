package org.mmulab.kernel.explore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.machine.YieldKind;

/** The PCT schedule source on its own: priorities, change points, waiters passed over, seeds. */
class PctTest {
    private static final int[] ALL3 = {0, 1, 2};

    private static int[] choices(Pct p, int steps) {
        int[] out = new int[steps];
        int cur = 0;
        for (int k = 0; k < steps; k++) {
            cur = p.next(k, cur, YieldKind.PTE_READ, ALL3, 3);
            out[k] = cur;
        }
        return out;
    }

    @Test
    void depthOneRunsTheHighestPriorityVcpuAlways() {
        int[] c = choices(new Pct(7, 3, 1, 100), 50);
        for (int x : c) {
            assertEquals(c[0], x, "no change point at depth 1: one vCPU keeps the baton");
        }
    }

    @Test
    void changePointsHandTheBatonOverAndTheSeedFixesThem() {
        int[] a = choices(new Pct(11, 3, 3, 40), 60);
        int[] b = choices(new Pct(11, 3, 3, 40), 60);
        assertArrayEquals(a, b, "same seed, same schedule");
        int switches = 0;
        for (int k = 1; k < a.length; k++) {
            if (a[k] != a[k - 1]) {
                switches++;
            }
        }
        assertTrue(switches >= 1 && switches <= 2, "depth 3: at most two change points, each a hand-over: " + switches);
        boolean differs = false;
        for (long seed = 0; seed < 20 && !differs; seed++) {
            differs = !java.util.Arrays.equals(a, choices(new Pct(seed + 100, 3, 3, 40), 60));
        }
        assertEquals(true, differs, "other seeds, other schedules");
    }

    @Test
    void aSpinningVcpuIsPassedOverUntilSomeoneMakesProgress() {
        Pct p = new Pct(3, 2, 1, 10);
        int top = p.next(0, 0, YieldKind.PTE_READ, new int[] {0, 1}, 2);
        int other = 1 - top;
        assertEquals(other, p.next(1, top, YieldKind.LOCK_SPIN, new int[] {0, 1}, 2), "the spinner waits");
        assertEquals(top, p.next(2, other, YieldKind.LOCK_RELEASE, new int[] {0, 1}, 2), "progress: it may look again");
        assertEquals(top, p.next(3, top, YieldKind.LOCK_SPIN, new int[] {top}, 1), "alone, it runs");
    }

    @Test
    void spinnersTakeTurnsWhenEveryoneWaits() {
        Pct p = new Pct(5, 3, 1, 10);
        int a = p.next(0, 0, YieldKind.LOCK_SPIN, ALL3, 3);
        int b = p.next(1, a, YieldKind.LOCK_SPIN, ALL3, 3);
        int c = p.next(2, b, YieldKind.LOCK_SPIN, ALL3, 3);
        int d = p.next(3, c, YieldKind.LOCK_SPIN, ALL3, 3);
        assertNotEquals(a, b);
        assertNotEquals(b, c);
        assertEquals(3, java.util.stream.IntStream.of(a, b, c, d).distinct().count(), "every waiter gets a turn");
    }

    @Test
    void depthBelowOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Pct(0, 2, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> new Explorer.Options(false, null, 0));
    }
}
