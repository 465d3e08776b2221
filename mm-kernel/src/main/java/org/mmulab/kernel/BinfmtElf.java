package org.mmulab.kernel;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * fs/binfmt_elf.c load_elf_binary + create_elf_tables and fs/exec.c setup_arg_pages (Linux 6.x),
 * as they behave with ASLR off (personality ADDR_NO_RANDOMIZE), so that a register trace can be
 * compared with the same binary run natively under {@code setarch -R}.
 *
 * <p>Segments are mapped from the image as private file mappings (their pages come from the image's
 * page cache at fault time); the tail of the last file page of a segment with bss is zeroed by
 * {@code padzero} (a kernel write through the MMU, which COWs that page), and the rest of the bss is an
 * anonymous mapping ({@code vm_brk_flags}). brk starts at the page-aligned end of the bss (for a static
 * PIE, at ELF_ET_DYN_BASE, as Linux does since 6.5 even without randomization).
 *
 * <p>Stack, top down from STACK_TOP = 0x7ffffffff000: 8 bytes of zero, the execfn string, the envp and
 * argv strings (argv[0] lowest), 16-byte alignment, the platform string "x86_64", 16 AT_RANDOM bytes,
 * then (16-byte aligned) argc, argv[], NULL, envp[], NULL, and the auxiliary vector in create_elf_tables'
 * order. There is no vDSO, so AT_SYSINFO_EHDR is absent as with vdso=0 (the initial RSP is 16 bytes above
 * a native run's; the oracle compares stack addresses relative to it), but the pages a native vvar+vDSO
 * occupy are reserved below mmap_base so that mmap addresses equal a native run's
 * ({@link KernelConfig#vdsoPages()}).
 *
 * <p>ELF32 (i386, compat_binfmt_elf.c on a 64-bit kernel, binfmt_elf.c on a 32-bit PAE one): STACK_TOP
 * is the task size (TASK_SIZE_32 = 0xffffe000 in compatibility mode, PAGE_OFFSET = 0xc0000000 under
 * PAE); bprm->p starts one <em>kernel</em> pointer below it (8 bytes on the 64-bit kernel, 4 on the
 * 32-bit one); argc, argv, envp and the auxv are 4-byte words (elf_addr_t = u32), AT_PHENT is 32, the
 * platform string is "i686" (COMPAT_ELF_PLATFORM / a 32-bit kernel's utsname machine), ELF_ET_DYN_BASE
 * is 0x400000 and the auxv is ARCH_DLINFO_IA32's without a vDSO (AT_MINSIGSTKSZ only, no
 * AT_SYSINFO/AT_SYSINFO_EHDR). The 16-byte alignments (arch_align_stack, STACK_ROUND) are the same.
 */
final class BinfmtElf {
    static final long STACK_TOP = (1L << 47) - 4096;
    /** ELF_ET_DYN_BASE = DEFAULT_MAP_WINDOW / 3 * 2, page aligned. */
    static final long ELF_ET_DYN_BASE = ((((1L << 47) - 4096) / 3 * 2) + 4095) & ~4095L;
    /** ELF_ET_DYN_BASE as the macro gives it, before load_elf_binary aligns it to the image's p_align. */
    static final long ELF_ET_DYN_BASE_RAW = ((1L << 47) - 4096) / 3 * 2;
    /** ELF_ET_DYN_BASE for an ia32 task (mmap_is_ia32()). */
    static final long ELF_ET_DYN_BASE_32 = 0x400000L;
    static final long STACK_EXPAND = 128 * 1024;

    static final int AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7, AT_FLAGS = 8,
            AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16,
            AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26, AT_EXECFN = 31, AT_MINSIGSTKSZ = 51,
            AT_RSEQ_FEATURE_SIZE = 27, AT_RSEQ_ALIGN = 28;
    /** get_sigframe_size() for an FXSAVE-only (SSE2) CPU: MINSIGSTKSZ-style frame size. */
    static final long MINSIGSTKSZ_VALUE = 0x3f0;

    /** What exec leaves behind: entry, initial RSP, and the values put in the auxv (for tests). */
    record Loaded(long entry, long sp, long phdrAddr, long execfnAddr, long randomAddr, long platformAddr,
            List<long[]> auxv) {
    }

    private BinfmtElf() {
    }

    /**
     * Returns null when exec failed after the point of no return: the task then has either an OOM kill
     * pending (no frame was left) or {@link Task#execFailure} set (bprm_execve's force_fatal_sig(SIGSEGV)).
     * With an interpreter ({@link ElfInterp}; its page-cache reference is released here), the program is
     * mapped as load_elf_binary maps it (an ET_DYN one at ELF_ET_DYN_BASE), the interpreter as
     * load_elf_interp does (an ET_DYN one wherever the top-down allocator puts it), the task starts at the
     * interpreter's entry and the auxv carries AT_BASE (the interpreter's load address) and AT_ENTRY (the
     * program's entry).
     */
    static Loaded load(Kernel k, MmStruct mm, AddressSpace file, ElfImage elf, ElfInterp.Opened interp, String execPath,
            List<String> argv, List<String> envp, UserAccess ua) throws ExecFormatException {
        try {
            return loadMapped(k, mm, file, elf, interp, execPath, argv, envp, ua);
        } finally {
            if (interp != null) {
                interp.file().releaseUser();
            }
        }
    }

    /** A static program (no interpreter). */
    static Loaded load(Kernel k, MmStruct mm, AddressSpace file, ElfImage elf, String execPath, List<String> argv,
            List<String> envp, UserAccess ua) throws ExecFormatException {
        return load(k, mm, file, elf, null, execPath, argv, envp, ua);
    }

    private static Loaded loadMapped(Kernel k, MmStruct mm, AddressSpace file, ElfImage elf, ElfInterp.Opened interp,
            String execPath, List<String> argv, List<String> envp, UserAccess ua) throws ExecFormatException {
        Mmap mmap = k.mmap();
        Mapped m = mapSegments(k, mm, file, elf, interp != null ? Placement.DYN_BASE : Placement.MAIN, ua);
        if (m == null) {
            return null;
        }
        long entry = elf.entry + m.loadBias;
        long phdrAddr = m.phdrAddr + m.loadBias;
        mm.startCode = m.startCode == Long.MAX_VALUE ? 0 : m.startCode + m.loadBias;
        mm.endCode = m.endCode + m.loadBias;
        mm.startData = m.startData + m.loadBias;
        mm.endData = m.endData + m.loadBias;
        mm.startBrk = mm.brk = (m.elfBrk + m.loadBias + 4095) & ~4095L;
        if (elf.type == ElfImage.ET_DYN && interp == null) {
            mm.startBrk = mm.brk = elf.elf32 ? ELF_ET_DYN_BASE_32 : ELF_ET_DYN_BASE;
        }
        long start = entry;
        long base = 0;
        if (interp != null) {
            // load_elf_interp: after the program, before the vDSO.
            Mapped im = mapSegments(k, mm, interp.file(), interp.elf(), Placement.INTERP, ua);
            if (im == null) {
                return null;
            }
            base = im.loadBias;
            start = interp.elf().entry + im.loadBias;
        }
        // ARCH_SETUP_ADDITIONAL_PAGES: where map_vdso() would put vvar+vDSO (top-down, after the image),
        // reserve the same pages so later mmaps land where they land natively.
        int vdsoPages = k.config().vdsoPages();
        if (vdsoPages > 0) {
            long v = mmap.doMmap(mm, null, 0, vdsoPages * 4096L, Mmap.PROT_NONE, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS,
                    0, "[vvar+vdso reserved]");
            if (v < 0) {
                throw new ExecFormatException("cannot reserve the vDSO area: errno " + -v);
            }
        }
        Loaded l = createTables(k, mm, elf, start, entry, base, phdrAddr, execPath, argv, envp, ua);
        if (l == null && !k.current().oomKillPending) {
            k.current().execFailure = "writing the initial stack failed (EFAULT)";
        }
        return l;
    }

    /** Where the first segment of an image goes (load_elf_binary / load_elf_interp). */
    private enum Placement {
        /** The program without interpreter: ET_EXEC at its addresses, ET_DYN (static PIE) top-down. */
        MAIN,
        /** The program of an interpreter: ET_DYN at ELF_ET_DYN_BASE aligned to its largest p_align. */
        DYN_BASE,
        /** The interpreter: ET_EXEC at its addresses (MAP_FIXED), ET_DYN top-down. */
        INTERP
    }

    /** The mapped image's load bias and the (unbiased) bounds load_elf_binary records. */
    private record Mapped(long loadBias, long phdrAddr, long startCode, long endCode, long startData, long endData,
            long elfBrk) {
    }

    /** maximum_alignment: the largest power-of-two p_align of the PT_LOADs, at least a page. */
    private static long maximumAlignment(List<ElfImage.Phdr> loads) {
        long a = 4096;
        for (ElfImage.Phdr p : loads) {
            if (p.align() > 0 && Long.bitCount(p.align()) == 1 && p.align() <= (1L << 30)) {
                a = Math.max(a, p.align());
            }
        }
        return a;
    }

    /** Maps {@code elf}'s PT_LOAD segments; null when that failed after the point of no return. */
    private static Mapped mapSegments(Kernel k, MmStruct mm, AddressSpace file, ElfImage elf, Placement where,
            UserAccess ua) throws ExecFormatException {
        List<ElfImage.Phdr> loads = elf.loads();
        long loadBias = 0;
        long startCode = Long.MAX_VALUE, endCode = 0, startData = 0, endData = 0, elfBrk = 0;
        long phdrAddr = 0;
        boolean dyn = elf.type == ElfImage.ET_DYN;
        if (dyn && where == Placement.DYN_BASE) {
            long base = elf.elf32 ? ELF_ET_DYN_BASE_32 : ELF_ET_DYN_BASE_RAW;
            base &= ~(maximumAlignment(loads) - 1);
            loadBias = (base - loads.get(0).vaddr()) & ~4095L; // ELF_PAGESTART(load_bias - vaddr)
        }
        boolean first = true;
        for (ElfImage.Phdr p : loads) {
            // load_elf_binary: a segment past TASK_SIZE (3 GiB for an i386 image under PAE) is -EINVAL.
            if (Long.compareUnsigned(p.memsz(), mm.taskSize) > 0 || Long.compareUnsigned(mm.taskSize - p.memsz(), p.vaddr()) < 0) {
                throw new ExecFormatException("bad ELF segment at 0x" + Long.toHexString(p.vaddr()) + ": above TASK_SIZE 0x"
                        + Long.toHexString(mm.taskSize));
            }
            int prot = 0;
            if ((p.flags() & ElfImage.PF_R) != 0) {
                prot |= Mmap.PROT_READ;
            }
            if ((p.flags() & ElfImage.PF_W) != 0) {
                prot |= Mmap.PROT_WRITE;
            }
            if ((p.flags() & ElfImage.PF_X) != 0) {
                prot |= Mmap.PROT_EXEC;
            }
            long vaddr = p.vaddr();
            int flags = Mmap.MAP_PRIVATE;
            long totalSize = 0;
            if (!first || !dyn && where == Placement.INTERP) {
                flags |= Mmap.MAP_FIXED;
            } else if (!dyn || where == Placement.DYN_BASE) {
                flags |= Mmap.MAP_FIXED_NOREPLACE;
            }
            if (first && dyn) {
                ElfImage.Phdr last = loads.get(loads.size() - 1);
                totalSize = last.vaddr() + last.memsz() - (loads.get(0).vaddr() & ~4095L);
                if (where != Placement.DYN_BASE) {
                    // static PIE or interpreter: load_bias 0, placed by the top-down allocator
                    loadBias = -(vaddr & ~4095L);
                }
            }
            long mapAddr = elfLoad(k, mm, file, p, loadBias + vaddr, prot, flags, totalSize, ua);
            if (mapAddr < 0) {
                if (mapAddr == -Errno.ENOMEM || mapAddr == -Errno.EFAULT) {
                    if (!k.current().oomKillPending) {
                        k.current().execFailure = "mapping the ELF segment at 0x" + Long.toHexString(vaddr) + " failed ("
                                + (mapAddr == -Errno.ENOMEM ? "ENOMEM" : "EFAULT") + ")";
                    }
                    return null;
                }
                throw new ExecFormatException("cannot map ELF segment at 0x" + Long.toHexString(vaddr) + ": errno "
                        + -mapAddr);
            }
            if (first && dyn) {
                loadBias = mapAddr - (vaddr & ~4095L);
            }
            first = false;
            if (Long.compareUnsigned(p.offset(), elf.phoff) <= 0 && Long.compareUnsigned(elf.phoff, p.offset() + p.filesz()) < 0) {
                phdrAddr = elf.phoff - p.offset() + vaddr;
            }
            long kk = vaddr;
            if ((p.flags() & ElfImage.PF_X) != 0 && kk < startCode) {
                startCode = kk;
            }
            if (startData < kk) {
                startData = kk;
            }
            kk = vaddr + p.filesz();
            if ((p.flags() & ElfImage.PF_X) != 0 && endCode < kk) {
                endCode = kk;
            }
            if (endData < kk) {
                endData = kk;
            }
            kk = vaddr + p.memsz();
            if (kk > elfBrk) {
                elfBrk = kk;
            }
        }
        return new Mapped(loadBias, phdrAddr, startCode, endCode, startData, endData, elfBrk);
    }

    /** elf_load (6.x): map the file part, zero the partial page, map the anonymous rest. */
    private static long elfLoad(Kernel k, MmStruct mm, AddressSpace file, ElfImage.Phdr p, long addr, int prot,
            int flags, long totalSize, UserAccess ua) {
        Mmap mmap = k.mmap();
        long pageOff = p.vaddr() & 4095;
        long mapAddr;
        long zeroStart;
        long zeroEnd;
        if (p.filesz() != 0) {
            long start = addr & ~4095L;
            long size = (p.filesz() + pageOff + 4095) & ~4095L;
            long off = p.offset() - pageOff;
            if (totalSize != 0) {
                long total = (totalSize + 4095) & ~4095L;
                mapAddr = mmap.doMmap(mm, file, start, total, prot, flags, off >>> 12, null);
                if (mapAddr >= 0 && total > size) {
                    mmap.doMunmap(mm, mapAddr + size, total - size);
                }
            } else {
                mapAddr = mmap.doMmap(mm, file, start, size, prot, flags, off >>> 12, null);
            }
            if (mapAddr < 0) {
                return mapAddr;
            }
            if (p.memsz() > p.filesz()) {
                zeroStart = mapAddr + pageOff + p.filesz();
                zeroEnd = mapAddr + pageOff + p.memsz();
                // padzero: zero the end of the last file page; errors matter only if writable.
                int nbyte = (int) (zeroStart & 4095);
                if (nbyte != 0) {
                    int n = 4096 - nbyte;
                    if (ua.clearUser(zeroStart, n) != 0 && (prot & Mmap.PROT_WRITE) != 0) {
                        return k.current().oomKillPending ? -Errno.ENOMEM : -Errno.EFAULT;
                    }
                }
            } else {
                return mapAddr;
            }
        } else {
            mapAddr = zeroStart = addr & ~4095L;
            zeroEnd = zeroStart + pageOff + p.memsz();
        }
        if (p.memsz() > p.filesz()) {
            zeroStart = (zeroStart + 4095) & ~4095L;
            zeroEnd = (zeroEnd + 4095) & ~4095L;
            long e = mmap.vmBrkFlags(mm, zeroStart, zeroEnd - zeroStart,
                    (prot & Mmap.PROT_EXEC) != 0 ? org.mmulab.kernel.mm.VmArea.VM_EXEC : 0);
            if (e < 0) {
                return e;
            }
        }
        return mapAddr;
    }

    private static byte[] cstr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return z;
    }

    /** setup_arg_pages + create_elf_tables. */
    private static Loaded createTables(Kernel k, MmStruct mm, ElfImage elf, long start, long entry, long base,
            long phdrAddr, String execPath, List<String> argv, List<String> envp, UserAccess ua)
            throws ExecFormatException {
        // bprm->p starts one pointer below the top; strings are copied downwards: filename first, then
        // envp (last string first), then argv (last first), so argv[0] ends up lowest.
        boolean e32 = elf.elf32;
        long stackTop = e32 ? mm.taskSize : STACK_TOP;
        // bprm->p = vma->vm_end - sizeof(void *): the kernel's pointer size (4 only on a 32-bit kernel).
        long p = stackTop - (e32 && k.config().paging() == KernelConfig.PagingMode.PAE ? 4 : 8);
        int word = e32 ? 4 : 8;
        List<byte[]> strings = new ArrayList<>();
        byte[] fn = cstr(execPath);
        p -= fn.length;
        long execfn = p;
        long stringsTotal = fn.length;
        for (String s : argv) {
            stringsTotal += cstr(s).length;
        }
        for (String s : envp) {
            stringsTotal += cstr(s).length;
        }
        if (stringsTotal > mm.stackRlimit / 4) {
            throw new ExecFormatException("argument list too long (E2BIG)");
        }
        long argStart = p - (stringsTotal - fn.length);
        // Stack VMA: the pages holding the strings, expanded by 128 KiB (setup_arg_pages).
        long vmStart = (argStart & ~4095L) - STACK_EXPAND;
        k.mmap().setupStackVma(mm, vmStart, stackTop);
        mm.startStack = 0;
        if (ua.copyToUser(execfn, fn, 0, fn.length) != 0) {
            return null;
        }
        long q = argStart;
        mm.argStart = q;
        for (String s : argv) {
            byte[] b = cstr(s);
            if (ua.copyToUser(q, b, 0, b.length) != 0) {
                return null;
            }
            q += b.length;
        }
        mm.argEnd = mm.envStart = q;
        for (String s : envp) {
            byte[] b = cstr(s);
            if (ua.copyToUser(q, b, 0, b.length) != 0) {
                return null;
            }
            q += b.length;
        }
        mm.envEnd = q;
        p = argStart;
        mm.startStack = p;
        // create_elf_tables
        p = p & ~15L; // arch_align_stack without randomization
        byte[] platform = cstr(e32 ? "i686" : "x86_64");
        p -= platform.length;
        long uPlatform = p;
        if (ua.copyToUser(uPlatform, platform, 0, platform.length) != 0) {
            return null;
        }
        byte[] rand = new byte[16];
        new SplittableRandom(k.randomSeed()).nextBytes(rand);
        p -= 16;
        long uRand = p;
        if (ua.copyToUser(uRand, rand, 0, 16) != 0) {
            return null;
        }
        KernelConfig c = k.config();
        List<long[]> aux = new ArrayList<>();
        // ARCH_DLINFO: no AT_SYSINFO_EHDR, as on a kernel with vdso=0 (nothing is mapped there).
        aux.add(new long[] {AT_MINSIGSTKSZ, MINSIGSTKSZ_VALUE});
        aux.add(new long[] {AT_HWCAP, c.hwcap()});
        aux.add(new long[] {AT_PAGESZ, 4096});
        aux.add(new long[] {AT_CLKTCK, 100});
        aux.add(new long[] {AT_PHDR, phdrAddr});
        aux.add(new long[] {AT_PHENT, elf.phentsize()});
        aux.add(new long[] {AT_PHNUM, elf.phnum});
        aux.add(new long[] {AT_BASE, base});
        aux.add(new long[] {AT_FLAGS, 0});
        aux.add(new long[] {AT_ENTRY, entry});
        aux.add(new long[] {AT_UID, c.uid()});
        aux.add(new long[] {AT_EUID, c.uid()});
        aux.add(new long[] {AT_GID, c.uid()});
        aux.add(new long[] {AT_EGID, c.uid()});
        aux.add(new long[] {AT_SECURE, 0});
        aux.add(new long[] {AT_RANDOM, uRand});
        aux.add(new long[] {AT_HWCAP2, 0});
        aux.add(new long[] {AT_EXECFN, execfn});
        aux.add(new long[] {AT_PLATFORM, uPlatform});
        aux.add(new long[] {AT_RSEQ_FEATURE_SIZE, 0x1c});
        aux.add(new long[] {AT_RSEQ_ALIGN, 0x20});
        aux.add(new long[] {AT_NULL, 0});
        int eiIndex = aux.size() * 2;
        long sp = p - (long) word * eiIndex; // STACK_ADD(p, ei_index)
        int argc = argv.size();
        int envc = envp.size();
        int items = (argc + 1) + (envc + 1) + 1;
        sp = (sp - (long) word * items) & ~15L; // STACK_ROUND
        long bprmP = sp;
        long w = sp;
        byte[] words = new byte[word * (items + eiIndex)];
        int wi = 0;
        wi = putWord(words, wi, argc, word);
        long s = mm.argStart;
        for (String a : argv) {
            wi = putWord(words, wi, s, word);
            s += cstr(a).length;
        }
        wi = putWord(words, wi, 0, word);
        for (String e : envp) {
            wi = putWord(words, wi, s, word);
            s += cstr(e).length;
        }
        wi = putWord(words, wi, 0, word);
        for (long[] a : aux) {
            wi = putWord(words, wi, a[0], word);
            wi = putWord(words, wi, a[1], word);
        }
        if (ua.copyToUser(w, words, 0, wi) != 0) {
            return null;
        }
        return new Loaded(start, bprmP, phdrAddr, execfn, uRand, uPlatform, List.copyOf(aux));
    }

    private static int putWord(byte[] b, int off, long v, int size) {
        for (int i = 0; i < size; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
        return off + size;
    }
}
