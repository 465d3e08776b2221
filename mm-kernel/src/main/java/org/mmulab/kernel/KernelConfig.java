package org.mmulab.kernel;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.Objects;

/**
 * What the kernel is given by the composition root. {@code stdin}/{@code stdout}/{@code stderr} are the
 * guest's fds 0-2; they behave as pipes (ioctl TCGETS gives -ENOTTY, as Linux does on a pipe), so
 * a guest's output is the same whether or not the host stream is a terminal. The kernel's own
 * messages ("Segmentation fault", OOM) also go to {@code stderr}.
 *
 * @param pid    the process id getpid/gettid report (Linux starts user processes above 1; any is fine)
 * @param uid    the uid/gid reported in the auxiliary vector
 * @param hwcap  AT_HWCAP: CPUID.1:EDX of the emulated CPU
 */
public record KernelConfig(InputStream stdin, OutputStream stdout, OutputStream stderr, int pid, int uid, long hwcap) {
    /** CPUID.1:EDX of a Skylake-client-like CPU (FPU..SSE2, HTT bit clear). */
    public static final long DEFAULT_HWCAP = 0x0f8bfbffL;
    public static final int DEFAULT_PID = 1;

    public KernelConfig {
        Objects.requireNonNull(stdin, "stdin");
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
    }

    public KernelConfig(InputStream stdin, OutputStream stdout, OutputStream stderr) {
        this(stdin, stdout, stderr, DEFAULT_PID, 0, DEFAULT_HWCAP);
    }
}
