package org.mmulab.buildtools;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.commons.JSRInlinerAdapter;

/**
 * Rewrites the classes of a jar that are older than class-file version 50 (Java 6) as version 52 (Java 8) with
 * stack map frames, instructions unchanged. picocli and ASM ship as Java 5 class files (version 49), and JDK 17
 * neither puts such classes in a class-data-sharing archive (its dump says "Pre JDK 6 class not supported by CDS:
 * 49.0") nor checks them with the type-checking verifier (JVMS §4.10.1; version 49 goes to the older
 * type-inferencing one): so each
 * {@code ./mmulab} start loaded, parsed and verified picocli's 170-odd classes from the jar, about a sixth of a
 * {@code boot hello}. Rewritten, the launcher's archive holds them. Frames are computed by ASM (COMPUTE_FRAMES, with
 * the jar itself as the class hierarchy); JSR/RET subroutines, legal only before version 51, are inlined.
 *
 * <pre>java -cp build-tools.jar:asm.jar:asm-commons.jar org.mmulab.buildtools.ClassVersionUpgrade JAR</pre>
 * rewrites JAR in place (through a temporary file, so a failure leaves it as it was) and prints how many classes it
 * rewrote. Multi-release entries under {@code META-INF/} are copied as they are.
 */
public final class ClassVersionUpgrade {
    /** The first class-file version the type-checking verifier and JDK 17's archives accept. */
    static final int FIRST_VERIFIED_BY_TYPE_CHECKING = 50;

    private ClassVersionUpgrade() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ClassVersionUpgrade JAR");
            System.exit(2);
        }
        Path jar = Path.of(args[0]);
        System.out.println("ClassVersionUpgrade: " + upgradeInPlace(jar) + " classes of " + jar + " now version 52");
    }

    /** Rewrites {@code jar}'s old classes in place; returns how many. */
    public static int upgradeInPlace(Path jar) throws IOException {
        Path tmp = Files.createTempFile(jar.toAbsolutePath().getParent(), jar.getFileName().toString(), ".tmp");
        try {
            int n;
            try (OutputStream out = Files.newOutputStream(tmp)) {
                n = upgrade(jar, out);
            }
            Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return n;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes {@code jar} to {@code out} with its old classes rewritten, entries in order with their times; returns how many. */
    static int upgrade(Path jar, OutputStream out) throws IOException {
        int n = 0;
        try (JarFile in = new JarFile(jar.toFile(), false);
                URLClassLoader hierarchy = new URLClassLoader(new URL[] {jar.toUri().toURL()},
                        ClassLoader.getPlatformClassLoader());
                JarOutputStream o = new JarOutputStream(out)) {
            for (Enumeration<JarEntry> e = in.entries(); e.hasMoreElements();) {
                JarEntry entry = e.nextElement();
                byte[] bytes = in.getInputStream(entry).readAllBytes();
                if (isOldClass(entry.getName(), bytes)) {
                    bytes = rewrite(bytes, hierarchy);
                    n++;
                }
                JarEntry copy = new JarEntry(entry.getName());
                copy.setTime(entry.getTime());
                o.putNextEntry(copy);
                o.write(bytes);
                o.closeEntry();
            }
        }
        return n;
    }

    static boolean isOldClass(String name, byte[] b) {
        return name.endsWith(".class") && !name.startsWith("META-INF/") && b.length >= 8
                && (b[0] & 0xff) == 0xca && (b[1] & 0xff) == 0xfe && (b[2] & 0xff) == 0xba && (b[3] & 0xff) == 0xbe
                && ((b[6] & 0xff) << 8 | (b[7] & 0xff)) < FIRST_VERIFIED_BY_TYPE_CHECKING;
    }

    /** One class as version 52 with frames; {@code hierarchy} answers ASM's common-superclass questions. */
    static byte[] rewrite(byte[] classFile, ClassLoader hierarchy) {
        ClassReader reader = new ClassReader(classFile);
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
            @Override
            protected ClassLoader getClassLoader() {
                return hierarchy;
            }
        };
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public void visit(int version, int access, String name, String signature, String superName,
                    String[] interfaces) {
                super.visit(Opcodes.V1_8, access, name, signature, superName, interfaces);
            }

            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                    String[] exceptions) {
                MethodVisitor mv = super.visitMethod(access, name, descriptor, signature, exceptions);
                return new JSRInlinerAdapter(mv, access, name, descriptor, signature, exceptions);
            }
        }, ClassReader.SKIP_FRAMES);
        try {
            return writer.toByteArray();
        } catch (TypeNotPresentException e) {
            throw new UncheckedIOException(new IOException("cannot compute frames of " + reader.getClassName(), e));
        }
    }
}
