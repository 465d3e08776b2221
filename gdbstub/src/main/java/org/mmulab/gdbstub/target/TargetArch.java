package org.mmulab.gdbstub.target;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two register layouts the stub offers, built from gdb's standard x86 features (gdb/features/i386/
 * 64bit-core, 64bit-sse, 64bit-segments; 32bit-core, 32bit-sse, 32bit-segments) without the Linux feature
 * ({@code orig_rax}), plus the system registers QEMU's stub shows (gdb-xml/i386-64bit.xml, i386-32bit.xml: the same
 * names and flag types), here in a feature of their own, {@code org.gnu.gdb.i386.sys}, which gdb adds as extra
 * registers ({@code p $cr3}, {@code info registers cr0}). The {@code target.xml} describing them has
 * {@code <osabi>none</osabi>}.
 *
 * <p>AMD64: rax..r15 (0-15), rip 16, eflags 17, cs ss ds es fs gs (18-23), st0-7 (24-31), fctrl..fop (32-39),
 * xmm0-15 (40-55), mxcsr 56, fs_base 57, gs_base 58, k_gs_base 59, cr0 60, cr2 61, cr3 62, cr4 63, cr8 64, efer 65
 * (all 64-bit). I386: eax ecx edx ebx esp ebp esi edi (0-7), eip 8, eflags 9, cs..gs (10-15), st0-7 (16-23),
 * fctrl..fop (24-31), xmm0-7 (32-39), mxcsr 40, fs_base 41, gs_base 42, cr0 43, cr2 44, cr3 45, cr4 46, cr8 47,
 * efer 48 (all 32-bit, as QEMU sends them outside 64-bit code). Numbers are the same in {@code g}/{@code G} order and
 * in {@code p}/{@code P}.
 */
public enum TargetArch {
    AMD64("i386:x86-64", 64),
    I386("i386", 32);

    public static final String CORE = "org.gnu.gdb.i386.core";
    public static final String SSE = "org.gnu.gdb.i386.sse";
    public static final String SEGMENTS = "org.gnu.gdb.i386.segments";
    /** Control registers, EFER and KERNEL_GS_BASE (QEMU's names and types). */
    public static final String SYS = "org.gnu.gdb.i386.sys";

    private final String gdbArchitecture;
    private final int wordBits;
    private final List<RegisterDef> registers;
    private final Map<String, RegisterDef> byName;
    private final int gBytes;
    private final String xml;

    TargetArch(String gdbArchitecture, int wordBits) {
        this.gdbArchitecture = gdbArchitecture;
        this.wordBits = wordBits;
        this.registers = Collections.unmodifiableList(build(wordBits == 64));
        Map<String, RegisterDef> m = new LinkedHashMap<>();
        int total = 0;
        for (RegisterDef r : registers) {
            m.put(r.name(), r);
            total += r.bytes();
        }
        this.byName = Collections.unmodifiableMap(m);
        this.gBytes = total;
        this.xml = TargetXml.generate(gdbArchitecture, registers);
    }

    private static List<RegisterDef> build(boolean amd64) {
        List<RegisterDef> r = new ArrayList<>();
        String[] gprs = amd64
                ? new String[] {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
                        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
                : new String[] {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
        int w = amd64 ? 64 : 32;
        for (String g : gprs) {
            boolean ptr = g.endsWith("sp") || g.endsWith("bp");
            add(r, g, w, ptr ? "data_ptr" : (amd64 ? "int64" : "int32"), null, CORE);
        }
        add(r, amd64 ? "rip" : "eip", w, "code_ptr", null, CORE);
        add(r, "eflags", 32, "i386_eflags", null, CORE);
        for (String s : new String[] {"cs", "ss", "ds", "es", "fs", "gs"}) {
            add(r, s, 32, "int32", null, CORE);
        }
        for (int i = 0; i < 8; i++) {
            add(r, "st" + i, 80, "i387_ext", null, CORE);
        }
        for (String f : new String[] {"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"}) {
            add(r, f, 32, "int", "float", CORE);
        }
        for (int i = 0; i < (amd64 ? 16 : 8); i++) {
            add(r, "xmm" + i, 128, "vec128", null, SSE);
        }
        add(r, "mxcsr", 32, "i386_mxcsr", "vector", SSE);
        add(r, "fs_base", w, "int", null, SEGMENTS);
        add(r, "gs_base", w, "int", null, SEGMENTS);
        String p = amd64 ? "x64_" : "i386_";
        if (amd64) {
            add(r, "k_gs_base", 64, "int64", null, SYS);
        }
        String word = amd64 ? "int64" : "int32";
        add(r, "cr0", w, p + "cr0", "system", SYS);
        add(r, "cr2", w, word, "system", SYS);
        add(r, "cr3", w, p + "cr3", "system", SYS);
        add(r, "cr4", w, p + "cr4", "system", SYS);
        add(r, "cr8", w, word, "system", SYS);
        add(r, "efer", w, p + "efer", "system", SYS);
        return r;
    }

    private static void add(List<RegisterDef> r, String name, int bits, String type, String group, String feature) {
        r.add(new RegisterDef(r.size(), name, bits, type, group, feature));
    }

    /** gdb's BFD architecture name: {@code i386:x86-64} or {@code i386}. */
    public String gdbArchitecture() {
        return gdbArchitecture;
    }

    /** Address and general-register width: 64 or 32. */
    public int wordBits() {
        return wordBits;
    }

    /** Registers in remote-number order. */
    public List<RegisterDef> registers() {
        return registers;
    }

    /** Register {@code regnum}, or null if out of range. */
    public RegisterDef register(int regnum) {
        return regnum >= 0 && regnum < registers.size() ? registers.get(regnum) : null;
    }

    /** Register by gdb name, or null. */
    public RegisterDef register(String name) {
        return byName.get(name);
    }

    /** The program counter ({@code rip}/{@code eip}). */
    public RegisterDef pc() {
        return registers.get(this == AMD64 ? 16 : 8);
    }

    /** Length in bytes of the register block in {@code g}/{@code G}. */
    public int gPacketBytes() {
        return gBytes;
    }

    /** The complete {@code target.xml} (single document, no includes). */
    public String targetXml() {
        return xml;
    }
}
