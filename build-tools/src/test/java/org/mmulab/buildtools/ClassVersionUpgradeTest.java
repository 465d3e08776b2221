package org.mmulab.buildtools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.objectweb.asm.ClassReader;

import picocli.CommandLine;

/**
 * {@link ClassVersionUpgrade} on the two Java 5 libraries the CLI jar ships: every old class comes out version 52 and
 * passes the JVM's type-checking verifier wherever the original passed the old one (each class is loaded, linked and
 * initialised in a loader of its own jar), and the rewritten picocli still parses a command line.
 */
class ClassVersionUpgradeTest {
    @TempDir
    Path tmp;

    @Test
    void picocliComesOutVersion52AndVerifies() throws Exception {
        checkUpgrade(jarOf(CommandLine.class));
    }

    @Test
    void asmComesOutVersion52AndVerifies() throws Exception {
        checkUpgrade(jarOf(ClassReader.class));
    }

    @Test
    void theRewrittenPicocliParsesACommandLine() throws Exception {
        Path jar = copy(jarOf(CommandLine.class));
        assertTrue(ClassVersionUpgrade.upgradeInPlace(jar) > 100);
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
            Class<?> spec = Class.forName("picocli.CommandLine$Model$CommandSpec", true, loader);
            Object cmd = spec.getMethod("create").invoke(null);
            Class<?> option = Class.forName("picocli.CommandLine$Model$OptionSpec", true, loader);
            Object builder = option.getMethod("builder", String.class, String[].class).invoke(null, "--mem", new String[0]);
            Method arity = builder.getClass().getMethod("arity", String.class);
            arity.setAccessible(true); // declared by a package-private superclass
            arity.invoke(builder, "1");
            spec.getMethod("addOption", option).invoke(cmd, builder.getClass().getMethod("build").invoke(builder));
            Object cl = Class.forName("picocli.CommandLine", true, loader).getConstructor(Object.class).newInstance(cmd);
            Object result = cl.getClass().getMethod("parseArgs", String[].class).invoke(cl, (Object) new String[] {"--mem", "64M"});
            Object value = result.getClass().getMethod("matchedOptionValue", String.class, Object.class).invoke(result, "--mem", "none");
            assertEquals("64M", value);
        }
    }

    @Test
    void aJarWithoutOldClassesKeepsItsBytes() throws Exception {
        Path jar = tmp.resolve("new.jar");
        String name = ClassVersionUpgradeTest.class.getName().replace('.', '/') + ".class";
        byte[] classFile;
        try (var in = ClassVersionUpgradeTest.class.getClassLoader().getResourceAsStream(name)) {
            classFile = in.readAllBytes();
        }
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry(name));
            out.write(classFile);
            out.closeEntry();
        }
        assertEquals(0, ClassVersionUpgrade.upgradeInPlace(jar));
        try (JarFile j = new JarFile(jar.toFile())) {
            assertArrayEquals(classFile, j.getInputStream(j.getJarEntry(name)).readAllBytes());
        }
    }

    @Test
    void onlyOldClassFilesAreRewritten() {
        byte[] v49 = {(byte) 0xca, (byte) 0xfe, (byte) 0xba, (byte) 0xbe, 0, 0, 0, 49};
        byte[] v52 = {(byte) 0xca, (byte) 0xfe, (byte) 0xba, (byte) 0xbe, 0, 0, 0, 52};
        assertTrue(ClassVersionUpgrade.isOldClass("a/B.class", v49));
        assertFalse(ClassVersionUpgrade.isOldClass("a/B.class", v52));
        assertFalse(ClassVersionUpgrade.isOldClass("META-INF/versions/9/module-info.class", v49));
        assertFalse(ClassVersionUpgrade.isOldClass("a/B.txt", v49));
        assertFalse(ClassVersionUpgrade.isOldClass("a/B.class", new byte[] {1, 2, 3, 4, 0, 0, 0, 49}));
    }

    private void checkUpgrade(Path original) throws Exception {
        Path jar = copy(original);
        List<String> old = oldClasses(jar);
        assertFalse(old.isEmpty(), original + " has no class older than version 50: nothing to check");
        assertEquals(old.size(), ClassVersionUpgrade.upgradeInPlace(jar));
        assertEquals(List.of(), oldClasses(jar));
        try (JarFile j = new JarFile(jar.toFile())) {
            for (String name : old) {
                byte[] b = j.getInputStream(j.getJarEntry(name)).readAllBytes();
                assertEquals(52, (b[6] & 0xff) << 8 | (b[7] & 0xff), name);
            }
        }
        assertEquals(linkFailures(original, old), linkFailures(jar, old), "classes that link before but not after");
    }

    /** The classes of {@code old} that fail to load, verify or initialise from {@code jar} (usually none). */
    private static TreeSet<String> linkFailures(Path jar, List<String> old) throws IOException {
        TreeSet<String> failed = new TreeSet<>();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
            for (String entry : old) {
                String name = entry.substring(0, entry.length() - ".class".length()).replace('/', '.');
                try {
                    Class.forName(name, true, loader);
                } catch (LinkageError | ClassNotFoundException | RuntimeException e) {
                    failed.add(name + ": " + e.getClass().getSimpleName());
                }
            }
        }
        return failed;
    }

    private static List<String> oldClasses(Path jar) throws IOException {
        List<String> old = new ArrayList<>();
        try (JarFile j = new JarFile(jar.toFile(), false)) {
            for (Enumeration<JarEntry> e = j.entries(); e.hasMoreElements();) {
                JarEntry entry = e.nextElement();
                if (ClassVersionUpgrade.isOldClass(entry.getName(), j.getInputStream(entry).readAllBytes())) {
                    old.add(entry.getName());
                }
            }
        }
        return old;
    }

    private Path copy(Path jar) throws IOException {
        Path c = tmp.resolve(jar.getFileName());
        Files.copy(jar, c);
        return c;
    }

    private static Path jarOf(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
