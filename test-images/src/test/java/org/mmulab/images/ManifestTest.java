package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/** The manifest, the sources, the prebuilt binaries and the recorded outputs agree with each other. */
class ManifestTest {
    /** Every architecture with a bin/ directory (x86_64 always; i386 when built); not host/ nor dynamic/. */
    static List<String> arches() throws IOException {
        try (Stream<Path> s = Files.list(Images.moduleDir().resolve("bin"))) {
            List<String> a = s.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(n -> !n.equals("host") && !n.equals("dynamic")).sorted().toList();
            assertTrue(a.contains("x86_64"), "bin/x86_64 exists");
            return a;
        }
    }

    private static Set<String> names(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(suffix))
                    .map(n -> n.substring(0, n.length() - suffix.length())).collect(Collectors.toSet());
        }
    }

    @Test
    void everySourceIsBuiltAndBootedAndEveryBinaryHasASource() throws IOException {
        ImageManifest m = ImageManifest.load();
        Path module = Images.moduleDir();
        Set<String> sources = names(module.resolve("src/images"), ".c");
        Set<String> inManifest = m.entries().stream().map(ImageManifest.Entry::image).collect(Collectors.toSet());
        Set<String> all = new java.util.TreeSet<>(sources);
        all.addAll(Images.libcBinaries("x86_64"));
        assertEquals(all, inManifest, "every image has a manifest entry and every entry an image");
        for (String arch : arches()) {
            Set<String> binaries = names(module.resolve("bin").resolve(arch), "");
            Set<String> built = new java.util.TreeSet<>(sources);
            built.addAll(Images.libcBinaries(arch));
            assertEquals(built, binaries, "src/images/*.c, src/libc/*.c and bin/" + arch + "/ (run build.sh --arch " + arch + ")");
            for (String b : binaries) {
                assertTrue(Files.isExecutable(module.resolve("bin").resolve(arch).resolve(b)), b + " is executable");
            }
        }
        assertTrue(Files.isExecutable(Images.regtrace()), "bin/host/regtrace");
    }

    @Test
    void everyEntryHasRecordedOutputMatchingItsStatus() throws IOException {
        for (String arch : arches()) {
            checkRecordings(arch);
        }
    }

    private static void checkRecordings(String arch) throws IOException {
        for (ImageManifest.Entry e : ImageManifest.load().entries()) {
            if (!e.appliesTo(arch)) {
                continue;
            }
            Path status = Images.expected(arch, e.name(), "status");
            Path stdout = Images.expected(arch, e.name(), "stdout");
            assertTrue(Files.isRegularFile(status) && Files.isRegularFile(stdout),
                    e.name() + ": run build.sh --record (missing " + status + " or " + stdout + ")");
            assertEquals(e.status(), Integer.parseInt(Files.readString(status).trim()),
                    arch + "/" + e.name() + ": the native run's status differs from the manifest");
        }
    }

    @Test
    void parsesFieldsAndRejectsMalformedLines() {
        ImageManifest m = ImageManifest.parse(List.of("# comment", "",
                "hello\t*\t0\tstdout\ta  b -t\tK=V X=a=b",
                "fault_touch@small\tx86_64,i386\t139\tstatus\t-\t-"), "t");
        assertEquals(2, m.entries().size());
        ImageManifest.Entry h = m.entries().get(0);
        assertEquals(List.of("a", "b", "-t"), h.args());
        assertEquals(List.of("K=V", "X=a=b"), h.env());
        assertTrue(h.appliesTo("i386"));
        ImageManifest.Entry f = m.entries().get(1);
        assertEquals("fault_touch", f.image());
        assertEquals(ImageManifest.Check.STATUS, f.check());
        assertEquals(139, f.status());
        assertTrue(f.appliesTo("i386"));

        assertThrows(IllegalArgumentException.class, () -> ImageManifest.parse(List.of("hello\t*\t0\tstdout\t-"), "t"));
        assertThrows(IllegalArgumentException.class, () -> ImageManifest.parse(List.of("hello\t*\tzero\tstdout\t-\t-"), "t"));
        assertThrows(IllegalArgumentException.class, () -> ImageManifest.parse(List.of("hello\t*\t0\tbytes\t-\t-"), "t"));
        assertThrows(IllegalArgumentException.class, () -> ImageManifest.parse(List.of("hello\t*\t0\tstdout\t-\tNOEQUALS"), "t"));
        assertThrows(IllegalArgumentException.class,
                () -> ImageManifest.parse(List.of("hello\t*\t0\tstdout\t-\t-", "hello\t*\t0\tstdout\ta\t-"), "t"));
    }
}
