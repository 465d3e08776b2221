package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.kernel.KernelConfig.PagingMode;
import org.mmulab.kernel.mm.Mmap;

/** i386 processes: ELF32 exec and its initial stack, compatibility mode under 4-level paging, int 0x80. */
class Ia32Test {
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE, ANON = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS;

    /**
     * create_elf_tables for ELF32, worked out by hand for argv {"/bin/test"}, envp {"HOME=/"}: bprm->p
     * one kernel pointer below STACK_TOP, "/bin/test\0" (10), argv+envp strings (17), align 16, "i686\0",
     * 16 random bytes, then 22 auxv pairs + argc/argv/NULL/envp/NULL as 4-byte words, rounded to 16.
     */
    @ParameterizedTest
    @EnumSource(PagingMode.class)
    void initialStackOfAnElf32Image(PagingMode mode) throws Exception {
        Fixture f = Fixture.booted32(mode);
        boolean pae = mode == PagingMode.PAE;
        long top = pae ? 0xC000_0000L : 0xFFFF_E000L;
        long execfn = top - (pae ? 4 : 8) - 10;
        long argStart = execfn - 17;
        long platform = (argStart & ~15L) - 5;
        long random = platform - 16;
        long sp = ((random - 4 * 44) - 4 * 5) & ~15L;
        assertEquals(pae ? 0xBFFF_FF00L : 0xFFFF_DEF0L, sp, "the hand computation itself");
        assertEquals(sp, f.kernel.initialStackPointer());
        assertEquals(sp, f.cpu.state.gpr[CpuState.RSP]);
        assertEquals(0x401000, f.cpu.state.rip);
        assertEquals(1, f.read32(sp), "argc");
        assertEquals(argStart, f.read32(sp + 4));
        assertEquals("/bin/test", f.readString(f.read32(sp + 4)));
        assertEquals(0, f.read32(sp + 8));
        assertEquals(argStart + 10, f.read32(sp + 12));
        assertEquals("HOME=/", f.readString(f.read32(sp + 12)));
        assertEquals(0, f.read32(sp + 16));
        Map<Long, Long> aux = new LinkedHashMap<>();
        long p = sp + 20;
        for (;;) {
            long type = f.read32(p), val = f.read32(p + 4);
            p += 8;
            if (type == 0) {
                break;
            }
            aux.put(type, val);
        }
        assertEquals(21, aux.size(), "22 pairs with AT_NULL");
        assertEquals(51L, aux.keySet().iterator().next(), "ARCH_DLINFO_IA32 without vDSO: AT_MINSIGSTKSZ first");
        assertEquals(32L, aux.get(4L), "AT_PHENT = sizeof(Elf32_Phdr)");
        assertEquals(3L, aux.get(5L), "AT_PHNUM");
        assertEquals(0x400000L + 52, aux.get(3L), "AT_PHDR right after the Elf32_Ehdr");
        assertEquals(0x401000L, aux.get(9L), "AT_ENTRY");
        assertEquals(4096L, aux.get(6L));
        assertEquals(KernelConfig.DEFAULT_HWCAP, aux.get(16L));
        assertEquals(random, aux.get(25L));
        assertEquals("i686", f.readString(aux.get(15L)));
        assertEquals("/bin/test", f.readString(aux.get(31L)));
        assertEquals(execfn, aux.get(31L));
        assertFalse(aux.containsKey(33L), "no AT_SYSINFO_EHDR");
        assertFalse(aux.containsKey(32L), "no AT_SYSINFO");
    }

    @Test
    void compatModeUnderFourLevelPaging() throws Exception {
        Fixture f = Fixture.booted32(PagingMode.FOUR_LEVEL);
        CpuState s = f.cpu.state;
        assertFalse(s.longMode64, "CS.L = 0: 32-bit code");
        assertTrue(s.pagingLongMode(), "EFER.LMA: 4-level paging");
        assertTrue((s.cr4 & CpuState.CR4_PCIDE) != 0, "the 64-bit kernel uses PCIDs");
        assertNotEquals(0, s.cr3 & 0xfff, "CR3 carries the ASID's PCID");
        assertEquals(f.mm().pgdPhys(), s.cr3 & ~0xfffL);
        assertEquals(Kernel.TASK_SIZE_32, f.mm().taskSize);
        assertEquals(0xFFFF_E000L - (128L << 20), f.mm().mmapBase, "mmap_base from task_size_32bit(), gap_min 128 MiB");
        long a = f.sys32(Syscalls.NR32_MMAP2, 0, 4096, RW, ANON, -1, 0) & 0xffff_ffffL;
        assertEquals(f.mm().mmapBase - 8 * 4096 - 4096, a, "below the reserved vDSO pages");
        // No THP alignment for a 32-bit task: a 4 MiB mapping goes right below the previous one.
        long b = f.sys32(Syscalls.NR32_MMAP2, 0, 4 << 20, RW, ANON, -1, 0) & 0xffff_ffffL;
        assertEquals(a - (4 << 20), b);
        assertTrue(f.write64(b + 4096, 5) > 0);
        assertEquals(5, f.read64(b + 4096));
        assertEquals(-1 - Kernel.FAULT_SIGSEGV, f.touch(0xFFFF_E000L, false), "TASK_SIZE_32 is the limit");
        assertEquals(-Errno.ENOMEM, f.sys32(Syscalls.NR32_MMAP2, 0xFFFF_0000L, 0x10000, RW, ANON | Mmap.MAP_FIXED, -1, 0));
        // A 64-bit image exec'd afterwards runs in 64-bit mode again.
        f.exec(TestElf.standard(Fixture.CODE, new byte[8], 0).build());
        assertTrue(f.cpu.state.longMode64);
        assertEquals((1L << 47) - 4096, f.mm().taskSize);
    }

    @Test
    void paeLayout() throws Exception {
        Fixture f = Fixture.booted32(PagingMode.PAE);
        assertEquals(0xB800_0000L, f.mm().mmapBase, "PAGE_OFFSET - gap_min (128 MiB)");
        assertEquals(0xB800_0000L - 9 * 4096, f.sys32(Syscalls.NR32_MMAP2, 0, 4096, RW, ANON, -1, 0) & 0xffff_ffffL);
    }

    @Test
    void elf32LoaderErrors() {
        Fixture f = new Fixture(16L << 20, PagingMode.PAE);
        byte[] good = TestElf.standard32(Fixture.CODE, new byte[8], 0).build();
        assertMessage(f, java.util.Arrays.copyOf(good, 40), "shorter than the 52-byte ELF header");
        byte[] badPhent = good.clone();
        badPhent[42] = 56;
        assertMessage(f, badPhent, "e_phentsize 56, expected 32");
        byte[] x64machine = good.clone();
        x64machine[18] = 62;
        assertMessage(f, x64machine, "expected i386 (3) for ELF32");
        byte[] cls = good.clone();
        cls[4] = 3;
        assertMessage(f, cls, "wrong ELF class 3");
        assertMessage(f, java.util.Arrays.copyOf(good, 52 + 32 * 2), "truncated");
        // A segment reaching above 3 GiB parses (it fits TASK_SIZE_32) but cannot be mapped under PAE.
        byte[] high = new TestElf().elfClass(1).machine(ElfImage.EM_386).entry(0xC000_1000L)
                .load(0xC000_0000L, ElfImage.PF_R | ElfImage.PF_X, Fixture.CODE, 2).build();
        assertMessage(f, high, "above TASK_SIZE 0xc0000000");
        assertEquals(null, f.kernel.task());
        byte[] above = new TestElf().elfClass(1).machine(ElfImage.EM_386)
                .load(0xFFFF_F000L, ElfImage.PF_R, Fixture.CODE, 2).build();
        assertMessage(f, above, "outside the user address space");
    }

    private static void assertMessage(Fixture f, byte[] img, String part) {
        ExecFormatException e = assertThrows(ExecFormatException.class, () -> f.exec(img));
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    /** Installs a SIGSEGV handler at 0x401000 (restorer 0x401001) and takes a #PF at an unmapped address. */
    private static void faultWithHandler(Fixture f, long flags) {
        long buf = f.sys32(Syscalls.NR32_MMAP2, 0, 4096, RW, ANON, -1, 0) & 0xffff_ffffL;
        f.writeBytes(buf, le32s(0x401000, flags, 0x401001, 0, 0));
        assertEquals(0, f.sys32(Syscalls.NR32_RT_SIGACTION, 11, buf, 0, 8));
        f.cpu.state.gpr[CpuState.RBX] = 0x1234_5678L; // a live register the frame must save
        try {
            f.cpu.mmu().translate(0x1000_0000L, org.mmulab.emulator.mmu.PfErr.U);
            throw new AssertionError("unmapped address translated");
        } catch (org.mmulab.emulator.cpu.GuestFault g) {
            assertEquals(org.mmulab.emulator.cpu.Vectors.PF, f.cpu.state.exceptionVector);
            assertTrue(f.kernel.task().ia32());
            f.cpu.state.exceptionVector = -1;
            f.kernel.exception(f.cpu, org.mmulab.emulator.cpu.Vectors.PF, f.cpu.state.exceptionErrorCode);
        }
        assertFalse(f.kernel.task().exited(), "the handler runs");
        assertEquals(0x401000, f.cpu.state.rip);
        assertEquals(11, f.cpu.state.gpr[CpuState.RAX], "regparm: EAX = sig");
    }

    @Test
    void aPlainHandlerGetsTheOldIa32SigframeAndSigreturnRestoresTheContext() throws Exception {
        Fixture f = Fixture.booted32(PagingMode.PAE);
        long rip = f.cpu.state.rip;
        faultWithHandler(f, 0x0400_0000L); // SA_RESTORER only
        long esp = f.cpu.state.gpr[CpuState.RSP];
        assertEquals(0, (esp + 4) & 15, "ESP + 4 is 16-byte aligned at the handler");
        assertEquals(0x401001, f.read32(esp), "pretcode = sa_restorer");
        assertEquals(11, f.read32(esp + 4), "sig");
        long sc = esp + 8; // struct sigcontext_32
        assertEquals(0x1234_5678L, f.read32(sc + 32), "ebx");
        assertEquals(14, f.read32(sc + 48), "trapno");
        assertEquals(rip & 0xffff_ffffL, f.read32(sc + 56), "ip");
        assertEquals(0x1000_0000L, f.read32(sc + 84), "cr2");
        // The restorer: popl %eax (sig), then sigreturn (#119) with ESP just past sig.
        f.cpu.state.gpr[CpuState.RSP] = esp + 8;
        f.cpu.state.gpr[CpuState.RBX] = 0;
        f.sys32(SignalsIa32.NR32_SIGRETURN);
        assertEquals(rip, f.cpu.state.rip);
        assertEquals(0x1234_5678L, f.cpu.state.gpr[CpuState.RBX]);
        assertFalse(f.kernel.task().exited());
    }

    @Test
    void anSaSiginfoHandlerGetsTheRtIa32Frame() throws Exception {
        Fixture f = Fixture.booted32(PagingMode.FOUR_LEVEL);
        faultWithHandler(f, 0x0400_0000L | Signals.SA_SIGINFO);
        long esp = f.cpu.state.gpr[CpuState.RSP];
        long info = f.read32(esp + 8), uc = f.read32(esp + 12);
        assertEquals(esp + 16, info, "pinfo");
        assertEquals(info, f.cpu.state.gpr[CpuState.RDX]);
        assertEquals(uc, f.cpu.state.gpr[CpuState.RCX]);
        assertEquals(11, f.read32(info), "si_signo");
        assertEquals(Signals.SEGV_MAPERR, f.read32(info + 8), "si_code");
        assertEquals(0x1000_0000L, f.read32(info + 12), "si_addr");
        assertEquals(0x23, f.read32(uc + 20 + 60) & 0xffff, "cs = __USER32_CS under a 64-bit kernel");
    }

    @Test
    void aHandlerWithoutSaRestorerCannotReturnAndGetsSigsegv() throws Exception {
        Fixture f = Fixture.booted32(PagingMode.PAE);
        long buf = f.sys32(Syscalls.NR32_MMAP2, 0, 4096, RW, ANON, -1, 0) & 0xffff_ffffL;
        f.writeBytes(buf, le32s(0x401000, 0, 0, 0, 0));
        assertEquals(0, f.sys32(Syscalls.NR32_RT_SIGACTION, 11, buf, 0, 8));
        try {
            f.cpu.mmu().translate(0x1000_0000L, org.mmulab.emulator.mmu.PfErr.U);
            throw new AssertionError("unmapped address translated");
        } catch (org.mmulab.emulator.cpu.GuestFault g) {
            f.cpu.state.exceptionVector = -1;
            f.kernel.exception(f.cpu, org.mmulab.emulator.cpu.Vectors.PF, f.cpu.state.exceptionErrorCode);
        }
        assertTrue(f.kernel.task().exited(), "no vDSO __kernel_rt_sigreturn to return through: force_sigsegv");
        assertEquals(139, f.kernel.task().exitStatus());
    }

    // ---- int 0x80 --------------------------------------------------------------------------------

    private static byte[] le32s(long... v) {
        byte[] b = new byte[4 * v.length];
        for (int i = 0; i < v.length; i++) {
            for (int j = 0; j < 4; j++) {
                b[4 * i + j] = (byte) (v[i] >>> (8 * j));
            }
        }
        return b;
    }

    @ParameterizedTest
    @EnumSource(PagingMode.class)
    void int80WriteWritevMmapAndMemoryCalls(PagingMode mode) throws Exception {
        Fixture f = Fixture.booted32(mode);
        long buf = f.sys32(Syscalls.NR32_MMAP2, 0, 2 * 4096, RW, ANON, -1, 0) & 0xffff_ffffL;
        f.writeBytes(buf, "hello, ".getBytes(StandardCharsets.US_ASCII));
        f.writeBytes(buf + 16, "world\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals(7, f.sys32(Syscalls.NR32_WRITE, 1, buf, 7));
        // struct compat_iovec {u32 base, u32 len}
        f.writeBytes(buf + 64, le32s(buf, 7, buf + 16, 6));
        assertEquals(13, f.sys32(Syscalls.NR32_WRITEV, 1, buf + 64, 2));
        assertEquals("hello, hello, world\n", f.stdout());
        assertEquals(-Errno.EBADF, f.sys32(Syscalls.NR32_WRITE, 9, buf, 1));
        // old mmap (#90): struct mmap_arg_struct
        f.writeBytes(buf + 128, le32s(0, 4096, RW, ANON, 0xffff_ffffL, 0));
        long m = f.sys32(Syscalls.NR32_OLD_MMAP, buf + 128) & 0xffff_ffffL;
        assertEquals(buf - 4096, m, "top-down, right below the previous mapping");
        f.writeBytes(buf + 128, le32s(0, 4096, RW, ANON, 0xffff_ffffL, 100));
        assertEquals(-Errno.EINVAL, f.sys32(Syscalls.NR32_OLD_MMAP, buf + 128), "offset not page aligned");
        assertEquals(-Errno.ENODEV, f.sys32(Syscalls.NR32_MMAP2, 0, 4096, RW, Mmap.MAP_PRIVATE, 0, 3), "mmap2 of a pipe");
        assertEquals(0, f.sys32(Syscalls.NR32_MUNMAP, m, 4096));
        assertEquals(0, f.sys32(Syscalls.NR32_MPROTECT, buf + 4096, 4096, Mmap.PROT_READ));
        assertEquals(-1 - Kernel.FAULT_SIGSEGV, f.touch(buf + 4096, true), "write to a PROT_READ page");
        assertEquals(0, f.sys32(Syscalls.NR32_MADVISE, buf, 4096, 4)); // MADV_DONTNEED
        assertEquals(0, f.readBytes(buf, 1)[0], "DONTNEED dropped the anon page");
        long brk0 = f.sys32(Syscalls.NR32_BRK, 0) & 0xffff_ffffL;
        assertEquals(f.mm().brk, brk0);
        assertEquals(brk0 + 8192, f.sys32(Syscalls.NR32_BRK, brk0 + 8192) & 0xffff_ffffL);
        assertTrue(f.write64(brk0, 1) > 0);
        assertTrue(f.kernel.syscalls().countsByName().containsKey("ia32:mmap2"));
        assertEquals(1L, f.kernel.syscalls().countsByName().get("ia32:writev"));
    }

    @ParameterizedTest
    @EnumSource(PagingMode.class)
    void int80TimeIdentityTlsSignalsAndUnknown(PagingMode mode) throws Exception {
        Fixture f = Fixture.booted32(mode);
        boolean pae = mode == PagingMode.PAE;
        long buf = f.sys32(Syscalls.NR32_MMAP2, 0, 4096, RW, ANON, -1, 0) & 0xffff_ffffL;
        f.writeBytes(buf, le32s(0, 0, 0xdeadbeefL, 0xdeadbeefL));
        assertEquals(0, f.sys32(Syscalls.NR32_CLOCK_GETTIME, 1, buf));
        assertTrue(f.read32(buf + 4) < 1_000_000_000L, "tv_nsec in the second s32");
        assertEquals(0xdeadbeefL, f.read32(buf + 8), "old_timespec32 is 8 bytes");
        assertEquals(0, f.sys32(Syscalls.NR32_CLOCK_GETTIME64, 0, buf));
        assertTrue(f.read32(buf) > 1_600_000_000L, "realtime seconds");
        assertEquals(0, f.read32(buf + 4), "64-bit tv_sec high half (before 2106)");
        assertNotEquals(0xdeadbeefL, f.read32(buf + 12), "__kernel_timespec is 16 bytes");
        assertEquals(-Errno.EINVAL, f.sys32(Syscalls.NR32_CLOCK_GETTIME, 99, buf));
        f.writeBytes(buf, le32s(0, 1_000_000_000L));
        assertEquals(-Errno.EINVAL, f.sys32(Syscalls.NR32_NANOSLEEP, buf, 0), "tv_nsec out of range");
        f.writeBytes(buf, le32s(0, 1000));
        assertEquals(0, f.sys32(Syscalls.NR32_NANOSLEEP, buf, 0));
        f.writeBytes(buf, le32s(0, 0, 1000, 0));
        assertEquals(0, f.sys32(Syscalls.NR32_CLOCK_NANOSLEEP_TIME64, 1, 0, buf, 0));
        f.writeBytes(buf, le32s(0, 1000));
        assertEquals(0, f.sys32(Syscalls.NR32_CLOCK_NANOSLEEP, 1, 0, buf, 0), "glibc's i386 sleep: old_timespec32");
        f.writeBytes(buf, le32s(0, 1_000_000_000L));
        assertEquals(-Errno.EINVAL, f.sys32(Syscalls.NR32_CLOCK_NANOSLEEP, 1, 0, buf, 0));
        assertEquals(-Errno.EINVAL, f.sys32(Syscalls.NR32_CLOCK_NANOSLEEP, 99, 0, buf, 0), "bad clock");
        // uname: machine is the kernel's: x86_64 for a compat task, i686 on the 32-bit kernel.
        assertEquals(0, f.sys32(Syscalls.NR32_UNAME, buf));
        assertEquals("Linux", f.readString(buf));
        assertEquals(pae ? "i686" : "x86_64", f.readString(buf + 65 * 4));
        assertEquals(f.kernel.task().pid, f.sys32(Syscalls.NR32_GETPID));
        assertEquals(f.kernel.task().pid, f.sys32(Syscalls.NR32_GETTID));
        assertEquals(0, f.sys32(Syscalls.NR32_GETUID32));
        assertEquals(0, f.sys32(Syscalls.NR32_GETEGID32));
        assertEquals(f.kernel.task().pid, f.sys32(Syscalls.NR32_SET_TID_ADDRESS, buf));
        assertEquals(-Errno.ESPIPE, f.sys32(Syscalls.NR32_LLSEEK, 1, 0, 0, buf, 0));
        assertEquals(-Errno.EBADF, f.sys32(Syscalls.NR32_LLSEEK, 7, 0, 0, buf, 0));
        assertEquals(-Errno.ENOTTY, f.sys32(Syscalls.NR32_IOCTL, 1, 0x5401, buf));
        // set_thread_area(entry -1): the first TLS slot is chosen and written back; the GDT entry is a
        // DPL 3 data segment that mov %gs then loads (the call itself does not touch %gs, as on Linux).
        f.writeBytes(buf + 256, le32s(0xffff_ffffL, 0x0804_c000L, 0xfffff, 0x51));
        assertEquals(0, f.sys32(Syscalls.NR32_SET_THREAD_AREA, buf + 256));
        int min = pae ? 6 : 12;
        assertEquals(min, f.read32(buf + 256));
        assertEquals(0, f.cpu.state.gsBase);
        assertEquals(null, f.cpu.state.segs.load(f.cpu.state, org.mmulab.emulator.cpu.Segments.GS, min * 8 + 3));
        assertEquals(0x0804_c000L, f.cpu.state.gsBase);
        assertEquals(0xffff_ffffL, f.cpu.state.segs.gsLimit);
        // a descriptor rewritten under a loaded %gs is reloaded (do_set_thread_area's refresh)
        f.writeBytes(buf + 256, le32s(min, 0x0805_0000L, 0xfffff, 0x51));
        assertEquals(0, f.sys32(Syscalls.NR32_SET_THREAD_AREA, buf + 256));
        assertEquals(0x0805_0000L, f.cpu.state.gsBase);
        // 16-bit, code and not-present descriptors are refused (tls_desc_okay)
        f.writeBytes(buf + 256, le32s(min, 0x1000, 0xfffff, 0x50));
        assertEquals(-Errno.EINVAL, f.sys32(Syscalls.NR32_SET_THREAD_AREA, buf + 256), "16-bit");
        f.writeBytes(buf + 256, le32s(min, 0x1000, 0xfffff, 0x55));
        assertEquals(-Errno.EINVAL, f.sys32(Syscalls.NR32_SET_THREAD_AREA, buf + 256), "code");
        f.writeBytes(buf + 256, le32s(min, 0x1000, 0xfffff, 0x71));
        assertEquals(-Errno.EINVAL, f.sys32(Syscalls.NR32_SET_THREAD_AREA, buf + 256), "not present");
        f.writeBytes(buf + 256, le32s(min, 0x0804_c000L, 0xfffff, 0x51));
        assertEquals(0, f.sys32(Syscalls.NR32_SET_THREAD_AREA, buf + 256));
        f.writeBytes(buf + 256, le32s(0xffff_ffffL, 0x0900_0000L, 0xfffff, 0x51));
        assertEquals(0, f.sys32(Syscalls.NR32_SET_THREAD_AREA, buf + 256));
        assertEquals(min + 1, f.read32(buf + 256), "the next free slot");
        f.writeBytes(buf + 512, le32s(min));
        assertEquals(0, f.sys32(Syscalls.NR32_GET_THREAD_AREA, buf + 512));
        assertEquals(0x0804_c000L, f.read32(buf + 516));
        assertEquals(0x51, f.read32(buf + 524), "fill_user_desc gives the flags back");
        f.writeBytes(buf + 256, le32s(3, 0, 0, 0));
        assertEquals(-Errno.EINVAL, f.sys32(Syscalls.NR32_SET_THREAD_AREA, buf + 256), "not a TLS entry");
        // rt_sigaction with struct sigaction32 {handler, flags, restorer, mask[2]}
        f.writeBytes(buf + 768, le32s(0x401000, 0x0400_0000L, 0x401001, 1 << 1, 0));
        assertEquals(0, f.sys32(Syscalls.NR32_RT_SIGACTION, 11, buf + 768, 0, 8));
        assertEquals(0x401000, f.kernel.task().sigHandler(11));
        assertEquals(0, f.sys32(Syscalls.NR32_RT_SIGACTION, 11, 0, buf + 1024, 8));
        assertEquals(0x401000, f.read32(buf + 1024));
        assertEquals(0x0400_0000L, f.read32(buf + 1028));
        assertEquals(0x401001, f.read32(buf + 1032));
        assertEquals(2, f.read32(buf + 1036));
        assertEquals(-Errno.EINVAL, f.sys32(Syscalls.NR32_RT_SIGACTION, 11, buf + 768, 0, 4));
        f.writeBytes(buf + 1100, le32s(1 << 9, 0));
        assertEquals(0, f.sys32(Syscalls.NR32_RT_SIGPROCMASK, 0, buf + 1100, 0, 8));
        assertEquals(1L << 9, f.kernel.task().sigmask());
        // Unknown: -ENOSYS, counted; the emulator does not care.
        assertEquals(-Errno.ENOSYS, f.sys32(999, 1, 2, 3));
        assertEquals(1L, f.kernel.syscalls().unknownByNumber().get((1L << 32) | 999));
        java.io.ByteArrayOutputStream so = new java.io.ByteArrayOutputStream();
        f.kernel.printStats(new java.io.PrintStream(so, true, java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(so.toString(java.nio.charset.StandardCharsets.UTF_8).contains("ia32 nr 999 "), "--stats names the ia32 table");
        assertEquals(0, f.sys32(6, 1), "close (#6)");
        assertEquals(-Errno.EBADF, f.sys32(6, 1), "closed already");
        f.sys32(Syscalls.NR32_EXIT_GROUP, 0x105);
        assertTrue(f.kernel.task().exited());
        assertEquals(5, f.kernel.task().exitStatus());
    }
}
