package org.mmulab.images.oracle;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The code of a static little-endian ELF executable as the oracle needs it: the bytes at a virtual
 * address (from the PT_LOAD segments' file contents), the entry point, and function names from
 * the symbol table. Independent of mm-kernel's loader on purpose.
 */
public final class ElfCode {
    private record Segment(long vaddr, long filesz, int offset) {
    }

    private final Path path;
    private final byte[] file;
    private final boolean elf64;
    private final long entry;
    private final List<Segment> segments = new ArrayList<>();
    private final TreeMap<Long, String> symbols = new TreeMap<>();
    private final Map<String, Long> symbolSizes = new java.util.HashMap<>();

    private ElfCode(Path path, byte[] file) {
        this.path = path;
        this.file = file;
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        if (file.length < 52 || b.getInt(0) != 0x464c457f) {
            throw new IllegalArgumentException(path + ": not an ELF file");
        }
        elf64 = file[4] == 2;
        if (file[5] != 1) {
            throw new IllegalArgumentException(path + ": not little-endian");
        }
        entry = elf64 ? b.getLong(24) : b.getInt(24) & 0xffffffffL;
        long phoff = elf64 ? b.getLong(32) : b.getInt(28) & 0xffffffffL;
        long shoff = elf64 ? b.getLong(40) : b.getInt(32) & 0xffffffffL;
        int phentsize = b.getShort(elf64 ? 54 : 42) & 0xffff;
        int phnum = b.getShort(elf64 ? 56 : 44) & 0xffff;
        int shentsize = b.getShort(elf64 ? 58 : 46) & 0xffff;
        int shnum = b.getShort(elf64 ? 60 : 48) & 0xffff;
        for (int i = 0; i < phnum; i++) {
            int ph = (int) (phoff + (long) i * phentsize);
            if (b.getInt(ph) != 1) { // PT_LOAD
                continue;
            }
            long off = elf64 ? b.getLong(ph + 8) : b.getInt(ph + 4) & 0xffffffffL;
            long vaddr = elf64 ? b.getLong(ph + 16) : b.getInt(ph + 8) & 0xffffffffL;
            long filesz = elf64 ? b.getLong(ph + 32) : b.getInt(ph + 16) & 0xffffffffL;
            segments.add(new Segment(vaddr, filesz, (int) off));
        }
        for (int i = 0; i < shnum && shoff != 0; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            int type = b.getInt(sh + 4);
            if (type != 2) { // SHT_SYMTAB
                continue;
            }
            long symOff = elf64 ? b.getLong(sh + 24) : b.getInt(sh + 16) & 0xffffffffL;
            long symSize = elf64 ? b.getLong(sh + 32) : b.getInt(sh + 20) & 0xffffffffL;
            int link = b.getInt(elf64 ? sh + 40 : sh + 24);
            long entsize = elf64 ? b.getLong(sh + 56) : b.getInt(sh + 36) & 0xffffffffL;
            int strSh = (int) (shoff + (long) link * shentsize);
            long strOff = elf64 ? b.getLong(strSh + 24) : b.getInt(strSh + 16) & 0xffffffffL;
            for (long s = symOff; s + entsize <= symOff + symSize; s += entsize) {
                int si = (int) s;
                int name = b.getInt(si);
                int info = elf64 ? file[si + 4] & 0xff : file[si + 12] & 0xff;
                long value = elf64 ? b.getLong(si + 8) : b.getInt(si + 4) & 0xffffffffL;
                long size = elf64 ? b.getLong(si + 16) : b.getInt(si + 8) & 0xffffffffL;
                if ((info & 0xf) != 2 || value == 0) { // STT_FUNC
                    continue;
                }
                String n = cString((int) (strOff + name));
                symbols.put(value, n);
                symbolSizes.put(n, size);
            }
        }
        // _start is defined in top-level asm and may lack STT_FUNC: name the entry anyway
        symbols.putIfAbsent(entry, "_start");
    }

    public static ElfCode load(Path path) throws IOException {
        return new ElfCode(path, Files.readAllBytes(path));
    }

    public Path path() {
        return path;
    }

    public boolean is64() {
        return elf64;
    }

    public long entry() {
        return entry;
    }

    /** Up to {@code n} bytes at {@code va} from the file image; empty when the address is not file-backed. */
    public byte[] bytesAt(long va, int n) {
        for (Segment s : segments) {
            if (va >= s.vaddr && va < s.vaddr + s.filesz) {
                int len = (int) Math.min(n, s.vaddr + s.filesz - va);
                byte[] out = new byte[len];
                System.arraycopy(file, (int) (s.offset + (va - s.vaddr)), out, 0, len);
                return out;
            }
        }
        return new byte[0];
    }

    /** "function+0xoff" for a code address, or "?" outside every known function. */
    public String symbolize(long va) {
        Map.Entry<Long, String> e = symbols.floorEntry(va);
        if (e == null) {
            return "?";
        }
        long size = symbolSizes.getOrDefault(e.getValue(), 0L);
        long off = va - e.getKey();
        if (size != 0 && off >= size) {
            return "?";
        }
        return off == 0 ? e.getValue() : e.getValue() + "+0x" + Long.toHexString(off);
    }

    private String cString(int off) {
        int end = off;
        while (end < file.length && file[end] != 0) {
            end++;
        }
        return new String(file, off, end - off, StandardCharsets.ISO_8859_1);
    }
}
