package org.mmulab.gdbstub.target;

import java.util.List;

/** Writes a self-contained gdb target description for a register list (GDB manual, "Target Descriptions"). */
final class TargetXml {
    private TargetXml() {
    }

    static String generate(String architecture, List<RegisterDef> registers) {
        StringBuilder sb = new StringBuilder(8192);
        sb.append("<?xml version=\"1.0\"?>\n");
        sb.append("<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n");
        sb.append("<target version=\"1.0\">\n");
        sb.append("  <architecture>").append(architecture).append("</architecture>\n");
        sb.append("  <osabi>none</osabi>\n");
        String open = null;
        for (RegisterDef r : registers) {
            if (!r.feature().equals(open)) {
                if (open != null) {
                    sb.append("  </feature>\n");
                }
                open = r.feature();
                sb.append("  <feature name=\"").append(open).append("\">\n");
                types(sb, open, architecture.endsWith("64"));
            }
            sb.append("    <reg name=\"").append(r.name()).append("\" bitsize=\"").append(r.bitsize())
                    .append("\" type=\"").append(r.type()).append("\" regnum=\"").append(r.regnum()).append('"');
            if (r.group() != null) {
                sb.append(" group=\"").append(r.group()).append('"');
            }
            sb.append("/>\n");
        }
        if (open != null) {
            sb.append("  </feature>\n");
        }
        sb.append("</target>\n");
        return sb.toString();
    }

    private static void types(StringBuilder sb, String feature, boolean amd64) {
        if (feature.equals(TargetArch.CORE)) {
            flags(sb, "i386_eflags", new String[] {"CF", "0", "", "1", "PF", "2", "AF", "4", "ZF", "6", "SF", "7",
                "TF", "8", "IF", "9", "DF", "10", "OF", "11", "NT", "14", "RF", "16", "VM", "17", "AC", "18",
                "VIF", "19", "VIP", "20", "ID", "21"});
        } else if (feature.equals(TargetArch.SSE)) {
            sb.append("    <vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n");
            sb.append("    <vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n");
            sb.append("    <vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n");
            sb.append("    <vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n");
            sb.append("    <vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n");
            sb.append("    <vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n");
            sb.append("    <union id=\"vec128\">\n");
            String[][] fields = {{"v4_float", "v4f"}, {"v2_double", "v2d"}, {"v16_int8", "v16i8"},
                {"v8_int16", "v8i16"}, {"v4_int32", "v4i32"}, {"v2_int64", "v2i64"}, {"uint128", "uint128"}};
            for (String[] f : fields) {
                sb.append("      <field name=\"").append(f[0]).append("\" type=\"").append(f[1]).append("\"/>\n");
            }
            sb.append("    </union>\n");
            flags(sb, "i386_mxcsr", new String[] {"IE", "0", "DE", "1", "ZE", "2", "OE", "3", "UE", "4", "PE", "5",
                "DAZ", "6", "IM", "7", "DM", "8", "ZM", "9", "OM", "10", "UM", "11", "PM", "12", "FZ", "15"});
        } else if (feature.equals(TargetArch.SYS)) {
            // QEMU's gdb-xml/i386-64bit.xml and i386-32bit.xml flag types, one size per layout.
            String p = amd64 ? "x64_" : "i386_";
            int size = amd64 ? 8 : 4;
            flags(sb, p + "cr0", size, new String[] {"PG", "31", "CD", "30", "NW", "29", "AM", "18", "WP", "16",
                "NE", "5", "ET", "4", "TS", "3", "EM", "2", "MP", "1", "PE", "0"});
            flags(sb, p + "cr3", size, new String[] {"PDBR", "12-" + (size * 8 - 1), "PCID", "0-11"});
            flags(sb, p + "cr4", size, new String[] {"PKE", "22", "SMAP", "21", "SMEP", "20", "OSXSAVE", "18",
                "PCIDE", "17", "FSGSBASE", "16", "SMXE", "14", "VMXE", "13", "LA57", "12", "UMIP", "11",
                "OSXMMEXCPT", "10", "OSFXSR", "9", "PCE", "8", "PGE", "7", "MCE", "6", "PAE", "5", "PSE", "4",
                "DE", "3", "TSD", "2", "PVI", "1", "VME", "0"});
            flags(sb, p + "efer", size, new String[] {"TCE", "15", "FFXSR", "14", "LMSLE", "13", "SVME", "12",
                "NXE", "11", "LMA", "10", "LME", "8", "SCE", "0"});
        }
    }

    private static void flags(StringBuilder sb, String id, String[] nameBit) {
        flags(sb, id, 4, nameBit);
    }

    /** A flags type; each field is a bit ("5") or a range ("12-63"). */
    private static void flags(StringBuilder sb, String id, int size, String[] nameBits) {
        sb.append("    <flags id=\"").append(id).append("\" size=\"").append(size).append("\">\n");
        for (int i = 0; i < nameBits.length; i += 2) {
            String bits = nameBits[i + 1];
            int dash = bits.indexOf('-');
            String start = dash < 0 ? bits : bits.substring(0, dash);
            String end = dash < 0 ? bits : bits.substring(dash + 1);
            sb.append("      <field name=\"").append(nameBits[i]).append("\" start=\"").append(start)
                    .append("\" end=\"").append(end).append("\"/>\n");
        }
        sb.append("    </flags>\n");
    }
}
