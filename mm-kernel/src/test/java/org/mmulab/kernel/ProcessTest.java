package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.Vectors;
import org.mmulab.emulator.mmu.PfErr;
import org.mmulab.kernel.mm.Mmap;

class ProcessTest {
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    static final int ANON = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS;

    private static String cstring(Fixture f, long va) {
        StringBuilder b = new StringBuilder();
        for (;; va++) {
            int c = f.machine.memory().read8(f.touch(va, false));
            if (c == 0) {
                return b.toString();
            }
            b.append((char) c);
        }
    }

    /** Same argv/envp/execfn as a native run of a static binary under setarch -R (Linux 6.18). */
    @Test
    void initialStackMatchesCreateElfTables() throws Exception {
        Fixture f = new Fixture(64L << 20);
        byte[] elf = TestElf.standard(Fixture.CODE, new byte[16], 0).build();
        f.cpu.state.fpu.fcw = 0x0c7f; // left over from a previous image: exec resets the FPU
        f.cpu.state.fpu.push(0x3fff, Long.MIN_VALUE);
        f.kernel.exec(elf, "./aux", List.of("./aux", "x", "yy"), List.of("A=1", "B=22"));
        CpuState s = f.cpu.state;
        assertEquals(0x037f, s.fpu.fcw, "FCW as Linux's fpstate_init leaves it");
        assertEquals(0, s.fpu.statusWord());
        assertEquals(0xffff, s.fpu.tagWord(), "all registers empty");
        long sp = s.gpr[CpuState.RSP];
        // Native: sp 0x7fffffffee00 with 22 auxv entries incl. AT_SYSINFO_EHDR; mmulab has no vDSO -> 16 bytes higher.
        assertEquals(0x7fffffffee10L, sp);
        assertEquals(0x401000, s.rip);
        assertEquals(0x202, s.getRflags());
        for (int r = 0; r < 16; r++) {
            if (r != CpuState.RSP) {
                assertEquals(0, s.gpr[r], "register " + r);
            }
        }
        assertEquals(3, f.read64(sp));
        long[] argvExpect = {0x7fffffffefdeL, 0x7fffffffefe4L, 0x7fffffffefe6L};
        String[] argv = {"./aux", "x", "yy"};
        for (int i = 0; i < 3; i++) {
            assertEquals(argvExpect[i], f.read64(sp + 8 + 8 * i));
            assertEquals(argv[i], cstring(f, argvExpect[i]));
        }
        assertEquals(0, f.read64(sp + 32));
        assertEquals(0x7fffffffefe9L, f.read64(sp + 40));
        assertEquals("A=1", cstring(f, 0x7fffffffefe9L));
        assertEquals(0x7fffffffefedL, f.read64(sp + 48));
        assertEquals("B=22", cstring(f, 0x7fffffffefedL));
        assertEquals(0, f.read64(sp + 56));
        Map<Long, Long> aux = new HashMap<>();
        long p = sp + 64;
        long[] order = new long[32];
        int n = 0;
        for (;; p += 16) {
            long type = f.read64(p);
            aux.put(type, f.read64(p + 8));
            order[n++] = type;
            if (type == 0) {
                break;
            }
        }
        long[] expectOrder = {51, 16, 6, 17, 3, 4, 5, 7, 8, 9, 11, 12, 13, 14, 23, 25, 26, 31, 15, 27, 28, 0};
        assertEquals(expectOrder.length, n);
        for (int i = 0; i < n; i++) {
            assertEquals(expectOrder[i], order[i], "auxv entry " + i);
        }
        assertEquals(0x7fffffffefa0L, p, "AT_NULL position as native");
        assertEquals(0x7fffffffeff2L, aux.get(31L), "AT_EXECFN");
        assertEquals("./aux", cstring(f, aux.get(31L)));
        assertEquals(0x7fffffffefc9L, aux.get(15L), "AT_PLATFORM");
        assertEquals("x86_64", cstring(f, aux.get(15L)));
        assertEquals(0x7fffffffefb9L, aux.get(25L), "AT_RANDOM");
        assertEquals(4096, aux.get(6L));
        assertEquals(100, aux.get(17L));
        assertEquals(0x400040L, aux.get(3L), "AT_PHDR");
        assertEquals(56, aux.get(4L));
        assertEquals(3, aux.get(5L), "AT_PHNUM");
        assertEquals(0, aux.get(7L), "AT_BASE");
        assertEquals(0x401000L, aux.get(9L), "AT_ENTRY");
        assertEquals(KernelConfig.DEFAULT_HWCAP, aux.get(16L));
        assertEquals(0, f.read64(0x7ffffffff000L - 8), "the pointer-sized zero at the very top");
        assertEquals("[stack]", f.mm().vmaLookup(sp).name());
        assertEquals("[vvar+vdso reserved]", f.mm().vmaLookup(0x7ffff7ff7000L).name(), "where 6.18 maps vvar+vdso");
        assertEquals(0x7ffff7fff000L, f.mm().vmaLookup(0x7ffff7ff7000L).end());
        assertEquals(0x7ffffffde000L, f.mm().vmaLookup(sp).start(), "1 page + 128 KiB, as native");
    }

    @Test
    void withoutTheVdsoReservationMmapStartsAtMmapBase() throws Exception {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        org.mmulab.emulator.machine.Machine m = new org.mmulab.emulator.machine.Machine(64L << 20, 1);
        Kernel k = new Kernel(m, new KernelConfig(new java.io.ByteArrayInputStream(new byte[0]), o, o).withVdsoPages(0));
        k.exec(TestElf.standard(Fixture.CODE, new byte[16], 0).build(), "./aux", List.of("./aux", "x", "yy"),
                List.of("A=1", "B=22"));
        assertEquals(0x7fffffffee10L, m.vcpu(0).state.gpr[CpuState.RSP], "same stack");
        assertEquals(null, k.mm().vmaLookup(0x7ffff7ff7000L));
        long[] g = m.vcpu(0).state.gpr;
        g[CpuState.RAX] = Syscalls.NR_MMAP;
        g[CpuState.RDI] = 0;
        g[CpuState.RSI] = 4096;
        g[CpuState.RDX] = Mmap.PROT_READ;
        g[CpuState.R10] = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS;
        g[CpuState.R8] = -1;
        g[CpuState.R9] = 0;
        k.syscall(m.vcpu(0), false);
        assertEquals(0x7ffff7ffe000L, g[CpuState.RAX], "first mmap right below mmap_base");
    }

    @Test
    void elfLoaderRejectsBadImagesWithOneLineMessages() {
        Fixture f = new Fixture(16L << 20);
        byte[] good = TestElf.standard(Fixture.CODE, new byte[8], 0).build();
        assertMessage(f, "hello world, not an elf".getBytes(StandardCharsets.UTF_8), "not an ELF");
        assertMessage(f, new byte[0], "not an ELF");
        assertMessage(f, java.util.Arrays.copyOf(good, 40), "truncated");
        assertMessage(f, java.util.Arrays.copyOf(good, 100), "truncated");
        assertMessage(f, java.util.Arrays.copyOf(good, good.length - 4), "truncated");
        assertMessage(f, new TestElf().machine(183).load(0x400000, 5, new byte[0], 0).build(), "wrong machine");
        assertMessage(f, new TestElf().elfClass(1).load(0x400000, 5, new byte[0], 0).build(), "ELF32");
        assertMessage(f, new TestElf().load(0x400000, 5, new byte[0], 0).interp("/nonexistent/ld-linux-x86-64.so.2")
                .load(0x401000, 5, Fixture.CODE, 2).build(), "ELF interpreter /nonexistent/ld-linux-x86-64.so.2: no such file");
        assertMessage(f, new TestElf().type(1).load(0x400000, 5, new byte[0], 0).build(), "not an executable");
        assertEquals(null, f.kernel.task(), "nothing was loaded");
        // A segment at page 0 passes parsing but cannot be mapped (mmap_min_addr): undone cleanly.
        long free = f.memory().frames().freePages();
        assertMessage(f, new TestElf().entry(0x10).load(0, 5, Fixture.CODE, 2).build(), "cannot map");
        assertEquals(null, f.kernel.task());
        assertEquals(free, f.memory().frames().freePages(), "the half-built mm was torn down");
    }

    private static void assertMessage(Fixture f, byte[] img, String part) {
        ExecFormatException e = assertThrows(ExecFormatException.class,
                () -> f.kernel.exec(img, "/x", List.of("/x"), List.of()));
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void oomKillsTheGuestNotTheJvm() throws Exception {
        Fixture f = new Fixture(2L << 20); // 512 frames
        long initialFree = f.memory().frames().freePages();
        f.exec(TestElf.standard(Fixture.CODE, new byte[8], 0).build());
        // MAP_NORESERVE: 64 MiB is more than this machine's RAM, which overcommit would refuse up front.
        long a = f.mmap(0, 64L << 20, RW, ANON | Mmap.MAP_NORESERVE);
        assertTrue(a > 0);
        long va = a;
        int r;
        for (;;) {
            long pa;
            try {
                pa = f.cpu.mmu().translate(va, PfErr.U | PfErr.W);
            } catch (org.mmulab.emulator.cpu.GuestFault g) {
                f.cpu.state.exceptionVector = -1;
                // What the run loop does with the #PF:
                f.kernel.exception(f.cpu, Vectors.PF, f.cpu.state.exceptionErrorCode);
                if (f.kernel.task().exited()) {
                    break;
                }
                continue;
            }
            f.machine.memory().write8(pa, 1);
            va += 4096;
            assertTrue(va < a + (64L << 20), "ran past RAM without an OOM");
        }
        assertEquals(137, f.kernel.task().exitStatus());
        assertEquals(9, f.kernel.task().termSignal());
        assertTrue(f.stderr().startsWith("Out of memory: Killed process 1 (test)"), f.stderr());
        assertTrue(f.stderr().endsWith("Killed\n"), f.stderr());
        assertEquals(137, f.kernel.run(), "run() reports the status without running");
        assertEquals(initialFree, f.memory().frames().freePages(), "everything freed after the kill");
    }

    @Test
    void aSegmentLargerThanRamIsRefusedByOvercommitAndExecEndsInSigsegv() throws Exception {
        // 800 KiB of private writable data in a 256 KiB machine: elf_map's mmap is charged (VM_ACCOUNT)
        // and __vm_enough_memory refuses it (OVERCOMMIT_GUESS: more than RAM + swap), past exec's point
        // of no return, so the task dies of SIGSEGV as on Linux, not of the OOM killer.
        Fixture f = new Fixture(64 * 4096L);
        byte[] big = new byte[200 * 4096];
        f.exec(TestElf.standard(Fixture.CODE, big, 0).build());
        assertEquals(139, f.kernel.run(), "the pending SIGSEGV kills the task before its first instruction");
        assertTrue(f.kernel.task().exited());
    }

    @Test
    void faultSignalsTerminateLikeAShellReports() throws Exception {
        int[][] cases = {{Vectors.UD, 132}, {Vectors.DE, 136}, {Vectors.GP, 139}, {Vectors.PF, 139}};
        String[] msgs = {"Illegal instruction", "Floating point exception", "Segmentation fault", "Segmentation fault"};
        for (int i = 0; i < cases.length; i++) {
            Fixture f = Fixture.booted();
            f.cpu.state.cr2 = 0x10; // nothing mapped there
            f.kernel.exception(f.cpu, cases[i][0], PfErr.U);
            assertTrue(f.kernel.task().exited());
            assertEquals(cases[i][1], f.kernel.task().exitStatus());
            assertTrue(f.stderr().endsWith(msgs[i] + "\n"), f.stderr());
            if (cases[i][0] == Vectors.UD) {
                assertEquals(2, f.stderr().split("\n").length, "description line, then the shell's message");
            }
        }
    }

    @Test
    void syscallsBasics() throws Exception {
        Fixture f = new Fixture(64L << 20, "input!");
        f.exec(TestElf.standard(Fixture.CODE, "hello, world\n".getBytes(StandardCharsets.UTF_8), 0).build());
        assertEquals(13, f.sys(Syscalls.NR_WRITE, 1, 0x403010, 13));
        assertEquals("hello, world\n", f.stdout());
        assertEquals(-14, f.sys(Syscalls.NR_WRITE, 1, 0x10, 5), "EFAULT");
        assertEquals(-9, f.sys(Syscalls.NR_WRITE, 0, 0x403010, 1), "stdin is read-only");
        assertEquals(-9, f.sys(Syscalls.NR_WRITE, 5, 0x403010, 1));
        // writev with two iovecs built in guest memory
        long buf = f.mmap(0, 4096, RW, ANON);
        f.write64(buf, 0x403010);
        f.write64(buf + 8, 5);
        f.write64(buf + 16, 0x403010 + 6);
        f.write64(buf + 24, 7);
        assertEquals(12, f.sys(Syscalls.NR_WRITEV, 2, buf, 2));
        assertEquals("hello world\n", f.stderr());
        // read from stdin into guest memory; a bad buffer does not eat the input
        assertEquals(-14, f.sys(Syscalls.NR_READ, 0, 0x10, 64));
        assertEquals(6, f.sys(Syscalls.NR_READ, 0, buf + 100, 64));
        assertEquals("input!", cstring(f, buf + 100));
        assertEquals(0, f.sys(Syscalls.NR_READ, 0, buf + 100, 64), "EOF");
        // uname
        assertEquals(0, f.sys(Syscalls.NR_UNAME, buf + 512));
        assertEquals("Linux", cstring(f, buf + 512));
        assertEquals("x86_64", cstring(f, buf + 512 + 65 * 4));
        // ids and arch_prctl
        assertEquals(1, f.sys(Syscalls.NR_GETPID));
        assertEquals(1, f.sys(Syscalls.NR_GETTID));
        assertEquals(1, f.sys(Syscalls.NR_SET_TID_ADDRESS, buf));
        assertEquals(0, f.sys(Syscalls.NR_ARCH_PRCTL, 0x1002, 0x7000_0000L));
        assertEquals(0x7000_0000L, f.cpu.state.fsBase);
        assertEquals(0, f.sys(Syscalls.NR_ARCH_PRCTL, 0x1003, buf + 8));
        assertEquals(0x7000_0000L, f.read64(buf + 8));
        assertEquals(-22, f.sys(Syscalls.NR_ARCH_PRCTL, 0x9999, 0));
        assertEquals(-1, f.sys(Syscalls.NR_ARCH_PRCTL, 0x1002, 0x8000_0000_0000L));
        // ioctl: stdout is a pipe
        assertEquals(-25, f.sys(Syscalls.NR_IOCTL, 1, 0x5401, buf));
        assertEquals(-25, f.sys(Syscalls.NR_IOCTL, 1, 0x5413, buf));
        assertEquals(-9, f.sys(Syscalls.NR_IOCTL, 9, 0x5401, buf));
        // time
        assertEquals(0, f.sys(Syscalls.NR_CLOCK_GETTIME, 0, buf));
        assertTrue(f.read64(buf) > 1_600_000_000L);
        assertEquals(0, f.sys(Syscalls.NR_CLOCK_GETTIME, 1, buf));
        assertEquals(-22, f.sys(Syscalls.NR_CLOCK_GETTIME, 99, buf));
        f.write64(buf, 0);
        f.write64(buf + 8, 1000);
        assertEquals(0, f.sys(Syscalls.NR_NANOSLEEP, buf, 0));
        f.write64(buf + 8, 2_000_000_000L);
        assertEquals(-22, f.sys(Syscalls.NR_NANOSLEEP, buf, 0));
        // signals recorded
        f.write64(buf, 0x401000);
        f.write64(buf + 8, 0x04000000);
        f.write64(buf + 16, 0x401002);
        f.write64(buf + 24, ~0L);
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGACTION, 11, buf, 0, 8));
        assertEquals(0x401000, f.kernel.task().sigHandler(11));
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGACTION, 11, 0, buf + 64, 8));
        assertEquals(0x401000, f.read64(buf + 64));
        assertEquals(~((1L << 8) | (1L << 18)), f.read64(buf + 88), "SIGKILL/SIGSTOP never in sa_mask");
        assertEquals(-22, f.sys(Syscalls.NR_RT_SIGACTION, 9, buf, 0, 8));
        assertEquals(-22, f.sys(Syscalls.NR_RT_SIGACTION, 11, buf, 0, 4));
        f.write64(buf, 1L << 1);
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGPROCMASK, 0, buf, buf + 8, 8));
        assertEquals(0, f.read64(buf + 8));
        assertEquals(2, f.kernel.task().sigmask());
        assertEquals(-22, f.sys(Syscalls.NR_RT_SIGPROCMASK, 7, buf, 0, 8));
        // unknown syscalls are counted by number
        assertEquals(-38, f.sys(451));
        assertEquals(-38, f.sys(451));
        assertEquals(-38, f.sys(9999));
        assertEquals(2L, f.kernel.syscalls().unknownByNumber().get(451L));
        assertEquals(1L, f.kernel.syscalls().unknownByNumber().get(9999L));
        java.io.ByteArrayOutputStream so = new java.io.ByteArrayOutputStream();
        f.kernel.printStats(new java.io.PrintStream(so, true, StandardCharsets.UTF_8));
        String stats = so.toString(StandardCharsets.UTF_8);
        assertTrue(stats.contains("nr 451"), stats);
        assertTrue(stats.contains("pgfault.anon_new_page"), stats);
        assertTrue(stats.contains("== perf counters") && stats.contains("vcpu0") && stats.contains("tlb_flush.invlpg"), stats);
        // exit status is the low byte
        f.sys(Syscalls.NR_EXIT, 0x1ff);
        assertEquals(0xff, f.kernel.task().exitStatus());
    }

    @Test
    void monitorCommands() throws Exception {
        Fixture f = Fixture.booted();
        org.mmulab.emulator.debug.MonitorRegistry r = new org.mmulab.emulator.debug.MonitorRegistry();
        f.kernel.registerMonitorCommands(r);
        f.touch(0x401000, false);
        String vmas = r.execute("vmas");
        assertTrue(vmas.contains("000000401000-000000402000 r-xp"), vmas);
        assertTrue(vmas.contains("[stack]"), vmas);
        String pte = r.execute("pte 0x401000");
        assertTrue(pte.contains("r-xp") && pte.contains("[P"), pte);
        assertTrue(r.execute("mmstat").contains("pgfault.file_read"));
    }

    @Test
    void int80UsesTheIa32Table() throws Exception {
        Fixture f = new Fixture(64L << 20);
        f.exec(TestElf.standard(Fixture.CODE, "hi!\n".getBytes(StandardCharsets.UTF_8), 0).build());
        long[] r = f.cpu.state.gpr;
        r[CpuState.RAX] = 4;
        r[CpuState.RBX] = 1;
        r[CpuState.RCX] = 0x403010;
        r[CpuState.RDX] = 4;
        f.kernel.syscall(f.cpu, true);
        assertEquals(4, r[CpuState.RAX]);
        assertEquals("hi!\n", f.stdout());
        r[CpuState.RAX] = 999;
        f.kernel.syscall(f.cpu, true);
        assertEquals(-38, r[CpuState.RAX], "-ENOSYS");
        r[CpuState.RAX] = 1;
        r[CpuState.RBX] = 7;
        f.kernel.syscall(f.cpu, true);
        assertEquals(7, f.kernel.task().exitStatus());
    }

    @Test
    void repeatedFaultsWithProgressInBetweenAreFine() throws Exception {
        Fixture f = Fixture.booted();
        long a = f.mmap(0, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS);
        f.cpu.state.rip = 0x401000;
        for (int i = 0; i < 200; i++) {
            f.sys(Syscalls.NR_MADVISE, a, 4096, Mmap.MADV_DONTNEED);
            f.cpu.state.cr2 = a;
            f.kernel.exception(f.cpu, Vectors.PF, PfErr.U | PfErr.W);
            assertFalse(f.kernel.task().exited(), "iteration " + i);
        }
        // The same fault with no progress at all is a kernel bug, reported instead of hanging.
        f.cpu.state.cr2 = a + 8;
        for (int i = 0; i < 100 && !f.kernel.task().exited(); i++) {
            f.kernel.exception(f.cpu, Vectors.PF, PfErr.U);
        }
        assertTrue(f.kernel.task().exited());
        assertTrue(f.stderr().contains("kernel bug"), f.stderr());
    }

    @Test
    void faultSignalFrameAndSigreturnRoundTrip() throws Exception {
        Fixture f = Fixture.booted();
        CpuState s = f.cpu.state;
        long buf = f.mmap(0, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS);
        f.write64(buf, 0x401100); // handler
        f.write64(buf + 8, Signals.SA_RESTORER | Signals.SA_SIGINFO);
        f.write64(buf + 16, 0x401200); // restorer
        f.write64(buf + 24, 1L << 1); // sa_mask: SIGINT
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGACTION, 11, buf, 0, 8));
        for (int r = 0; r < 16; r++) {
            s.gpr[r] = 0x1000 + r;
        }
        s.gpr[CpuState.RSP] = 0x7fffffffe000L - 0x123;
        s.rip = 0x401050;
        s.xmm[5] = 0x5555;
        long rspBefore = s.gpr[CpuState.RSP];
        s.cr2 = 0x10; // unmapped
        f.kernel.exception(f.cpu, org.mmulab.emulator.cpu.Vectors.PF, PfErr.U | PfErr.W);
        assertFalse(f.kernel.task().exited());
        assertEquals(0x401100, s.rip);
        assertEquals(11, s.gpr[CpuState.RDI]);
        long sp = s.gpr[CpuState.RSP];
        assertEquals(0, (sp + 8) & 15, "function-entry alignment");
        assertTrue(sp < rspBefore - 128, "below the red zone");
        assertEquals(0x401200, f.read64(sp), "pretcode = sa_restorer");
        long info = s.gpr[CpuState.RSI];
        assertEquals(11, f.read64(info) & 0xffffffffL);
        assertEquals(Signals.SEGV_MAPERR, f.read64(info + 8) & 0xffffffffL);
        assertEquals(0x10, f.read64(info + 16), "si_addr");
        long uc = s.gpr[CpuState.RDX];
        assertEquals(0x401050, f.read64(uc + 40 + 128), "uc_mcontext.rip");
        assertEquals(0x10, f.read64(uc + 40 + 176), "uc_mcontext.cr2");
        assertEquals((1L << 10) | (1L << 1), f.kernel.task().sigmask(), "SIGSEGV and sa_mask blocked");
        // A second SIGSEGV while blocked is fatal (force_sig_fault semantics).
        // First return through the restorer: ret pops pretcode, rt_sigreturn restores everything.
        s.xmm[5] = 0;
        s.gpr[CpuState.RSP] = sp + 8;
        s.gpr[CpuState.R12] = 0xdead;
        assertEquals(0x1000, f.sys(Syscalls.NR_RT_SIGRETURN), "RAX restored");
        assertEquals(0x401050, s.rip);
        assertEquals(rspBefore, s.gpr[CpuState.RSP]);
        assertEquals(0x1000 + CpuState.R12, s.gpr[CpuState.R12]);
        assertEquals(0x1000 + CpuState.RCX, s.gpr[CpuState.RCX]);
        assertEquals(0x5555, s.xmm[5], "FXSAVE image restored");
        assertEquals(0, f.kernel.task().sigmask());
        // Blocked: default action.
        f.write64(buf + 24, 0);
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGPROCMASK, 0, buf + 24, 0, 8));
        f.write64(buf + 32, 1L << 10);
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGPROCMASK, 0, buf + 32, 0, 8));
        s.cr2 = 0x10;
        f.kernel.exception(f.cpu, org.mmulab.emulator.cpu.Vectors.PF, PfErr.U);
        assertTrue(f.kernel.task().exited());
        assertEquals(139, f.kernel.task().exitStatus());
    }

    @Test
    void handlerWithoutRestorerGetsSigsegv() throws Exception {
        Fixture f = Fixture.booted();
        long buf = f.mmap(0, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS);
        f.write64(buf, 0x401100);
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGACTION, Kernel.SIGILL, buf, 0, 8));
        f.kernel.exception(f.cpu, org.mmulab.emulator.cpu.Vectors.UD, 0);
        assertEquals(139, f.kernel.task().exitStatus(), "x86-64 requires SA_RESTORER: force_sigsegv");
    }
}
