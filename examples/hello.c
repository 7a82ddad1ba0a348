/* Compiled and run inside a foreign root by the README's quick start. */
#include <stdio.h>
#include <sys/utsname.h>

int main(void) {
  struct utsname name;
  if (uname(&name) != 0) return 1;
  printf("hello from %s, built and run inside the root\n", name.machine);
  return 0;
}
