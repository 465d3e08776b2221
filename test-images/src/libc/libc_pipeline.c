/*
 * What a shell does with processes (glibc and musl, x86_64 and i386): a three-stage pipeline of this
 * same program (fork, pipe, dup2, close-on-exec, execve of /proc/self/exe), exit statuses through
 * waitpid (an exit code, a death by SIGPIPE, 127 after a failed exec), EPIPE with SIGPIPE ignored, a
 * writer of more than the 64 KiB pipe capacity blocking until the reader drains it, a reader blocked in
 * another process woken by a kill of its process group, setpgid/getpgid/setsid/getsid, poll and select
 * on pipes, O_NONBLOCK's EAGAIN, SIGCHLD, umask, ppoll/pselect6 whose temporary mask lets a blocked
 * signal in (its handler runs before the call returns EINTR, the old mask is back after), nanosleep
 * cut short by a signal (EINTR, the time left in rem). The output depends on nothing but the program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *self = "/proc/self/exe";

static volatile sig_atomic_t sigusr;

static void on_usr(int sig) {
    (void) sig;
    sigusr++;
}

static int stage(int argc, char **argv) {
    if (strcmp(argv[1], "gen") == 0) {
        int n = atoi(argv[2]);
        for (int i = 0; i < n; i++) {
            printf("item %d\n", i);
        }
        return 0;
    }
    if (strcmp(argv[1], "upper") == 0) {
        int c;
        while ((c = getchar()) != EOF) {
            putchar(c >= 'a' && c <= 'z' ? c - 32 : c);
        }
        return 0;
    }
    if (strcmp(argv[1], "count") == 0) {
        char line[256], first[256] = "", last[256] = "";
        long lines = 0, bytes = 0;
        while (fgets(line, sizeof line, stdin)) {
            if (lines == 0) {
                strcpy(first, line);
            }
            strcpy(last, line);
            lines++;
            bytes += strlen(line);
        }
        printf("count: %ld lines, %ld bytes, first %s", lines, bytes, first);
        printf("count: last %s", last);
        return 3;
    }
    if (strcmp(argv[1], "yes") == 0) {
        for (;;) {
            if (fputs("y\n", stdout) < 0) {
                return 1; /* EPIPE: only if SIGPIPE did not kill us */
            }
        }
    }
    fprintf(stderr, "unknown stage %s (%d args)\n", argv[1], argc);
    return 2;
}

static void describe(const char *what, int status) {
    if (WIFEXITED(status)) {
        printf("%-24s exited %d\n", what, WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        printf("%-24s killed by signal %d\n", what, WTERMSIG(status));
    } else {
        printf("%-24s status %#x\n", what, status);
    }
}

/* Forks a child running "self ARGS" with stdin/stdout replaced (-1: unchanged). */
static pid_t spawn(int in, int out, char *const args[]) {
    pid_t p = fork();
    if (p == 0) {
        if (in >= 0) {
            dup2(in, 0);
        }
        if (out >= 0) {
            dup2(out, 1);
        }
        execv(self, args);
        _exit(126);
    }
    return p;
}

static volatile sig_atomic_t sigchld;

static void on_chld(int sig) {
    (void) sig;
    sigchld++;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_DFL); /* whatever the parent left us, as a shell resets it */
    if (argc > 1) {
        return stage(argc, argv);
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGCHLD, on_chld);

    /* gen 3000 | upper | count, every pipe end close-on-exec except the dup'd ones */
    int a[2], b[2], o[2], status;
    pipe2(a, O_CLOEXEC);
    pipe2(b, O_CLOEXEC);
    pipe2(o, O_CLOEXEC);
    pid_t p1 = spawn(-1, a[1], (char *const[]) {"gen", "gen", "3000", NULL});
    pid_t p2 = spawn(a[0], b[1], (char *const[]) {"upper", "upper", NULL});
    pid_t p3 = spawn(b[0], o[1], (char *const[]) {"count", "count", NULL});
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    close(o[1]);
    waitpid(p1, &status, 0);
    describe("gen", status);
    waitpid(p2, &status, 0);
    describe("upper", status);
    waitpid(p3, &status, 0);
    describe("count", status);
    char out[512];
    long on = read(o[0], out, sizeof out - 1);
    out[on > 0 ? on : 0] = 0;
    close(o[0]);
    printf("%s", out);

    /* yes | (read 10 bytes, close): yes dies of SIGPIPE (its copy of the read end is close-on-exec) */
    pipe2(a, O_CLOEXEC);
    pid_t y = spawn(-1, a[1], (char *const[]) {"yes", "yes", NULL});
    close(a[1]);
    char buf[4096];
    long got = 0;
    while (got < 10) {
        long r = read(a[0], buf, 10 - got);
        if (r <= 0) {
            break;
        }
        got += r;
    }
    close(a[0]);
    printf("read from yes: %ld bytes: %.4s\n", got, buf);
    waitpid(y, &status, 0);
    describe("yes", status);

    /* exit code, failed exec */
    pid_t c = fork();
    if (c == 0) {
        _exit(42);
    }
    waitpid(c, &status, 0);
    describe("_exit(42)", status);
    c = fork();
    if (c == 0) {
        execl("/nonexistent/program", "x", (char *) NULL);
        _exit(errno == ENOENT ? 127 : 1);
    }
    waitpid(c, &status, 0);
    describe("exec of a missing file", status);

    /* EPIPE with SIGPIPE ignored */
    signal(SIGPIPE, SIG_IGN);
    pipe(a);
    close(a[0]);
    errno = 0;
    long w = write(a[1], "x", 1);
    int werr = errno;
    printf("write without reader: %ld %s\n", w, werr == EPIPE ? "EPIPE" : "?");
    close(a[1]);
    signal(SIGPIPE, SIG_DFL);

    /* A writer of 200000 bytes blocks until we drain the pipe. */
    pipe(a);
    c = fork();
    if (c == 0) {
        close(a[0]);
        static char big[200000];
        memset(big, 'b', sizeof big);
        long done = 0;
        while (done < (long) sizeof big) {
            long r = write(a[1], big + done, sizeof big - done);
            if (r <= 0) {
                _exit(1);
            }
            done += r;
        }
        _exit(0);
    }
    close(a[1]);
    long total = 0, r;
    while ((r = read(a[0], buf, sizeof buf)) > 0) {
        total += r;
    }
    close(a[0]);
    waitpid(c, &status, 0);
    printf("drained %ld bytes\n", total);
    describe("big writer", status);

    /* Process groups: a child in its own group, blocked reading a pipe, killed through the group. */
    pipe(a);
    pipe(b);
    c = fork();
    if (c == 0) {
        setpgid(0, 0);
        printf("child: getpgid(0) == getpid(): %d, getppid ok: %d\n", getpgid(0) == getpid(), getppid() > 0);
        write(b[1], "r", 1);
        read(a[0], buf, 1); /* blocks: nobody writes */
        _exit(5);
    }
    setpgid(c, c);
    read(b[0], buf, 1);
    printf("parent: getpgid(child) == child: %d\n", getpgid(c) == c);
    printf("kill(-pgid, SIGTERM): %d\n", kill(-c, SIGTERM));
    waitpid(-c, &status, 0);
    describe("group member", status);
    errno = 0;
    int kr = kill(-c, SIGTERM);
    printf("kill of the gone group: %d %s\n", kr, errno == ESRCH ? "ESRCH" : "?");
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);

    /* setsid */
    c = fork();
    if (c == 0) {
        pid_t s = setsid();
        _exit(s == getpid() && getsid(0) == getpid() && getpgid(0) == getpid() ? 0 : 1);
    }
    waitpid(c, &status, 0);
    describe("setsid child", status);

    /* poll and select */
    pipe(a);
    struct pollfd pf[2] = {{a[0], POLLIN, 0}, {a[1], POLLOUT, 0}};
    int pr = poll(pf, 2, 0);
    printf("poll empty: %d revents %#x %#x\n", pr, pf[0].revents, pf[1].revents);
    write(a[1], "z", 1);
    pr = poll(pf, 1, 100);
    printf("poll with data: %d revents %#x\n", pr, pf[0].revents);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(a[0], &rs);
    struct timeval tv = {0, 1000};
    int sr = select(a[0] + 1, &rs, NULL, NULL, &tv);
    printf("select: %d isset %d\n", sr, FD_ISSET(a[0], &rs) != 0);
    read(a[0], buf, 1);
    fcntl(a[0], F_SETFL, O_NONBLOCK);
    errno = 0;
    long nr = read(a[0], buf, 1);
    printf("nonblocking read: %ld %s\n", nr, errno == EAGAIN ? "EAGAIN" : "?");
    close(a[1]);
    pf[0].events = POLLIN;
    pr = poll(pf, 1, 100);
    printf("poll after the writer closed: %d hup %d\n", pr, (pf[0].revents & POLLHUP) != 0);
    close(a[0]);

    /* sigsuspend: SIGCHLD blocked while the child exits, then taken inside sigsuspend */
    sigset_t block, old, none;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);
    sigchld = 0;
    c = fork();
    if (c == 0) {
        _exit(9);
    }
    sigemptyset(&none);
    errno = 0;
    int ss = sigsuspend(&none);
    int sserr = errno;
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("sigsuspend: %d %s, handler ran %d, SIGCHLD blocked again %d\n", ss, sserr == EINTR ? "EINTR" : "?",
            sigchld > 0, sigismember(&now, SIGCHLD));
    sigprocmask(SIG_SETMASK, &old, NULL);
    waitpid(c, &status, 0);
    describe("sigsuspend child", status);

    /* ppoll and pselect6: SIGCHLD blocked but for the call's own mask; the child's exit interrupts it */
    for (int pass = 0; pass < 2; pass++) {
        sigprocmask(SIG_BLOCK, &block, &old);
        sigchld = 0;
        int pp[2];
        pipe(pp);
        c = fork();
        if (c == 0) {
            _exit(3);
        }
        errno = 0;
        int pr2;
        if (pass == 0) {
            struct pollfd pw = {pp[0], POLLIN, 0};
            pr2 = ppoll(&pw, 1, NULL, &none);
        } else {
            fd_set ps;
            FD_ZERO(&ps);
            FD_SET(pp[0], &ps);
            pr2 = pselect(pp[0] + 1, &ps, NULL, NULL, NULL, &none);
        }
        int perr = errno;
        sigprocmask(SIG_SETMASK, NULL, &now);
        printf("%s: %d %s, handler ran %d, SIGCHLD blocked again %d\n", pass == 0 ? "ppoll" : "pselect", pr2,
                perr == EINTR ? "EINTR" : "?", sigchld > 0, sigismember(&now, SIGCHLD));
        sigprocmask(SIG_SETMASK, &old, NULL);
        waitpid(c, &status, 0);
        close(pp[0]);
        close(pp[1]);
    }

    /* nanosleep cut short: a child signals every 20 ms until the parent is done sleeping */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr; /* no SA_RESTART */
    sigaction(SIGUSR1, &sa, NULL);
    pid_t parent = getpid();
    c = fork();
    if (c == 0) {
        struct timespec tick = {0, 20 * 1000 * 1000};
        for (;;) {
            nanosleep(&tick, NULL);
            kill(parent, SIGUSR1);
        }
    }
    struct timespec want = {30, 0}, rem = {0, 0};
    errno = 0;
    int ns = nanosleep(&want, &rem);
    int nserr = errno;
    kill(c, SIGKILL);
    waitpid(c, &status, 0);
    printf("nanosleep: %d %s, handler ran %d, rem between 20 and 30 s %d\n", ns, nserr == EINTR ? "EINTR" : "?",
            sigusr > 0, rem.tv_sec >= 20 && rem.tv_sec < 30);
    describe("ticker", status);

    /* umask */
    umask(027);
    char name[] = "/tmp/pipelineXXXXXX";
    int t = mkstemp(name);
    close(t);
    unlink(name);
    t = open(name, O_CREAT | O_WRONLY, 0666);
    struct stat st;
    fstat(t, &st);
    printf("mode with umask 027: %o\n", st.st_mode & 0777);
    close(t);
    unlink(name);
    printf("SIGCHLD seen: %d\n", sigchld > 0);
    errno = 0;
    int wr = waitpid(-1, &status, WNOHANG);
    printf("no children left: %d %s\n", wr, errno == ECHILD ? "ECHILD" : "?");
    return 0;
}
