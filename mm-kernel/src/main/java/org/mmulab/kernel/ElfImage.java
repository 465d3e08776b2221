package org.mmulab.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A parsed static ELF64 x86-64 or ELF32 i386 executable (fs/binfmt_elf.c, and compat_binfmt_elf.c's
 * Elf32 types for i386): the checks fs/binfmt_elf.c load_elf_binary makes before it
 * maps anything (elf_check_arch, e_phentsize, program headers inside the file, PT_LOAD sanity), plus
 * mmulab's own limit: no PT_INTERP (dynamic executables need a loader mmulab does not provide).
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

    public final byte[] data;
    public final int type;
    public final long entry;
    public final long phoff;
    public final int phnum;
    public final List<Phdr> phdrs;
    /** ELFCLASS32 (i386): a 32-bit program. */
    public final boolean elf32;

    private ElfImage(byte[] data, boolean elf32, int type, long entry, long phoff, int phnum, List<Phdr> phdrs) {
        this.data = data;
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
        if (img.length < 4 || img[0] != 0x7f || img[1] != 'E' || img[2] != 'L' || img[3] != 'F') {
            throw new ExecFormatException("not an ELF file (bad magic)");
        }
        if (img.length < 16) {
            throw new ExecFormatException("truncated ELF file: " + img.length + " bytes, shorter than the ELF identification");
        }
        int cls = img[4];
        if (cls != 1 && cls != 2) {
            throw new ExecFormatException("wrong ELF class " + cls + ", expected ELF64 (2) or ELF32 (1)");
        }
        boolean e32 = cls == 1;
        if (img[5] != 1) {
            throw new ExecFormatException("wrong ELF data encoding " + img[5] + ", expected little-endian (1)");
        }
        int ehdrSize = e32 ? EHDR32_SIZE : EHDR_SIZE;
        int phdrSize = e32 ? PHDR32_SIZE : PHDR_SIZE;
        if (img.length < ehdrSize) {
            throw new ExecFormatException("truncated ELF file: " + img.length + " bytes, shorter than the " + ehdrSize
                    + "-byte ELF header");
        }
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.getShort(16) & 0xffff;
        int machine = b.getShort(18) & 0xffff;
        int wantMachine = e32 ? EM_386 : EM_X86_64;
        if (machine != wantMachine) {
            throw new ExecFormatException("wrong machine: e_machine " + machine + machineName(machine)
                    + (e32 ? ", expected i386 (3) for ELF32" : ", expected x86-64 (62)"));
        }
        if (type != ET_EXEC && type != ET_DYN) {
            throw new ExecFormatException("not an executable: e_type " + type + (type == 1 ? " (relocatable object)" : type == 4 ? " (core dump)" : ""));
        }
        long entry = e32 ? b.getInt(24) & 0xffff_ffffL : b.getLong(24);
        long phoff = e32 ? b.getInt(28) & 0xffff_ffffL : b.getLong(32);
        int phentsize = b.getShort(e32 ? 42 : 54) & 0xffff;
        int phnum = b.getShort(e32 ? 44 : 56) & 0xffff;
        if (phentsize != phdrSize) {
            throw new ExecFormatException("bad ELF header: e_phentsize " + phentsize + ", expected " + phdrSize);
        }
        if (phnum < 1 || phnum > 65536 / phdrSize) {
            throw new ExecFormatException("bad ELF header: e_phnum " + phnum);
        }
        if (phoff < 0 || phoff + (long) phnum * phdrSize > img.length) {
            throw new ExecFormatException("truncated ELF file: program headers end at " + (phoff + (long) phnum * phdrSize)
                    + " but the file has " + img.length + " bytes");
        }
        List<Phdr> phdrs = new ArrayList<>();
        boolean anyLoad = false;
        for (int i = 0; i < phnum; i++) {
            int o = (int) (phoff + (long) i * phdrSize);
            Phdr p = e32
                    ? new Phdr(b.getInt(o), b.getInt(o + 24), u32(b, o + 4), u32(b, o + 8), u32(b, o + 16), u32(b, o + 20),
                            u32(b, o + 28))
                    : new Phdr(b.getInt(o), b.getInt(o + 4), b.getLong(o + 8), b.getLong(o + 16), b.getLong(o + 32),
                            b.getLong(o + 40), b.getLong(o + 48));
            phdrs.add(p);
            if (p.type == PT_INTERP) {
                String interp = "";
                if (p.offset >= 0 && p.filesz > 0 && p.offset + p.filesz <= img.length && p.filesz < 4096) {
                    interp = new String(img, (int) p.offset, (int) p.filesz - 1, java.nio.charset.StandardCharsets.ISO_8859_1);
                }
                throw new ExecFormatException("dynamically linked executable (PT_INTERP" + (interp.isEmpty() ? "" : " " + interp)
                        + ") is not supported; link it with -static");
            }
            if (p.type == PT_LOAD) {
                anyLoad = true;
                if (p.filesz < 0 || p.offset < 0 || p.offset + p.filesz > img.length || p.offset + p.filesz < p.offset) {
                    throw new ExecFormatException("truncated ELF file: segment " + i + " needs bytes up to "
                            + Long.toUnsignedString(p.offset + p.filesz) + " but the file has " + img.length);
                }
                if (Long.compareUnsigned(p.filesz, p.memsz) > 0) {
                    throw new ExecFormatException("bad ELF segment " + i + ": p_filesz > p_memsz");
                }
                if (((p.vaddr - p.offset) & 0xfff) != 0) {
                    throw new ExecFormatException("bad ELF segment " + i + ": p_vaddr and p_offset differ modulo the page size");
                }
                long end = p.vaddr + p.memsz;
                if (p.vaddr < 0 || end < p.vaddr || end > (e32 ? TASK_SIZE_32 : (1L << 47) - 4096)) {
                    throw new ExecFormatException("bad ELF segment " + i + ": outside the user address space");
                }
            }
        }
        if (!anyLoad) {
            throw new ExecFormatException("ELF file has no PT_LOAD segment");
        }
        return new ElfImage(img, e32, type, entry, phoff, phnum, List.copyOf(phdrs));
    }

    private static long u32(ByteBuffer b, int o) {
        return b.getInt(o) & 0xffff_ffffL;
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
