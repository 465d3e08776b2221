package org.mmulab.kernel;

import java.util.ArrayList;
import java.util.List;

import org.mmulab.kernel.mm.FileBytes;

/**
 * A parsed static ELF64 x86-64 or ELF32 i386 executable (fs/binfmt_elf.c, and compat_binfmt_elf.c's
 * Elf32 types for i386): the checks fs/binfmt_elf.c load_elf_binary makes before it
 * maps anything (elf_check_arch, e_phentsize, program headers inside the file, PT_LOAD sanity, the
 * PT_INTERP path's length and NUL); the interpreter itself is opened and loaded by {@link ElfInterp}.
 * Every refusal is an {@link ExecFormatException} with a one-line message.
 */
public final class ElfImage {
    public static final int PT_NULL = 0, PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3, PT_PHDR = 6,
            PT_GNU_STACK = 0x6474e551;
    public static final int PF_X = 1, PF_W = 2, PF_R = 4;
    public static final int ET_EXEC = 2, ET_DYN = 3;
    public static final int EM_X86_64 = 62, EM_386 = 3;
    static final int EHDR_SIZE = 64, PHDR_SIZE = 56, EHDR32_SIZE = 52, PHDR32_SIZE = 32;
    /** The highest end of a segment an i386 image may ask for: TASK_SIZE_32 of a 64-bit kernel. */
    static final long TASK_SIZE_32 = 0xFFFF_E000L;

    /** One program header (Elf64_Phdr). */
    public record Phdr(int type, int flags, long offset, long vaddr, long filesz, long memsz, long align) {
    }

    public final FileBytes data;
    public final int type;
    public final long entry;
    public final long phoff;
    public final int phnum;
    public final List<Phdr> phdrs;
    /** PT_INTERP's path (the dynamic loader a dynamically linked program names), or null. */
    public final String interp;

    /** ELFCLASS32 (i386): a 32-bit program. */
    public final boolean elf32;

    private ElfImage(FileBytes data, boolean elf32, int type, long entry, long phoff, int phnum, List<Phdr> phdrs,
            String interp) {
        this.data = data;
        this.interp = interp;
        this.elf32 = elf32;
        this.type = type;
        this.entry = entry;
        this.phoff = phoff;
        this.phnum = phnum;
        this.phdrs = phdrs;
    }

    /** Bytes of one program header (AT_PHENT): 56 for ELF64, 32 for ELF32. */
    public int phentsize() {
        return elf32 ? PHDR32_SIZE : PHDR_SIZE;
    }

    public List<Phdr> loads() {
        List<Phdr> l = new ArrayList<>();
        for (Phdr p : phdrs) {
            if (p.type == PT_LOAD) {
                l.add(p);
            }
        }
        return l;
    }

    public static ElfImage parse(byte[] img) throws ExecFormatException {
        return parse(FileBytes.of(img));
    }

    /**
     * Parses and checks an image. Every offset and size read from the file is checked with arithmetic that
     * cannot overflow ({@link FileBytes#contains}, unsigned comparisons), so a hostile header yields an
     * {@link ExecFormatException}, never another exception.
     */
    public static ElfImage parse(FileBytes img) throws ExecFormatException {
        long len = img.size();
        if (len < 4 || img.u8(0) != 0x7f || img.u8(1) != 'E' || img.u8(2) != 'L' || img.u8(3) != 'F') {
            throw new ExecFormatException("not an ELF file (bad magic)");
        }
        if (len < 16) {
            throw new ExecFormatException("truncated ELF file: " + len + " bytes, shorter than the ELF identification");
        }
        int cls = img.u8(4);
        if (cls != 1 && cls != 2) {
            throw new ExecFormatException("wrong ELF class " + cls + ", expected ELF64 (2) or ELF32 (1)");
        }
        boolean e32 = cls == 1;
        if (img.u8(5) != 1) {
            throw new ExecFormatException("wrong ELF data encoding " + img.u8(5) + ", expected little-endian (1)");
        }
        int ehdrSize = e32 ? EHDR32_SIZE : EHDR_SIZE;
        int phdrSize = e32 ? PHDR32_SIZE : PHDR_SIZE;
        if (len < ehdrSize) {
            throw new ExecFormatException("truncated ELF file: " + len + " bytes, shorter than the " + ehdrSize
                    + "-byte ELF header");
        }
        int type = img.u16(16);
        int machine = img.u16(18);
        int wantMachine = e32 ? EM_386 : EM_X86_64;
        if (machine != wantMachine) {
            throw new ExecFormatException("wrong machine: e_machine " + machine + machineName(machine)
                    + (e32 ? ", expected i386 (3) for ELF32" : ", expected x86-64 (62)"));
        }
        if (type != ET_EXEC && type != ET_DYN) {
            throw new ExecFormatException("not an executable: e_type " + type + (type == 1 ? " (relocatable object)" : type == 4 ? " (core dump)" : ""));
        }
        long entry = e32 ? img.u32(24) : img.i64(24);
        long phoff = e32 ? img.u32(28) : img.i64(32);
        int phentsize = img.u16(e32 ? 42 : 54);
        int phnum = img.u16(e32 ? 44 : 56);
        if (phentsize != phdrSize) {
            throw new ExecFormatException("bad ELF header: e_phentsize " + phentsize + ", expected " + phdrSize);
        }
        if (phnum < 1 || phnum > 65536 / phdrSize) {
            throw new ExecFormatException("bad ELF header: e_phnum " + phnum);
        }
        // phnum * phdrSize <= 65536, so only the offset can be absurd; contains() compares without adding.
        if (!img.contains(phoff, (long) phnum * phdrSize)) {
            throw new ExecFormatException("truncated ELF file: program headers at offset " + Long.toUnsignedString(phoff)
                    + " (" + phnum + " x " + phdrSize + " bytes) are not inside the " + len + "-byte file");
        }
        List<Phdr> phdrs = new ArrayList<>();
        boolean anyLoad = false;
        String interp = null;
        for (int i = 0; i < phnum; i++) {
            long o = phoff + (long) i * phdrSize;
            Phdr p = e32
                    ? new Phdr(img.i32(o), img.i32(o + 24), img.u32(o + 4), img.u32(o + 8), img.u32(o + 16), img.u32(o + 20),
                            img.u32(o + 28))
                    : new Phdr(img.i32(o), img.i32(o + 4), img.i64(o + 8), img.i64(o + 16), img.i64(o + 32),
                            img.i64(o + 40), img.i64(o + 48));
            phdrs.add(p);
            if (p.type == PT_INTERP && interp == null) {
                // load_elf_binary: the first PT_INTERP names the interpreter, 2..PATH_MAX bytes ending in NUL.
                if (Long.compareUnsigned(p.filesz, 4096) > 0 || Long.compareUnsigned(p.filesz, 2) < 0) {
                    throw new ExecFormatException("bad PT_INTERP: " + Long.toUnsignedString(p.filesz)
                            + " bytes (a path of 2 to 4096 bytes with its NUL)");
                }
                if (!img.contains(p.offset, p.filesz)) {
                    throw new ExecFormatException("truncated ELF file: PT_INTERP is not inside the " + len + "-byte file");
                }
                byte[] b = new byte[(int) p.filesz];
                img.read(p.offset, b, 0, b.length);
                if (b[b.length - 1] != 0) {
                    throw new ExecFormatException("bad PT_INTERP: the interpreter's path is not NUL-terminated");
                }
                int nul = 0;
                while (b[nul] != 0) {
                    nul++;
                }
                interp = new String(b, 0, nul, java.nio.charset.StandardCharsets.UTF_8);
            }
            if (p.type == PT_LOAD) {
                anyLoad = true;
                if (!img.contains(p.offset, p.filesz)) {
                    throw new ExecFormatException("truncated ELF file: segment " + i + " needs bytes "
                            + Long.toUnsignedString(p.offset) + " + " + Long.toUnsignedString(p.filesz) + " but the file has "
                            + len);
                }
                if (Long.compareUnsigned(p.filesz, p.memsz) > 0) {
                    throw new ExecFormatException("bad ELF segment " + i + ": p_filesz > p_memsz");
                }
                if (((p.vaddr - p.offset) & 0xfff) != 0) {
                    throw new ExecFormatException("bad ELF segment " + i + ": p_vaddr and p_offset differ modulo the page size");
                }
                long top = e32 ? TASK_SIZE_32 : (1L << 47) - 4096;
                // vaddr + memsz <= top, unsigned and without the sum: memsz <= top && vaddr <= top - memsz.
                if (Long.compareUnsigned(p.memsz, top) > 0 || Long.compareUnsigned(p.vaddr, top - p.memsz) > 0) {
                    throw new ExecFormatException("bad ELF segment " + i + ": outside the user address space");
                }
            }
        }
        if (!anyLoad) {
            throw new ExecFormatException("ELF file has no PT_LOAD segment");
        }
        return new ElfImage(img, e32, type, entry, phoff, phnum, List.copyOf(phdrs), interp);
    }

    private static String machineName(int m) {
        return switch (m) {
            case 3 -> " (i386)";
            case 40 -> " (ARM)";
            case 183 -> " (AArch64)";
            case 243 -> " (RISC-V)";
            case 8 -> " (MIPS)";
            case 20 -> " (PowerPC)";
            case 21 -> " (PowerPC64)";
            default -> "";
        };
    }
}
