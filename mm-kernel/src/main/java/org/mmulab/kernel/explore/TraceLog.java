package org.mmulab.kernel.explore;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.mmulab.emulator.machine.ScheduleRecorder;
import org.mmulab.emulator.machine.YieldKind;

/**
 * {@code --replay SEED --trace}: every scheduling decision of a run with the kernel functions the
 * yielding vCPU was in (its Java stack, kernel frames only, in Linux's snake_case: the port names its
 * methods after the Linux functions). Costs a stack walk per yield point: replay only.
 */
public final class TraceLog implements ScheduleRecorder {
    /** One decision: vCPU {@code vcpu} reached yield {@code index} doing {@code kind}, then {@code next} ran. */
    public record Entry(long index, int vcpu, YieldKind kind, int next, String where) {
    }

    private final List<Entry> entries = new ArrayList<>();

    @Override
    public void yielded(long yieldIndex, int vcpu, YieldKind kind, int next) {
        entries.add(new Entry(yieldIndex, vcpu, kind, next, where()));
    }

    public List<Entry> entries() {
        return entries;
    }

    private static String where() {
        StringBuilder b = new StringBuilder();
        int n = 0;
        String last = null;
        for (StackTraceElement f : Thread.currentThread().getStackTrace()) {
            String c = f.getClassName();
            boolean kernel = c.startsWith("org.mmulab.kernel.mm.") && !c.endsWith(".CycleCharge") && !c.endsWith(".LockWait");
            boolean body = c.startsWith("org.mmulab.kernel.explore.") && !c.endsWith(".TraceLog") && !c.endsWith(".ExploreRig")
                    && !c.endsWith(".BodyRig") && !c.contains(".BodyRig$");
            if (!kernel && !body && !c.endsWith(".Mmu") && !c.endsWith(".PageWalker")) {
                continue;
            }
            String m = body ? "[" + simple(c) + "]" : linuxName(f.getMethodName());
            if (m.equals(last)) {
                continue;
            }
            last = m;
            if (n > 0) {
                b.append(" < ");
            }
            b.append(m);
            if (++n == 4 || body) {
                break;
            }
        }
        return b.toString();
    }

    private static String simple(String cls) {
        String s = cls.substring(cls.lastIndexOf('.') + 1);
        int d = s.indexOf('$');
        return d < 0 ? s : s.substring(0, d);
    }

    /** handlePteFault -> handle_pte_fault; lambdas keep their enclosing method's name. */
    static String linuxName(String method) {
        String m = method;
        if (m.startsWith("lambda$")) {
            int e = m.indexOf('$', 7);
            m = m.substring(7, e < 0 ? m.length() : e);
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < m.length(); i++) {
            char ch = m.charAt(i);
            if (Character.isUpperCase(ch)) {
                if (i > 0) {
                    b.append('_');
                }
                b.append(Character.toLowerCase(ch));
            } else {
                b.append(ch);
            }
        }
        return b.toString().toLowerCase(Locale.ROOT);
    }

    /**
     * The interleaving before yield {@code upTo}: at most {@code lines} lines, consecutive decisions of
     * one vCPU in one place folded into one line with a count.
     */
    public List<String> render(long upTo, int lines) {
        List<String> out = new ArrayList<>();
        int i = entries.size() - 1;
        while (i >= 0 && entries.get(i).index() > upTo) {
            i--;
        }
        while (i >= 0 && out.size() < lines) {
            Entry e = entries.get(i);
            int j = i;
            while (j > 0 && entries.get(j - 1).vcpu() == e.vcpu() && entries.get(j - 1).where().equals(e.where())
                    && entries.get(j - 1).next() == e.vcpu()) {
                j--;
            }
            Entry first = entries.get(j);
            String kinds = j == i ? e.kind().toString() : (i - j + 1) + " yields, last " + e.kind();
            String hand = e.next() == e.vcpu() ? "" : e.next() < 0 ? "  -> (none)" : "  -> vCPU " + e.next();
            out.add(0, String.format("%7d  vCPU %d  %-28s %s%s", first.index(), e.vcpu(), kinds, e.where(), hand));
            i = j - 1;
        }
        return out;
    }
}
