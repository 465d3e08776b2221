package org.mmulab.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Builds small static ELF64 x86-64 executables byte by byte, as a linker would lay them out. */
final class TestElf {
    record Seg(int type, long vaddr, int flags, byte[] bytes, long memsz) {
    }

    private final List<Seg> segs = new ArrayList<>();
    private long entry = 0x401000;
    private int machine = ElfImage.EM_X86_64;
    private int elfClass = 2;
    private int type = ElfImage.ET_EXEC;

    TestElf entry(long e) {
        entry = e;
        return this;
    }

    TestElf machine(int m) {
        machine = m;
        return this;
    }

    TestElf elfClass(int c) {
        elfClass = c;
        return this;
    }

    TestElf type(int t) {
        type = t;
        return this;
    }

    TestElf load(long vaddr, int flags, byte[] bytes, long memsz) {
        segs.add(new Seg(ElfImage.PT_LOAD, vaddr, flags, bytes, memsz));
        return this;
    }

    TestElf interp(String path) {
        byte[] b = (path + "\0").getBytes();
        segs.add(new Seg(ElfImage.PT_INTERP, 0, ElfImage.PF_R, b, b.length));
        return this;
    }

    /** A typical static layout: headers+code in R-X at 0x400000/0x401000, data RW- with bss. */
    static TestElf standard(byte[] code, byte[] data, long bssBytes) {
        return new TestElf().load(0x400000, ElfImage.PF_R, new byte[0], 0)
                .load(0x401000, ElfImage.PF_R | ElfImage.PF_X, code, code.length)
                .load(0x403000 + 0x10, ElfImage.PF_R | ElfImage.PF_W, data, data.length + bssBytes);
    }

    /** An ELF32 i386 image (Elf32_Ehdr 52 bytes, Elf32_Phdr 32 bytes) with the same segment layout. */
    static TestElf standard32(byte[] code, byte[] data, long bssBytes) {
        TestElf t = standard(code, data, bssBytes);
        t.elfClass = 1;
        t.machine = ElfImage.EM_386;
        return t;
    }

    private byte[] build32() {
        int phnum = segs.size();
        int hdr = 52 + 32 * phnum;
        long[] offs = new long[phnum];
        long cur = hdr;
        for (int i = 0; i < phnum; i++) {
            Seg s = segs.get(i);
            if (s.type == ElfImage.PT_LOAD && i == 0 && s.vaddr % 4096 == 0) {
                offs[i] = 0;
                continue;
            }
            long want = s.type == ElfImage.PT_LOAD ? s.vaddr & 4095 : cur & 4095;
            long o = (cur & ~4095L) + want;
            if (o < cur) {
                o += 4096;
            }
            offs[i] = o;
            cur = o + s.bytes.length;
        }
        long size = Math.max(cur, hdr);
        ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 1, 1, 1, 0});
        b.putShort(16, (short) type);
        b.putShort(18, (short) machine);
        b.putInt(20, 1);
        b.putInt(24, (int) entry);
        b.putInt(28, 52);
        b.putInt(32, 0);
        b.putShort(40, (short) 52);
        b.putShort(42, (short) 32);
        b.putShort(44, (short) phnum);
        for (int i = 0; i < phnum; i++) {
            Seg s = segs.get(i);
            int o = 52 + 32 * i;
            long filesz = s.bytes.length;
            long memsz = s.memsz;
            if (i == 0 && offs[i] == 0 && s.type == ElfImage.PT_LOAD) {
                filesz = hdr;
                memsz = Math.max(memsz, hdr);
            }
            b.putInt(o, s.type);
            b.putInt(o + 4, (int) offs[i]);
            b.putInt(o + 8, (int) s.vaddr);
            b.putInt(o + 12, (int) s.vaddr);
            b.putInt(o + 16, (int) filesz);
            b.putInt(o + 20, (int) memsz);
            b.putInt(o + 24, s.flags);
            b.putInt(o + 28, 4096);
            if (!(i == 0 && offs[i] == 0)) {
                b.position((int) offs[i]);
                b.put(s.bytes);
            }
        }
        return b.array();
    }

    byte[] build() {
        if (elfClass == 1 && machine == ElfImage.EM_386) {
            return build32();
        }
        int phnum = segs.size();
        int hdr = 64 + 56 * phnum;
        // File offsets: the first PT_LOAD at 0x400000 covers the headers (offset 0); others follow,
        // each placed so that offset % 4096 == vaddr % 4096.
        long[] offs = new long[phnum];
        long cur = hdr;
        for (int i = 0; i < phnum; i++) {
            Seg s = segs.get(i);
            if (s.type == ElfImage.PT_LOAD && i == 0 && s.vaddr % 4096 == 0) {
                offs[i] = 0;
                continue;
            }
            long want = s.type == ElfImage.PT_LOAD ? s.vaddr & 4095 : cur & 4095;
            long o = (cur & ~4095L) + want;
            if (o < cur) {
                o += 4096;
            }
            offs[i] = o;
            cur = o + s.bytes.length;
        }
        long size = Math.max(cur, hdr);
        ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) elfClass, 1, 1, 0});
        b.putShort(16, (short) type);
        b.putShort(18, (short) machine);
        b.putInt(20, 1);
        b.putLong(24, entry);
        b.putLong(32, 64);
        b.putLong(40, 0);
        b.putShort(52, (short) 64);
        b.putShort(54, (short) 56);
        b.putShort(56, (short) phnum);
        for (int i = 0; i < phnum; i++) {
            Seg s = segs.get(i);
            int o = 64 + 56 * i;
            long filesz = s.bytes.length;
            long memsz = s.memsz;
            if (i == 0 && offs[i] == 0 && s.type == ElfImage.PT_LOAD) {
                filesz = hdr;
                memsz = Math.max(memsz, hdr);
            }
            b.putInt(o, s.type);
            b.putInt(o + 4, s.flags);
            b.putLong(o + 8, offs[i]);
            b.putLong(o + 16, s.vaddr);
            b.putLong(o + 24, s.vaddr);
            b.putLong(o + 32, filesz);
            b.putLong(o + 40, memsz);
            b.putLong(o + 48, 4096);
            if (!(i == 0 && offs[i] == 0)) {
                b.position((int) offs[i]);
                b.put(s.bytes);
            }
        }
        return b.array();
    }
}
