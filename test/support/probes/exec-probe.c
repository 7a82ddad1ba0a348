/* exec-probe [--chroot DIR] [--cwd DIR] [--setuid-to UID] PATH ARGV0 [ARG...]
 * Calls execve(PATH, [ARGV0, ARG...], environ) directly, with none of the
 * libc fallbacks (execvp runs /bin/sh on ENOEXEC), so the kernel's own verdict
 * is observed. On failure prints "exec-probe-errno <NAME>" and exits 127. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static const char *errno_name(int e) {
  switch (e) {
  case ENOENT: return "ENOENT"; case ENOEXEC: return "ENOEXEC"; case EACCES: return "EACCES";
  case ELOOP: return "ELOOP"; case ELIBBAD: return "ELIBBAD"; case ENOTDIR: return "ENOTDIR";
  case EISDIR: return "EISDIR"; case E2BIG: return "E2BIG"; case ENAMETOOLONG: return "ENAMETOOLONG";
  case EIO: return "EIO"; case EINVAL: return "EINVAL"; case EPERM: return "EPERM";
  case ETXTBSY: return "ETXTBSY"; case ENOMEM: return "ENOMEM"; case EFAULT: return "EFAULT";
  default: return "EOTHER";
  }
}

int main(int argc, char **argv) {
  int i = 1;
  while (i < argc && strncmp(argv[i], "--", 2) == 0) {
    if (strcmp(argv[i], "--chroot") == 0 && i + 1 < argc) {
      if (chroot(argv[i + 1]) != 0 || chdir("/") != 0) { printf("exec-probe-setup-errno %s\n", errno_name(errno)); return 126; }
      i += 2;
    } else if (strcmp(argv[i], "--cwd") == 0 && i + 1 < argc) {
      if (chdir(argv[i + 1]) != 0) { printf("exec-probe-setup-errno %s\n", errno_name(errno)); return 126; }
      i += 2;
    } else break;
  }
  if (i + 1 >= argc) { fprintf(stderr, "usage: exec-probe [--chroot DIR] [--cwd DIR] PATH ARGV0 [ARG...]\n"); return 125; }
  const char *path = argv[i];
  fflush(stdout);
  execve(path, &argv[i + 1], environ);
  printf("exec-probe-errno %s\n", errno_name(errno));
  return 127;
}
