package org.mmulab.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A parsed static ELF64 x86-64 executable: the checks fs/binfmt_elf.c load_elf_binary makes before it
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
    static final int EHDR_SIZE = 64, PHDR_SIZE = 56;

    /** One program header (Elf64_Phdr). */
    public record Phdr(int type, int flags, long offset, long vaddr, long filesz, long memsz, long align) {
    }

    public final byte[] data;
    public final int type;
    public final long entry;
    public final long phoff;
    public final int phnum;
    public final List<Phdr> phdrs;

    private ElfImage(byte[] data, int type, long entry, long phoff, int phnum, List<Phdr> phdrs) {
        this.data = data;
        this.type = type;
        this.entry = entry;
        this.phoff = phoff;
        this.phnum = phnum;
        this.phdrs = phdrs;
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
        if (cls == 1) {
            int machine = img.length >= 20 ? (img[18] & 0xff) | (img[19] & 0xff) << 8 : -1;
            throw new ExecFormatException("wrong ELF class: ELF32" + (machine == EM_386 ? " (i386)" : "")
                    + ", expected ELF64 x86-64");
        }
        if (cls != 2) {
            throw new ExecFormatException("wrong ELF class " + cls + ", expected ELF64 (2)");
        }
        if (img[5] != 1) {
            throw new ExecFormatException("wrong ELF data encoding " + img[5] + ", expected little-endian (1)");
        }
        if (img.length < EHDR_SIZE) {
            throw new ExecFormatException("truncated ELF file: " + img.length + " bytes, shorter than the 64-byte ELF header");
        }
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.getShort(16) & 0xffff;
        int machine = b.getShort(18) & 0xffff;
        if (machine != EM_X86_64) {
            throw new ExecFormatException("wrong machine: e_machine " + machine + machineName(machine)
                    + ", expected x86-64 (62)");
        }
        if (type != ET_EXEC && type != ET_DYN) {
            throw new ExecFormatException("not an executable: e_type " + type + (type == 1 ? " (relocatable object)" : type == 4 ? " (core dump)" : ""));
        }
        long entry = b.getLong(24);
        long phoff = b.getLong(32);
        int phentsize = b.getShort(54) & 0xffff;
        int phnum = b.getShort(56) & 0xffff;
        if (phentsize != PHDR_SIZE) {
            throw new ExecFormatException("bad ELF header: e_phentsize " + phentsize + ", expected 56");
        }
        if (phnum < 1 || phnum > 65536 / PHDR_SIZE) {
            throw new ExecFormatException("bad ELF header: e_phnum " + phnum);
        }
        if (phoff < 0 || phoff + (long) phnum * PHDR_SIZE > img.length) {
            throw new ExecFormatException("truncated ELF file: program headers end at " + (phoff + (long) phnum * PHDR_SIZE)
                    + " but the file has " + img.length + " bytes");
        }
        List<Phdr> phdrs = new ArrayList<>();
        boolean anyLoad = false;
        for (int i = 0; i < phnum; i++) {
            int o = (int) (phoff + (long) i * PHDR_SIZE);
            Phdr p = new Phdr(b.getInt(o), b.getInt(o + 4), b.getLong(o + 8), b.getLong(o + 16), b.getLong(o + 32),
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
                if (p.vaddr < 0 || end < p.vaddr || end > (1L << 47) - 4096) {
                    throw new ExecFormatException("bad ELF segment " + i + ": outside the user address space");
                }
            }
        }
        if (!anyLoad) {
            throw new ExecFormatException("ELF file has no PT_LOAD segment");
        }
        return new ElfImage(img, type, entry, phoff, phnum, List.copyOf(phdrs));
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
