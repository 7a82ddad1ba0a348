/*
 * crossroot-enter: the native part of `crossroot run` (runner/enter/enter.ts
 * starts it; run-helper.ts speaks its protocol). One small program instead of
 * unshare(1) + a second Node process + nsenter + mount(8), because it buys
 * three things a ready-made init (tini, catatonit) cannot:
 *
 *  - start-up: no second runtime to boot, no spawn per mount batch;
 *  - race-free mounts: every path inside the root is opened with openat2()
 *    RESOLVE_IN_ROOT (symlinks, even ones a concurrent run plants, resolve
 *    inside the root) and mounted through file descriptors (open_tree,
 *    fsopen/fsmount, move_mount, mount_setattr): nothing is walked twice;
 *  - a real PID 1: it reaps every orphan of the run, forwards signals to the
 *    command and exits with its status (128+N for signal N).
 *
 * Process structure: this process (P) unshares the user, mount, PID, UTS and
 * IPC namespaces (and network with --net-none), tells crossroot "U", waits
 * for one byte (the uid/gid maps are written from outside), then forks C,
 * PID 1 of the new PID namespace, and exits with C's status. C reads the plan
 * from fd 3, carries it out, runs the command and reaps.
 *
 * Protocol on fd 3 (a socket), records of NUL-terminated fields:
 *   crossroot -> C: plan records (see run_op), then "go" or "abort";
 *                   later "signal" NUMBER to forward a signal.
 *   C -> crossroot: "U" (namespaces made), "pid" PID (C's host pid, from P),
 *                   "error" CODE MESSAGE (setup or exec failed),
 *                   "ticks" N (CPU ticks of all reaped children, at the end).
 * EOF on fd 3 means crossroot is gone (even by SIGKILL): C kills every
 * process of the run and exits, so nothing outlives it.
 *
 * Paths in plan records start with a base letter: 'R' inside the root
 * (RESOLVE_IN_ROOT from the root directory), 'S' inside the run's scratch
 * directory (same, from there), 'H' an absolute host path crossroot chose.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#define SYS_move_mount 429
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#define CR_OPEN_TREE_CLONE 1
#define CR_AT_RECURSIVE 0x8000
#define CR_MOVE_F_EMPTY 0x4
#define CR_MOVE_T_EMPTY 0x40
#define CR_FSCONFIG_SET_FLAG 0
#define CR_FSCONFIG_SET_STRING 1
#define CR_FSCONFIG_CMD_CREATE 6
#define CR_ATTR_RDONLY 0x1
#define CR_ATTR_NOSUID 0x2
#define CR_ATTR_NODEV 0x4
#define CR_ATTR_NOEXEC 0x8
#define CR_RESOLVE_NO_MAGICLINKS 0x02
#define CR_RESOLVE_IN_ROOT 0x10

struct cr_open_how { uint64_t flags, mode, resolve; };
struct cr_mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

static int channel = 3;
static const char *root_dir = NULL;
static const char *scratch_dir = NULL;

/* ---- the channel ---------------------------------------------------- */

static char inbuf[65536];
static size_t inlen = 0, inpos = 0;

static void send_fields(const char *const *fields, int count) {
  char out[8192];
  size_t len = 0;
  for (int i = 0; i < count; i++) {
    size_t n = strlen(fields[i]);
    if (len + n + 1 > sizeof out) n = sizeof out - len - 1;
    memcpy(out + len, fields[i], n);
    len += n;
    out[len++] = '\0';
  }
  for (size_t done = 0; done < len;) {
    /* MSG_NOSIGNAL: crossroot may be gone (SIGKILL); a SIGPIPE would end PID 1 before it cleans up. */
    ssize_t w = send(channel, out + done, len - done, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    done += (size_t)w;
  }
}

/* The next field, or NULL at EOF. Blocks. */
static char *next_field(void) {
  static char *field = NULL;
  static size_t cap = 0;
  size_t len = 0;
  for (;;) {
    while (inpos < inlen) {
      char c = inbuf[inpos++];
      if (len + 1 >= cap) {
        cap = cap == 0 ? 256 : cap * 2;
        field = realloc(field, cap);
        if (field == NULL) _exit(125);
      }
      field[len++] = c;
      if (c == '\0') return strdup(field);
    }
    ssize_t n = read(channel, inbuf, sizeof inbuf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return NULL;
    inlen = (size_t)n;
    inpos = 0;
  }
}

static void finish(int status);

/* Reports why the setup failed and ends the run (exit status 1). */
static void fail(const char *code, const char *what, const char *path, int err) {
  char message[4096];
  snprintf(message, sizeof message, "%s '%s': %s", what, path, strerror(err));
  const char *fields[] = { "error", code, message };
  send_fields(fields, 3);
  finish(1);
}

/* ---- paths ------------------------------------------------------------ */

static int openat2_in(int dirfd, const char *path, int flags, uint64_t resolve) {
  struct cr_open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .mode = 0, .resolve = resolve };
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* Opens a based path ('R...', 'S...', 'H/...'); -1 with errno on failure. */
static int open_based(const char *based, int flags) {
  const char *rest = based + 1;
  if (based[0] == 'H') return openat2_in(AT_FDCWD, rest, flags, 0);
  const char *base = based[0] == 'R' ? root_dir : based[0] == 'S' ? scratch_dir : NULL;
  if (base == NULL) { errno = EINVAL; return -1; }
  int basefd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (basefd < 0) return -1;
  while (*rest == '/') rest++;
  int fd = openat2_in(basefd, *rest == '\0' ? "." : rest, flags, CR_RESOLVE_IN_ROOT | CR_RESOLVE_NO_MAGICLINKS);
  int saved = errno;
  close(basefd);
  errno = saved;
  return fd;
}

/* Opens the parent directory of a based path and points *name at its last component. */
static int open_parent(const char *based, const char **name) {
  char copy[4096];
  snprintf(copy, sizeof copy, "%s", based);
  char *slash = strrchr(copy, '/');
  if (slash == NULL || slash[1] == '\0') { errno = EINVAL; return -1; }
  *name = based + (slash - copy) + 1;
  if (strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0) { errno = EINVAL; return -1; }
  if (slash == copy + 1) slash[1] = '\0';
  else *slash = '\0';
  return open_based(copy, O_PATH | O_DIRECTORY);
}

/* ---- mounts ------------------------------------------------------------ */

struct mount_options {
  int bind, rbind, remount, ro, mkdir;
  unsigned mkdir_mode;
  uint64_t attrs;
  char params[1024];
};

static void parse_options(const char *text, struct mount_options *out) {
  memset(out, 0, sizeof *out);
  char copy[1024];
  snprintf(copy, sizeof copy, "%s", text);
  size_t plen = 0;
  for (char *save = NULL, *opt = strtok_r(copy, ",", &save); opt != NULL; opt = strtok_r(NULL, ",", &save)) {
    if (strcmp(opt, "bind") == 0) out->bind = 1;
    else if (strcmp(opt, "rbind") == 0) out->rbind = 1;
    else if (strcmp(opt, "remount") == 0) out->remount = 1;
    else if (strcmp(opt, "ro") == 0) out->ro = 1;
    else if (strcmp(opt, "nosuid") == 0) out->attrs |= CR_ATTR_NOSUID;
    else if (strcmp(opt, "nodev") == 0) out->attrs |= CR_ATTR_NODEV;
    else if (strcmp(opt, "noexec") == 0) out->attrs |= CR_ATTR_NOEXEC;
    else if (strncmp(opt, "X-mount.mkdir", 13) == 0) {
      out->mkdir = 1;
      out->mkdir_mode = opt[13] == '=' ? (unsigned)strtoul(opt + 14, NULL, 8) : 0755;
    } else {
      size_t n = strlen(opt);
      if (plen + n + 2 < sizeof out->params) {
        memcpy(out->params + plen, opt, n + 1);
        plen += n + 1;
      }
    }
  }
  out->params[plen] = '\0';
}

static int set_attrs(int fd, uint64_t set, int recursive) {
  struct cr_mount_attr attr = { .attr_set = set };
  return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? CR_AT_RECURSIVE : 0), &attr, sizeof attr);
}

static int move_onto(int mountfd, int targetfd) {
  return (int)syscall(SYS_move_mount, mountfd, "", targetfd, "", CR_MOVE_F_EMPTY | CR_MOVE_T_EMPTY);
}

/* A new filesystem instance as a detached mount; -1 on failure. */
static int new_filesystem(const char *fstype, const char *source, const struct mount_options *options) {
  int fsfd = (int)syscall(SYS_fsopen, fstype, 1);
  if (fsfd < 0) return -1;
  if (strcmp(source, "-") != 0) syscall(SYS_fsconfig, fsfd, CR_FSCONFIG_SET_STRING, "source", source + (source[0] == 'H' ? 1 : 0), 0);
  for (const char *param = options->params; *param != '\0'; param += strlen(param) + 1) {
    char key[256];
    const char *eq = strchr(param, '=');
    size_t n = eq == NULL ? strlen(param) : (size_t)(eq - param);
    if (n >= sizeof key) continue;
    memcpy(key, param, n);
    key[n] = '\0';
    long r = eq == NULL ? syscall(SYS_fsconfig, fsfd, CR_FSCONFIG_SET_FLAG, key, NULL, 0)
                        : syscall(SYS_fsconfig, fsfd, CR_FSCONFIG_SET_STRING, key, eq + 1, 0);
    if (r < 0) { int saved = errno; close(fsfd); errno = saved; return -1; }
  }
  if (syscall(SYS_fsconfig, fsfd, CR_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) { int saved = errno; close(fsfd); errno = saved; return -1; }
  int mountfd = (int)syscall(SYS_fsmount, fsfd, 1, options->attrs | (options->ro ? CR_ATTR_RDONLY : 0));
  int saved = errno;
  close(fsfd);
  errno = saved;
  return mountfd;
}

static void op_mount(const char *fstype, const char *source, const char *target, const char *text) {
  struct mount_options options;
  parse_options(text, &options);
  if (options.mkdir) {
    const char *name;
    int parent = open_parent(target, &name);
    if (parent < 0 || (mkdirat(parent, name, options.mkdir_mode) < 0 && errno != EEXIST)) fail("ENTER_FAILED", "create mount point", target + 1, errno);
    close(parent);
  }
  int targetfd = open_based(target, O_PATH);
  if (targetfd < 0) fail("ENTER_FAILED", "open mount point", target + 1, errno);
  if (options.remount) {
    if (set_attrs(targetfd, options.attrs | (options.ro ? CR_ATTR_RDONLY : 0), 0) < 0) fail("ENTER_FAILED", "make read-only", target + 1, errno);
    close(targetfd);
    return;
  }
  int mountfd;
  if (options.bind || options.rbind) {
    int sourcefd = open_based(source, O_PATH);
    if (sourcefd < 0) fail("ENTER_FAILED", "open bind source", source + 1, errno);
    mountfd = (int)syscall(SYS_open_tree, sourcefd, "", CR_OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH | (options.rbind ? CR_AT_RECURSIVE : 0));
    if (mountfd < 0) fail("ENTER_FAILED", "bind", source + 1, errno);
    close(sourcefd);
    uint64_t set = options.attrs | (options.ro ? CR_ATTR_RDONLY : 0);
    if (set != 0 && set_attrs(mountfd, set, options.rbind) < 0) fail("ENTER_FAILED", "set bind options on", source + 1, errno);
  } else {
    mountfd = new_filesystem(fstype, source, &options);
    if (mountfd < 0) fail("ENTER_FAILED", fstype, target + 1, errno);
  }
  if (move_onto(mountfd, targetfd) < 0) fail("ENTER_FAILED", "mount on", target + 1, errno);
  close(mountfd);
  close(targetfd);
}

/*
 * Covers a directory of the root with a tmpfs that holds an entry for each of
 * its entries (a recursive bind of the original, a copy of a link), so that
 * mount points can be added without creating anything in the root itself.
 */
static void op_shadow(const char *path) {
  int original = open_based(path, O_RDONLY | O_DIRECTORY);
  if (original < 0) fail("ENTER_FAILED", "open directory to shadow", path + 1, errno);
  struct stat st;
  if (fstat(original, &st) < 0) fail("ENTER_FAILED", "stat", path + 1, errno);
  struct mount_options options;
  char text[128];
  snprintf(text, sizeof text, "mode=%o", st.st_mode & 07777);
  parse_options(text, &options);
  int shadow = new_filesystem("tmpfs", "Hcrossroot-shadow", &options);
  if (shadow < 0 || move_onto(shadow, original) < 0) fail("ENTER_FAILED", "shadow", path + 1, errno);
  int listing = openat(original, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = listing < 0 ? NULL : fdopendir(listing);
  if (dir == NULL) fail("ENTER_FAILED", "list", path + 1, errno);
  for (struct dirent *entry; (entry = readdir(dir)) != NULL;) {
    const char *name = entry->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    struct stat es;
    if (fstatat(original, name, &es, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if (S_ISLNK(es.st_mode)) {
      char target[4096];
      ssize_t n = readlinkat(original, name, target, sizeof target - 1);
      if (n < 0) continue;
      target[n] = '\0';
      if (symlinkat(target, shadow, name) < 0) fail("ENTER_FAILED", "shadow link", name, errno);
      continue;
    }
    if (S_ISDIR(es.st_mode)) {
      if (mkdirat(shadow, name, 0755) < 0) fail("ENTER_FAILED", "shadow entry", name, errno);
    } else {
      int fd = openat(shadow, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0) fail("ENTER_FAILED", "shadow entry", name, errno);
      close(fd);
    }
    /* The entry may change kind meanwhile: then the bind fails and the entry stays empty. */
    int tree = (int)syscall(SYS_open_tree, original, name, CR_OPEN_TREE_CLONE | O_CLOEXEC | CR_AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
    if (tree < 0) continue;
    syscall(SYS_move_mount, tree, "", shadow, name, CR_MOVE_F_EMPTY);
    close(tree);
  }
  closedir(dir);
  close(shadow);
  close(original);
}

/* ---- entries ------------------------------------------------------------ */

static void write_all(int fd, const char *text, const char *path) {
  for (size_t len = strlen(text); len > 0;) {
    ssize_t w = write(fd, text, len);
    if (w < 0) fail("ENTER_FAILED", "write", path, errno);
    text += w;
    len -= (size_t)w;
  }
}

static void op_create(const char *op, const char *path, const char *arg, const char *text) {
  const char *name;
  int parent = open_parent(path, &name);
  if (parent < 0) fail("ENTER_FAILED", "open the directory of", path + 1, errno);
  int ok;
  if (strcmp(op, "mkdir") == 0) ok = mkdirat(parent, name, 0755) == 0;
  else if (strcmp(op, "symlink") == 0) ok = symlinkat(arg, parent, name) == 0;
  else {
    mode_t mode = strcmp(op, "write") == 0 ? (mode_t)strtoul(arg, NULL, 8) : strcmp(op, "copy") == 0 ? 0755 : 0644;
    int fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    ok = fd >= 0;
    if (ok && strcmp(op, "write") == 0) write_all(fd, text, path + 1);
    if (ok && strcmp(op, "copy") == 0) {
      int from = open(arg + 1, O_RDONLY | O_CLOEXEC);
      if (from < 0) fail("ENTER_FAILED", "open", arg + 1, errno);
      char buf[65536];
      for (ssize_t n; (n = read(from, buf, sizeof buf)) > 0;) {
        if (write(fd, buf, (size_t)n) != n) fail("ENTER_FAILED", "copy to", path + 1, errno);
      }
      close(from);
      fchmod(fd, mode);
    }
    if (ok) close(fd);
  }
  if (!ok) fail("ENTER_FAILED", op, path + 1, errno);
  close(parent);
}

static void op_register(const char *dir, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/register", dir);
  int fd = open_based(path, O_WRONLY);
  if (fd < 0) fail("ENTER_FAILED", "open", path + 1, errno);
  if (write(fd, text, strlen(text)) < 0) fail("ENTER_FAILED", "register in", path + 1, errno);
  close(fd);
}

static void loopback_up(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq req;
  memset(&req, 0, sizeof req);
  strcpy(req.ifr_name, "lo");
  if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &req) < 0) fail("ENTER_FAILED", "bring up", "lo", errno);
  req.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(fd, SIOCSIFFLAGS, &req) < 0) fail("ENTER_FAILED", "bring up", "lo", errno);
  close(fd);
}

/* ---- PID 1 ---------------------------------------------------------------- */

static char **read_list(void) {
  char *count_text = next_field();
  if (count_text == NULL) _exit(137);
  long count = strtol(count_text, NULL, 10);
  char **list = calloc((size_t)count + 1, sizeof *list);
  for (long i = 0; i < count; i++) {
    list[i] = next_field();
    if (list[i] == NULL) _exit(137);
  }
  return list;
}

static int forwarded(int sig) {
  return sig == SIGTERM || sig == SIGHUP || sig == SIGUSR1 || sig == SIGUSR2 || sig == SIGCONT || sig == SIGWINCH;
}

static void finish(int status) {
  kill(-1, SIGKILL);
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
  struct rusage usage;
  getrusage(RUSAGE_CHILDREN, &usage);
  double seconds = (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  char ticks[32];
  snprintf(ticks, sizeof ticks, "%ld", (long)(seconds * (double)sysconf(_SC_CLK_TCK) + 0.5));
  if (scratch_dir != NULL) {
    umount2(scratch_dir, MNT_DETACH);
    rmdir(scratch_dir);
  }
  const char *fields[] = { "ticks", ticks };
  send_fields(fields, 2);
  _exit(status);
}

static pid_t start_command(char **argv, char **env, const sigset_t *old) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) fail("SPAWN", "start", argv[0], errno);
  pid_t pid = fork();
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, old, NULL);
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    close(channel);
    environ = env;
    execvpe(argv[0], argv, env);
    int err = errno;
    if (write(report[1], &err, sizeof err) < 0) {}
    _exit(127);
  }
  close(report[1]);
  int err = 0;
  if (pid < 0) err = errno;
  else if (read(report[0], &err, sizeof err) != sizeof err) err = 0;
  close(report[0]);
  if (err != 0) {
    char message[4096];
    snprintf(message, sizeof message, "start '%s': %s", argv[0], strerror(err));
    const char *fields[] = { "error", "SPAWN", message };
    send_fields(fields, 3);
    finish(1);
  }
  return pid;
}

static void supervise(pid_t command, int sigfd) {
  struct pollfd fds[2] = { { .fd = sigfd, .events = POLLIN }, { .fd = channel, .events = POLLIN } };
  for (;;) {
    if (inpos >= inlen && poll(fds, 2, -1) < 0) continue;
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(sigfd, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo != SIGCHLD && forwarded((int)info.ssi_signo)) kill(command, (int)info.ssi_signo);
      }
      int status;
      for (pid_t pid; (pid = waitpid(-1, &status, WNOHANG)) > 0;) {
        if (pid == command) finish(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      }
    }
    if (inpos < inlen || (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      char *field = next_field();
      if (field == NULL) finish(137);
      if (strcmp(field, "signal") == 0) {
        char *number = next_field();
        if (number == NULL) finish(137);
        kill(command, atoi(number));
      }
      fds[1].revents = 0;
    }
    fds[0].revents = 0;
  }
}

static void pid1(void) {
  sigset_t set, old;
  sigemptyset(&set);
  int handled[] = { SIGCHLD, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGCONT, SIGWINCH, SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU };
  for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++) sigaddset(&set, handled[i]);
  sigprocmask(SIG_BLOCK, &set, &old);
  int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("ENTER_FAILED", "make private", "/", errno);
  char **argv = NULL, **env = NULL;
  for (;;) {
    char *op = next_field();
    if (op == NULL || strcmp(op, "abort") == 0) finish(op == NULL ? 137 : 1);
    if (strcmp(op, "go") == 0) break;
    if (strcmp(op, "root") == 0) root_dir = next_field();
    else if (strcmp(op, "scratch") == 0) scratch_dir = next_field();
    else if (strcmp(op, "hostname") == 0) {
      char *name = next_field();
      if (name == NULL || sethostname(name, strlen(name)) < 0) fail("ENTER_FAILED", "set hostname", name == NULL ? "" : name, errno);
    } else if (strcmp(op, "loopback") == 0) loopback_up();
    else if (strcmp(op, "mount") == 0) {
      char *fstype = next_field(), *source = next_field(), *target = next_field(), *options = next_field();
      if (options == NULL) finish(137);
      op_mount(fstype, source, target, options);
    } else if (strcmp(op, "shadow") == 0) {
      char *path = next_field();
      if (path == NULL) finish(137);
      op_shadow(path);
    } else if (strcmp(op, "register") == 0) {
      char *dir = next_field(), *text = next_field();
      if (text == NULL) finish(137);
      op_register(dir, text);
    } else if (strcmp(op, "exec") == 0) argv = read_list();
    else if (strcmp(op, "env") == 0) env = read_list();
    else {
      char *path = next_field();
      char *arg = strcmp(op, "symlink") == 0 || strcmp(op, "write") == 0 || strcmp(op, "copy") == 0 ? next_field() : NULL;
      char *text = strcmp(op, "write") == 0 ? next_field() : NULL;
      if (path == NULL) finish(137);
      op_create(op, path, arg, text);
    }
  }
  if (argv == NULL || argv[0] == NULL) finish(1);
  static char *empty[] = { NULL };
  supervise(start_command(argv, env == NULL ? empty : env, &old), sigfd);
}

/*
 * `crossroot-enter --account PID FILE` (run --profile): turns on the kernel's
 * process accounting for the PID namespace of host process PID, so that
 * every process of the run leaves a record (name, CPU time) when it exits,
 * however short it was. acct(2) acts on the caller's own PID namespace and
 * needs CAP_SYS_PACCT in the initial user namespace, which the run's PID 1
 * lacks: so this process, still in the host's namespaces, forks a child into
 * the run's PID namespace (setns), and the child calls acct(). Accounting
 * then lasts until the namespace ends. Exit 0, or the errno of what failed.
 */
static int account(const char *pid, const char *file) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/ns/pid", pid);
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWPID) < 0) return errno;
  pid_t child = fork();
  if (child < 0) return errno;
  if (child == 0) _exit(acct(file) < 0 ? errno : 0);
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return errno;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--account") == 0) return account(argv[2], argv[3]);
  int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--net-none") == 0) flags |= CLONE_NEWNET;
    else { fprintf(stderr, "crossroot-enter: unknown argument '%s'\n", argv[i]); return 2; }
  }
  if (unshare(flags) < 0) {
    char message[256];
    snprintf(message, sizeof message, "create the run's namespaces: %s", strerror(errno));
    const char *fields[] = { "error", "USERNS_BLOCKED", message };
    send_fields(fields, 3);
    return 1;
  }
  const char *ready[] = { "U" };
  send_fields(ready, 1);
  char go;
  ssize_t got;
  while ((got = read(channel, &go, 1)) < 0 && errno == EINTR) {}
  if (got != 1) return 137;
  /* Keyboard signals reach the whole process group; P only waits, C decides. */
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    pid1();
    return 1;
  }
  char pid_text[32];
  snprintf(pid_text, sizeof pid_text, "%d", (int)child);
  const char *fields[] = { "pid", pid_text };
  send_fields(fields, 2);
  close(channel);
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD && forwarded(sig)) signal(sig, SIG_IGN);
  }
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
