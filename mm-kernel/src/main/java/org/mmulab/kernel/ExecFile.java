package org.mmulab.kernel;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

import org.mmulab.kernel.mm.FileBytes;

/**
 * Opening a host file to execute it, with execve's checks (fs/exec.c do_open_execat and
 * may_open_exec, Linux 6.x): the path must resolve to a regular file (a directory, FIFO, socket or
 * device is EACCES, so {@code /dev/zero} and a FIFO are refused without being opened or read), the
 * caller must have execute permission (a {@code chmod 644} copy is EACCES; root needs at least one x bit,
 * as {@code access(X_OK)} says), and mmulab, which reads the image on the host, must be able to read it.
 * Each refusal says why, with the errno name. The bytes are read (small files) or mapped (large ones) by
 * {@link FileBytes}, never read whole into the heap.
 *
 * <p>Between the check and the open another process could replace the file by a FIFO; Java has no
 * O_NONBLOCK open to close that window (the check is what keeps ordinary use from hanging).
 */
public final class ExecFile {
    private ExecFile() {
    }

    /** The image at {@code path}, checked as execve checks it. */
    public static FileBytes open(Path path) throws ExecOpenException {
        return open(path, FileBytes.READ_LIMIT);
    }

    /** As {@link #open(Path)}, reading files up to {@code readLimit} bytes and mapping larger ones. */
    public static FileBytes open(Path path, long readLimit) throws ExecOpenException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (IOException e) {
            throw new ExecOpenException(describe(e));
        }
        if (!a.isRegularFile()) {
            String what = a.isDirectory() ? "a directory" : a.isOther() ? "a device, FIFO or socket" : "not a regular file";
            throw new ExecOpenException("Permission denied (EACCES: " + what + ", only regular files can be executed)");
        }
        if (!Files.isExecutable(path)) {
            throw new ExecOpenException("Permission denied (EACCES: no execute permission; chmod +x it)");
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return FileBytes.load(ch, ch.size(), readLimit);
        } catch (IOException e) {
            throw new ExecOpenException("cannot read: " + describe(e));
        } catch (OutOfMemoryError e) {
            // FileChannel.map reports mmap's ENOMEM as an OutOfMemoryError cause of an IOException, or directly.
            throw new ExecOpenException("cannot map the file: out of address space (" + e.getMessage() + ")");
        }
    }

    /** strerror-style text for a failed file-system call, with the errno name where Java knows it. */
    static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "No such file or directory (ENOENT)";
        }
        if (e instanceof AccessDeniedException) {
            return "Permission denied (EACCES)";
        }
        if (e instanceof NotDirectoryException) {
            return "Not a directory (ENOTDIR)";
        }
        if (e instanceof FileSystemLoopException) {
            return "Too many levels of symbolic links (ELOOP)";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage() != null ? root.getMessage() : e.getMessage();
        return m != null ? m : e.getClass().getSimpleName();
    }
}
