package org.mmulab.gdbstub.protocol;

import org.mmulab.gdbstub.codec.Hex;
import org.mmulab.gdbstub.target.StopEvent;

/** Stop reply packets (GDB manual, "Stop Reply Packets") for the stop events of a {@link GdbSession}. */
final class StopReplies {
    private StopReplies() {
    }

    /**
     * The reply for {@code ev}: {@code W}/{@code X} when the debuggee is gone, else {@code T} with the signal, the
     * breakpoint kind (only what gdb said it supports) or watchpoint address, and {@code thread}.
     */
    static String of(StopEvent ev, boolean swbreak, boolean hwbreak, int thread) {
        StringBuilder sb = new StringBuilder(40);
        switch (ev.reason()) {
            case EXITED -> {
                sb.append('W');
                Hex.appendByte(sb, ev.signal());
                return sb.toString();
            }
            case TERMINATED -> {
                sb.append('X');
                Hex.appendByte(sb, ev.signal());
                return sb.toString();
            }
            default -> {
                sb.append('T');
                Hex.appendByte(sb, ev.signal());
            }
        }
        switch (ev.reason()) {
            case SOFTWARE_BREAKPOINT -> sb.append(swbreak ? "swbreak:;" : "");
            case HARDWARE_BREAKPOINT -> sb.append(hwbreak ? "hwbreak:;" : "");
            case WRITE_WATCHPOINT -> sb.append("watch:").append(Hex.number(ev.address())).append(';');
            case READ_WATCHPOINT -> sb.append("rwatch:").append(Hex.number(ev.address())).append(';');
            case ACCESS_WATCHPOINT -> sb.append("awatch:").append(Hex.number(ev.address())).append(';');
            default -> { }
        }
        sb.append("thread:").append(Hex.number(thread)).append(';');
        return sb.toString();
    }
}
