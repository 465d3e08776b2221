package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * arch/x86/kernel/traps.c exc_general_protection: a privileged instruction at CPL 3, or a far return
 * to a selector that is not a user code segment, is #GP, and the task gets SIGSEGV (SI_KERNEL): the
 * shell reports 139 and "Segmentation fault", not SIGILL's 132. A far return to __USER_CS works.
 */
class PrivilegedInstructionTest {
    /** mov eax, 60; mov edi, 7; syscall: exit(7). */
    static final String EXIT7 = "b83c000000" + "bf07000000" + "0f05";

    private static Fixture run(String hex, boolean ia32) throws Exception {
        byte[] code = new byte[hex.length() / 2];
        for (int i = 0; i < code.length; i++) {
            code[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        Fixture f = new Fixture(64L << 20, ia32 ? KernelConfig.PagingMode.PAE : KernelConfig.PagingMode.FOUR_LEVEL);
        f.exec((ia32 ? TestElf.standard32(code, new byte[16], 0) : TestElf.standard(code, new byte[16], 0)).build());
        f.out.write(("status " + f.kernel.run()).getBytes());
        return f;
    }

    @Test
    void privilegedInstructionsAreSigsegv() throws Exception {
        String[] insns = {"f4", "fa", "fb", "e480", "ee", "0f20d8", "0f22c0", "0f0110", "0f0138", "0f30", "0f32", "0f09",
                "0f06", "0f01f8", "440f20c0"};
        for (String insn : insns) {
            Fixture f = run(insn, false);
            assertEquals("status 139", f.stdout(), insn + ": " + f.stderr());
            assertTrue(f.stderr().endsWith("Segmentation fault\n"), insn + ": " + f.stderr());
            assertTrue(f.kernel.lastFatalSignal().contains("trap #GP") || f.kernel.lastFatalSignal().contains("GP"),
                    f.kernel.lastFatalSignal());
        }
        assertEquals("status 132", run("0f20c8", false).stdout(), "CR1 does not exist: #UD, SIGILL");
    }

    @Test
    void farReturnToABadSelectorIsSigsegvAndToUserCsWorks() throws Exception {
        // push $sel; push $0x401009; lretq; exit(7) at 0x401009 (2 + 5 + 2 bytes in)
        for (String sel : new String[] {"2b", "00", "10", "13", "23" + "", "37"}) {
            String code = "6a" + sel + "6809104000" + "48cb" + EXIT7;
            Fixture f = run(code, false);
            if (sel.equals("23")) {
                // __USER32_CS: a valid far return into compatibility mode, where the 64-bit exit code's
                // SYSCALL is #UD (the Intel behaviour): SIGILL, not #GP.
                assertEquals("status 132", f.stdout(), f.stderr());
            } else {
                assertEquals("status 139", f.stdout(), sel + ": " + f.stderr());
            }
        }
        Fixture f = run("6a33" + "6809104000" + "48cb" + EXIT7, false);
        assertEquals("status 7", f.stdout(), f.stderr());
    }

    @Test
    void ia32UnderAPaeKernelHasOnlyItsUserCs() throws Exception {
        // push $0x73; push $0x401008; lret; nop; mov eax,1; mov ebx,7; int 0x80 (exit(7))
        String exit7 = "b801000000" + "bb07000000" + "cd80";
        assertEquals("status 7", run("6a73" + "6808104000" + "cb" + "90" + exit7, true).stdout());
        assertEquals("status 139", run("6a33" + "6808104000" + "cb" + "90" + exit7, true).stdout(),
                "no 64-bit code segment in a 32-bit kernel's GDT");
        assertEquals("status 139", run("f4", true).stdout());
    }
}
