/*
 * raw.h: system calls without libc, for code that must not touch libc state: the shim's child (which may share
 * the launcher's memory, so errno, locks and TLS are off limits) and containers-init (built without libc).
 * Every call returns the kernel's result: a value >= 0, or -errno.
 */
#ifndef CONTAINERS_RAW_H
#define CONTAINERS_RAW_H

#include <linux/errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
static inline long ct_sys(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
static inline long ct_sys(long n, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
}
#else
#error "unsupported architecture"
#endif

#define SYS0(n) ct_sys((n), 0, 0, 0, 0, 0, 0)
#define SYS1(n, a) ct_sys((n), (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b) ct_sys((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c) ct_sys((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) ct_sys((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS5(n, a, b, c, d, e) ct_sys((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

#define CT_PATH_MAX 4096
#define CT_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static inline size_t ct_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* volatile: the compiler must not turn the loop into a call to libc's memcpy. */
static inline void ct_memcpy(void *dst, const void *src, size_t n)
{
    volatile char *d = dst;
    const char *s = src;
    while (n--)
        *d++ = *s++;
}

/*
 * execve of file; a file without '/' is searched in path (NULL: CT_DEFAULT_PATH) as execvp does: the first
 * candidate that execs wins, EACCES is remembered, ENOENT and ENOTDIR move on. Returns -errno when nothing exec'd.
 */
static inline long ct_execvpe(const char *file, char *const *argv, char *const *envp, const char *path)
{
    for (const char *c = file; *c; c++) {
        if (*c == '/')
            return SYS3(SYS_execve, file, argv, envp);
    }
    if (path == NULL || *path == 0)
        path = CT_DEFAULT_PATH;
    size_t flen = ct_strlen(file);
    long result = -ENOENT;
    char buf[CT_PATH_MAX];
    for (const char *dir = path;;) {
        const char *end = dir;
        while (*end && *end != ':')
            end++;
        size_t dlen = (size_t)(end - dir);
        if (dlen == 0) {
            dir = ".";
            dlen = 1;
        }
        if (dlen + 1 + flen + 1 <= sizeof(buf)) {
            ct_memcpy(buf, dir, dlen);
            buf[dlen] = '/';
            ct_memcpy(buf + dlen + 1, file, flen + 1);
            long r = SYS3(SYS_execve, buf, argv, envp);
            if (r == -EACCES)
                result = r;
            else if (r != -ENOENT && r != -ENOTDIR)
                return r;
        }
        if (!*end)
            break;
        dir = end + 1;
    }
    return result;
}

#endif
