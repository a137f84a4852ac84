/* Prints the plan layout an architecture's libcontainers-shim.so reports (ct_plan_layout), so a test can run the
   packaged arm64 shim under qemu-user and compare it with the host's. */
#include <stdio.h>

int ct_plan_layout(char *buf, int len);

int main(void)
{
    static char buf[16384];
    int n = ct_plan_layout(buf, (int)sizeof buf);
    if (n < 0) {
        fprintf(stderr, "ct_plan_layout: %d\n", n);
        return 1;
    }
    fwrite(buf, 1, (size_t)n, stdout);
    return 0;
}
