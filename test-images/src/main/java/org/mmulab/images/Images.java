package org.mmulab.images;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the test-images module's files are, whether the caller runs in the module or at the repository root. */
public final class Images {
    /**
     * Architectures whose images mmulab boots; every suite that boots images (image suite, gdb suite)
     * runs these. i386 images run under PAE (a 32-bit kernel) and under 4-level paging in
     * compatibility mode (a 64-bit kernel).
     */
    public static final java.util.List<String> BOOTABLE_ARCHES = java.util.List.of("x86_64", "i386");

    private Images() {
    }

    /** The test-images module directory (holds images.tsv, bin/, expected/). */
    public static Path moduleDir() {
        Path cwd = Path.of("").toAbsolutePath();
        for (Path p : new Path[] { cwd, cwd.resolve("test-images") }) {
            if (Files.isRegularFile(p.resolve("images.tsv")) && Files.isDirectory(p.resolve("bin"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the test-images module (images.tsv, bin/) from " + cwd);
    }

    /** The prebuilt image {@code name} for {@code arch} ("x86_64", "i386"). */
    public static Path image(String arch, String name) {
        return moduleDir().resolve("bin").resolve(arch).resolve(name);
    }

    /** expected/&lt;arch&gt;/&lt;name&gt;.&lt;suffix&gt; ("stdout" or "status"). */
    public static Path expected(String arch, String name, String suffix) {
        return moduleDir().resolve("expected").resolve(arch).resolve(name + "." + suffix);
    }

    /**
     * The binaries build.sh makes from src/libc/NAME.c for {@code arch}: NAME-glibc (gcc -static) on
     * both architectures; on x86_64 also NAME-glibc-v2 (gcc -static -O3 -march=x86-64-v2) and NAME-musl
     * (musl-gcc -static; Debian's musl-tools has no i386 target).
     */
    public static java.util.Set<String> libcBinaries(String arch) throws java.io.IOException {
        java.util.Set<String> out = new java.util.TreeSet<>();
        Path dir = moduleDir().resolve("src/libc");
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                if (n.endsWith(".c")) {
                    String base = n.substring(0, n.length() - 2);
                    out.add(base + "-glibc");
                    if (arch.equals("x86_64")) {
                        out.add(base + "-glibc-v2");
                        out.add(base + "-musl");
                    }
                }
            }
        }
        return out;
    }

    /** The native register tracer built by build.sh. */
    public static Path regtrace() {
        return moduleDir().resolve("bin/host/regtrace");
    }
}
