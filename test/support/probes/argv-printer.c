/* Prints what the kernel handed this program: each argv string as hex, and
 * the auxv entries binfmt_misc affects (AT_EXECFD for O/C, AT_FLAGS for P).
 * Exact bytes, so tests compare with no escaping ambiguity. */
#include <stdio.h>
#include <sys/auxv.h>
#include <errno.h>

int main(int argc, char **argv) {
  printf("argv-printer argc %d\n", argc);
  for (int i = 0; i < argc; i++) {
    printf("arg ");
    for (const unsigned char *p = (const unsigned char *)argv[i]; *p; p++) printf("%02x", *p);
    printf("\n");
  }
  errno = 0;
  unsigned long fd = getauxval(AT_EXECFD);
  if (errno == ENOENT) printf("execfd none\n"); else printf("execfd %lu\n", fd);
  printf("atflags %lu\n", getauxval(AT_FLAGS));
  return 0;
}
