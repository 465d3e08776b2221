package org.mmulab.gdbstub.target;

/**
 * One register of a target description.
 *
 * @param regnum  gdb's remote register number ({@code p}/{@code P} and position in {@code g})
 * @param name    gdb's name (e.g. {@code rip}, {@code eflags}, {@code fs_base})
 * @param bitsize width in bits
 * @param type    tdesc type ({@code int64}, {@code code_ptr}, {@code i387_ext}, {@code vec128}, ...)
 * @param group   tdesc group, or null
 * @param feature the feature that declares it ({@code org.gnu.gdb.i386.core}, {@code .sse}, {@code .segments})
 */
public record RegisterDef(int regnum, String name, int bitsize, String type, String group, String feature) {
    /** Size in bytes in {@code g}/{@code p} packets. */
    public int bytes() {
        return bitsize / 8;
    }
}
