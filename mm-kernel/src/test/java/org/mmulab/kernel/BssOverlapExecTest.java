package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Exec layouts Linux accepts and the exec failures it turns into SIGSEGV (issue 11 §2):
 * vm_brk_flags unmaps what lies in the bss range before mapping it (mm/mmap.c), so a bss that runs into a
 * later segment's pages is fine; and an ENOMEM from mapping the image after the point of no return is
 * bprm_execve's force_fatal_sig(SIGSEGV) (fs/exec.c), 139, not an OOM kill.
 */
class BssOverlapExecTest {
    /**
     * movl $7,0x404ff0; mov 0x404ff0,%eax; movzbl 0x403000,%edi; add %eax,%edi; add 0x402000,%edi;
     * mov $231,%eax; syscall  -- exit_group(data[0] + 7 + bss word), 42 when the layout is Linux's.
     */
    static final byte[] CODE = {
        (byte) 0xc7, 0x04, 0x25, (byte) 0xf0, 0x4f, 0x40, 0x00, 0x07, 0x00, 0x00, 0x00,
        (byte) 0x8b, 0x04, 0x25, (byte) 0xf0, 0x4f, 0x40, 0x00,
        0x0f, (byte) 0xb6, 0x3c, 0x25, 0x00, 0x30, 0x40, 0x00,
        0x01, (byte) 0xc7,
        0x03, 0x3c, 0x25, 0x00, 0x20, 0x40, 0x00,
        (byte) 0xb8, (byte) 0xe7, 0x00, 0x00, 0x00,
        0x0f, 0x05};

    /**
     * Segment 1 (code) has a bss [0x402000, 0x405000) that covers segment 2's page 0x403000 and the
     * page after it; segment 2 (data, 35 at 0x403000) has its own bss page 0x404000, which lies inside
     * segment 1's bss. Linux (checked natively: exit status 42) maps segment 2 over segment 1's bss and then
     * vm_brk_flags unmaps the rest of segment 1's bss under segment 2's bss before mapping it.
     */
    static byte[] overlappingBss() {
        byte[] data = new byte[16];
        data[0] = 35;
        return new TestElf().load(0x400000, ElfImage.PF_R, new byte[0], 0)
                .load(0x401000, ElfImage.PF_R | ElfImage.PF_X, CODE, 0x4000)
                .load(0x403000, ElfImage.PF_R | ElfImage.PF_W, data, 0x2000)
                .build();
    }

    @Test
    void aBssOverlappingALaterSegmentRunsAsOnLinux() throws Exception {
        Fixture f = new Fixture(64L << 20);
        f.kernel.exec(overlappingBss(), "./bss_overlap", List.of("./bss_overlap"), List.of());
        int status = f.kernel.run();
        assertEquals(42, status, f.stderr());
        assertEquals("", f.stderr());
    }

    @Test
    void anExecTimeEnomemIsSigsegvNotAnOomKill() throws Exception {
        // A static PIE whose segments span nearly the whole 47-bit address space: get_unmapped_area finds
        // no hole that big, so elf_map fails with ENOMEM past the point of no return.
        byte[] elf = new TestElf().type(ElfImage.ET_DYN).entry(0x1000)
                .load(0x0, ElfImage.PF_R, new byte[0], 0)
                .load(0x1000, ElfImage.PF_R | ElfImage.PF_X, CODE, CODE.length)
                .load(0x7fff_ffff_d000L, ElfImage.PF_R | ElfImage.PF_W, new byte[16], 0x1000)
                .build();
        Fixture f = new Fixture(64L << 20);
        f.kernel.exec(elf, "./huge_pie", List.of("./huge_pie"), List.of());
        int status = f.kernel.run();
        assertEquals(139, status, f.stderr());
        assertTrue(f.stderr().endsWith("Segmentation fault\n"), f.stderr());
        assertFalse(f.stderr().contains("Out of memory"), f.stderr());
    }

    @Test
    void runningOutOfFramesDuringExecIsStillTheOomKiller() throws Exception {
        // 1 MiB of RAM and 1.5 MiB of argument strings: the frames run out while exec copies them onto the
        // new stack, which is the OOM killer's business (SIGKILL, 137), not a SIGSEGV.
        Fixture f = new Fixture(1L << 20);
        f.kernel.exec(overlappingBss(), "./big", List.of("./big", "x".repeat(3 << 19)), List.of());
        int status = f.kernel.run();
        assertEquals(137, status, f.stderr());
        assertTrue(f.stderr().contains("Out of memory: Killed process"), f.stderr());
    }
}
