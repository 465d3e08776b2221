package org.mmulab.kernel;

/**
 * struct sigpending (include/linux/signal_types.h, Linux 6.x): one per thread (signals sent to that
 * thread: tkill, tgkill, faults) and one per process in {@link SignalStruct} (shared_pending: kill,
 * SIGCHLD), which any thread of the process that does not block the signal dequeues. One bit per
 * signal with the info of the first send, as for non-realtime signals: a second send while pending is
 * merged (legacy_queue). Guarded by {@link Sched}'s lock.
 */
final class SigPending {
    /** The pending set, bit sig - 1. */
    long signal;
    private final KSiginfo[] info = new KSiginfo[Task.NSIG + 1];

    static long bit(int sig) {
        return 1L << (sig - 1);
    }

    /** __send_signal's legacy_queue test + sigaddset: false when {@code sig} was already pending. */
    boolean add(KSiginfo si) {
        if ((signal & bit(si.signo())) != 0) {
            return false;
        }
        signal |= bit(si.signo());
        info[si.signo()] = si;
        return true;
    }

    /** The lowest-numbered pending signal in {@code mask} (next_signal), or 0. */
    int next(long mask) {
        long m = signal & mask;
        return m == 0 ? 0 : Long.numberOfTrailingZeros(m) + 1;
    }

    /** collect_signal: takes {@code sig} off the set and returns its info. */
    KSiginfo take(int sig) {
        signal &= ~bit(sig);
        KSiginfo si = info[sig];
        info[sig] = null;
        return si;
    }

    /** flush_sigqueue_mask: drops the signals in {@code mask} (a handler set to SIG_IGN, SIGCONT vs stops). */
    void flush(long mask) {
        for (long m = signal & mask; m != 0; m &= m - 1) {
            take(Long.numberOfTrailingZeros(m) + 1);
        }
    }
}
