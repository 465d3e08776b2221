package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.debug.MonitorRegistry;
import org.mmulab.emulator.mmu.Pte;
import org.mmulab.kernel.mm.Mmap;

/** {@code monitor vmas} and {@code monitor ptdump} on a booted process with faulted-in anonymous memory. */
class KernelMonitorTest {
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    static final int ANON = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS;

    private static MonitorRegistry registry(Fixture f) {
        MonitorRegistry r = new MonitorRegistry();
        KernelMonitor.register(f.kernel, r);
        return r;
    }

    @Test
    void vmasListsRangesPermissionsFlagsAndNames() throws Exception {
        Fixture f = Fixture.booted();
        long a = f.mmap(0, 3 * 4096, RW, ANON);
        String out = registry(f).execute("vmas");
        assertTrue(out.startsWith("start-end"), out);
        assertTrue(Pattern.compile(String.format("%016x-%016x rw-p +12K +mr mw me( [a-z]{2})* +\\[anon\\]", a, a + 3 * 4096))
                .matcher(out).find(), out);
        assertTrue(Pattern.compile("rw-p +\\d+K +[a-z ]*gd[a-z ]* +\\[stack\\]").matcher(out).find(), out);
        assertTrue(out.contains("/bin/test"), out);
        assertTrue(out.contains(f.mm().mapCount() + " vmas"), out);
        assertTrue(registry(f).has("pte") && registry(f).has("mmstat"), "the kernel's other commands come along");
    }

    @Test
    void ptdumpShowsPresentEntriesInRangeAndIsBounded() throws Exception {
        Fixture f = Fixture.booted();
        int pages = KernelMonitor.PTDUMP_LIMIT + 100;
        long a = f.mmap(0, pages * 4096L, RW, ANON);
        for (int i = 0; i < pages; i++) {
            f.write64(a + i * 4096L, i);
        }
        MonitorRegistry r = registry(f);
        String some = r.execute(String.format("ptdump %x %x", a, a + 2 * 4096));
        assertTrue(some.contains("(4 levels)"), some);
        long ptes = some.lines().filter(l -> l.contains(" PTE ")).count();
        assertEquals(2, ptes, some);
        assertTrue(Pattern.compile(String.format("%016x PTE [0-9a-f]{16} PWUAD--X", a)).matcher(some).find(), some);

        String all = r.execute("ptdump");
        assertEquals(KernelMonitor.PTDUMP_LIMIT, all.lines().filter(l -> l.contains(" PTE ") || l.contains(" PMD ")).count());
        Pattern more = Pattern.compile("\\.\\.\\. (\\d+) more present entries not shown");
        var m = more.matcher(all);
        assertTrue(m.find(), all);
        assertTrue(Integer.parseInt(m.group(1)) >= 100, all);

        String none = r.execute("ptdump 10000000 10001000");
        assertTrue(none.contains("(nothing present)"), none);
        assertTrue(r.execute("ptdump 5").contains("usage: ptdump"));
        assertTrue(r.execute("ptdump 2000 1000").contains("empty range"));
        assertTrue(r.execute("ptdump zz 1000").startsWith("ptdump: "), "bad numbers are reported, not thrown");
    }

    @Test
    void ptdumpShowsALargePmdMappingAsOneLine() throws Exception {
        Fixture f = Fixture.booted();
        long a = f.mmap(0, 4096, RW, ANON);
        f.write64(a, 1);   // populates the upper levels for a's 1 GiB region
        long huge = (a & ~((1L << 30) - 1)) + (1L << 29);   // a 2 MiB-aligned address in the same PUD, away from a
        long pmdp = f.memory().pmdOffset(f.mm(), huge);
        assertTrue(pmdp >= 0);
        assertEquals(0, f.memory().ops().get(pmdp), "nothing mapped there yet");
        f.memory().ops().set(pmdp, 0x4000_0000L | Pte.P | Pte.RW | Pte.US | Pte.PS);
        String out = registry(f).execute(String.format("ptdump %x %x", huge, huge + (2L << 20)));
        assertTrue(Pattern.compile(String.format("%016x PMD [0-9a-f]{16} .* -> 0x40000000 \\(2M\\)", huge)).matcher(out).find(), out);
        f.memory().ops().clear(pmdp);
    }
}
