/* Host side of tests/guest/fpu_sse.sh: runs the instructions of
 * tests/guest/fpu_sse.asm on the host CPU (x86-64 with SSE4.2) with the same
 * inputs and prints the same "name=HEX" lines (HEX: the result's bytes, the
 * last first), which the script compares with what the guest printed. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned char res[32];

static void show(const char *name, int n)
{
    printf("%s=", name);
    for (int i = n - 1; i >= 0; i--)
        printf("%02x", res[i]);
    printf("\n");
}

static void fpu_rc(int rc)
{
    uint16_t cw = (uint16_t)(0x037f | rc << 10);
    __asm__ volatile("fldcw %0" : : "m"(cw));
}

static void sse_rc(int rc)
{
    uint32_t m = 0x1f80u | (uint32_t)rc << 13;
    __asm__ volatile("ldmxcsr %0" : : "m"(m));
}

static const double c_one = 1.0, c_two = 2.0, c_three = 3.0, c_ten = 10.0;
static const double c_bcd = -12345678.5, c_2_5 = 2.5, c_m2_5 = -2.5;
static const double c_m2_7 = -2.7, c_big = 3.0e10, c_1_1 = 1.1, c_3_3 = 3.3;
static const unsigned char c_ext[10] = { 0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda,
                                         0x0f, 0xc9, 0x00, 0xc0 };
static const float ps_a[4] __attribute__((aligned(16))) = { 1.5f, 2.25f, -3.0f, 1.0e10f };
static const float ps_b[4] __attribute__((aligned(16))) = { 0.25f, 1.0e-3f, 7.5f, -1.0e10f };
static const unsigned char bytes_a[16] __attribute__((aligned(16))) = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
static const unsigned char bytes_b[16] __attribute__((aligned(16))) = {
    0x01, 0x80, 0x7f, 0xff, 0x02, 0xfe, 0x10, 0x20,
    0x03, 0xfd, 0x40, 0xc0, 0x55, 0x0f, 0x81, 0x7e };
static const unsigned char shuf_mask[16] __attribute__((aligned(16))) = {
    0x0f, 0x80, 0x03, 0x03, 0x85, 0x00, 0x0a, 0x91,
    0x01, 0x02, 0xff, 0x07, 0x0c, 0x0d, 0x0e, 0x40 };
static const char str_needle[16] __attribute__((aligned(16))) = "lo w";
static const char str_hay[16] __attribute__((aligned(16))) = "hello world";
static const double c_10_5 = 10.5, c_half = 0.5, c_1_5 = 1.5;
static const uint32_t ps_c[4] __attribute__((aligned(16))) = { 0x7fc00000, 0x80000000,
                                                               0x3f800000, 0xbf800000 };
static const uint32_t ps_d[4] __attribute__((aligned(16))) = { 0x3f800000, 0, 0x7fc00001,
                                                               0xc0000000 };
static const float ps_e[4] __attribute__((aligned(16))) = { 2.0f, 9.0f, 0.5f, 1.0e-3f };
static const float ps_f[4] __attribute__((aligned(16))) = { 2.5f, -2.5f, 3.5f, 1.0e10f };
static const double pd_a[2] __attribute__((aligned(16))) = { 1.5, -2.25 };
static const double pd_b[2] __attribute__((aligned(16))) = { 0.25, 4.0 };

static void x87_rounding(void)
{
    __asm__ volatile("fldl %1\n\tfistpl %0" : "=m"(*(int32_t *)res) : "m"(c_2_5));
    __asm__ volatile("fldl %1\n\tfistpl %0" : "=m"(*(int32_t *)(res + 4)) : "m"(c_m2_5));
    __asm__ volatile("fld1\n\tfdivl %1\n\tfstpt %0" : "=m"(*(long double *)(res + 8))
                     : "m"(c_three));
}

static void sse_rounding(void)
{
    int32_t a, b;
    __asm__ volatile("cvtsd2si %1, %0" : "=r"(a) : "m"(c_2_5));
    __asm__ volatile("cvtsd2si %1, %0" : "=r"(b) : "m"(c_m2_5));
    memcpy(res, &a, 4);
    memcpy(res + 4, &b, 4);
}

int main(void)
{
    long double *r80 = (long double *)res;
    char name[32];
    __asm__ volatile("fninit");
    __asm__ volatile("fldl %1\n\tfsqrt\n\tfstpt %0" : "=m"(*r80) : "m"(c_two));
    show("fsqrt", 10);
    __asm__ volatile("fldl %1\n\tfsin\n\tfstpt %0" : "=m"(*r80) : "m"(c_one));
    show("fsin", 10);
    __asm__ volatile("fldl %1\n\tfldl %2\n\tfpatan\n\tfstpt %0" : "=m"(*r80)
                     : "m"(c_one), "m"(c_two));
    show("fpatan", 10);
    __asm__ volatile("fldl %1\n\tfldl %2\n\tfyl2x\n\tfstpt %0" : "=m"(*r80)
                     : "m"(c_three), "m"(c_ten));
    show("fyl2x", 10);
    __asm__ volatile("fldl %1\n\tfbstp %0" : "=m"(*r80) : "m"(c_bcd));
    show("fbstp", 10);
    __asm__ volatile("fldt %1\n\tfstpt %0" : "=m"(*r80) : "m"(c_ext));
    show("fld80", 10);
    for (int rc = 0; rc < 4; rc++) {
        fpu_rc(rc);
        x87_rounding();
        snprintf(name, sizeof(name), "x87 rc%d", rc);
        show(name, 18);
    }
    fpu_rc(0);
    {
        unsigned char buf[108];
        uint16_t cw = 0x0e7f;
        __asm__ volatile("fldl %0\n\tfldl %1" : : "m"(c_two), "m"(c_three));
        __asm__ volatile("fldcw %0" : : "m"(cw));
        __asm__ volatile("fsave %0" : "=m"(buf));
        __asm__ volatile("fnstcw %0\n\tfnstsw %1" : "=m"(*(uint16_t *)res),
                         "=m"(*(uint16_t *)(res + 2)));
        show("after fsave", 4);
        memcpy(res, buf, 2);
        memcpy(res + 2, buf + 4, 2);
        memcpy(res + 4, buf + 8, 2);
        show("fsave cw sw tw", 6);
        __asm__ volatile("frstor %0" : : "m"(buf));
        __asm__ volatile("fnstcw %0\n\tfstpt %1\n\tfstpt %2" : "=m"(*(uint16_t *)res),
                         "=m"(*(long double *)(res + 2)), "=m"(*(long double *)(res + 12)));
        show("frstor", 22);
        __asm__ volatile("fninit");
    }
    __asm__ volatile("fninit");
    {
        uint16_t sw;
        __asm__ volatile("fldl %2\n\tfldl %3\n\tfprem\n\tfnstsw %1\n\tfstpt %0\n\tfstp %%st(0)"
                         : "=m"(*r80), "=m"(sw) : "m"(c_three), "m"(c_10_5));
        sw &= 0x4700;
        memcpy(res + 10, &sw, 2);
        show("fprem", 12);
    }
    __asm__ volatile("fldl %1\n\tf2xm1\n\tfstpt %0" : "=m"(*r80) : "m"(c_half));
    show("f2xm1", 10);
    __asm__ volatile("fldl %1\n\tfldl %2\n\tfscale\n\tfstpt %0\n\tfstp %%st(0)" : "=m"(*r80)
                     : "m"(c_three), "m"(c_1_5));
    show("fscale", 10);
#define TWO80(insn, in) __asm__ volatile("fldl %2\n\t" insn "\n\tfstpt %0\n\tfstpt %1" \
        : "=m"(*r80), "=m"(*(long double *)(res + 10)) : "m"(in))
    TWO80("fxtract", c_ten);
    show("fxtract", 20);
    TWO80("fptan", c_one);
    show("fptan", 20);
    TWO80("fsincos", c_half);
    show("fsincos", 20);
    fpu_rc(1);
    __asm__ volatile("fldpi\n\tfstpt %0" : "=m"(*r80));
    fpu_rc(2);
    __asm__ volatile("fldpi\n\tfstpt %0" : "=m"(*(long double *)(res + 10)));
    fpu_rc(0);
    show("fldpi rc1 rc2", 20);
    __asm__ volatile("fninit\n\tfldl %2\n\tfistps %0\n\tfnstsw %1\n\tfninit"
                     : "=m"(*(int16_t *)res), "=m"(*(uint16_t *)(res + 2)) : "m"(c_big));
    show("fist overflow", 4);
    __asm__ volatile("movups %1, %%xmm0\n\taddps %2, %%xmm0\n\tmovups %%xmm0, %0"
                     : "=m"(res) : "m"(ps_a), "m"(ps_b) : "xmm0");
    show("addps", 16);
    __asm__ volatile("movsd %1, %%xmm0\n\tmulsd %2, %%xmm0\n\tmovsd %%xmm0, %0"
                     : "=m"(res) : "m"(c_1_1), "m"(c_3_3) : "xmm0");
    show("mulsd", 8);
    for (int rc = 0; rc < 4; rc++) {
        sse_rc(rc);
        sse_rounding();
        snprintf(name, sizeof(name), "cvtsd2si rc%d", rc);
        show(name, 8);
    }
    sse_rc(0);
    {
        int32_t a, b;
        __asm__ volatile("cvttsd2si %1, %0" : "=r"(a) : "m"(c_m2_7));
        __asm__ volatile("cvtsd2si %1, %0" : "=r"(b) : "m"(c_big));
        memcpy(res, &a, 4);
        memcpy(res + 4, &b, 4);
        show("cvttsd2si", 8);
    }
    __asm__ volatile("movdqu %1, %%xmm0\n\tpshufb %2, %%xmm0\n\tmovdqu %%xmm0, %0"
                     : "=m"(res) : "m"(bytes_a), "m"(shuf_mask) : "xmm0");
    show("pshufb", 16);
    __asm__ volatile("movdqu %1, %%xmm0\n\tpmaddubsw %2, %%xmm0\n\tmovdqu %%xmm0, %0"
                     : "=m"(res) : "m"(bytes_a), "m"(bytes_b) : "xmm0");
    show("pmaddubsw", 16);
    __asm__ volatile("movdqu %1, %%xmm0\n\tmovdqu %2, %%xmm1\n\t"
                     "pblendvb %%xmm0, %3, %%xmm1\n\tmovdqu %%xmm1, %0"
                     : "=m"(res) : "m"(shuf_mask), "m"(bytes_a), "m"(bytes_b)
                     : "xmm0", "xmm1");
    show("pblendvb", 16);
    for (int i = 0; i < 4; i++) {
        double *out = (double *)(res + 8 * i);
#define ROUNDSD(imm) __asm__ volatile("movsd %1, %%xmm1\n\troundsd $" #imm ", %%xmm1, %%xmm0\n\t" \
                                      "movsd %%xmm0, %0" : "=m"(*out) : "m"(c_m2_5) : "xmm0", "xmm1")
        switch (i) {
        case 0: ROUNDSD(0); break;
        case 1: ROUNDSD(1); break;
        case 2: ROUNDSD(2); break;
        default: ROUNDSD(3); break;
        }
#undef ROUNDSD
    }
    show("roundsd", 32);
    {
        uint32_t ecx;
        uint64_t fl;
        __asm__ volatile("movdqu %2, %%xmm1\n\tpcmpistri $0x0c, %3, %%xmm1\n\t"
                         "pushfq\n\tpopq %1"
                         : "=c"(ecx), "=r"(fl) : "m"(str_needle), "m"(str_hay) : "xmm1", "cc");
        fl &= 0x8d5;
        memcpy(res, &ecx, 4);
        memcpy(res + 4, &fl, 4);
        show("pcmpistri", 8);
    }
    {
        uint32_t crc = 0xffffffff;
        __asm__ volatile("crc32l %1, %0\n\tcrc32b %2, %0\n\tcrc32w %3, %0"
                         : "+r"(crc) : "m"(*(const uint32_t *)bytes_a), "m"(bytes_b[0]),
                           "m"(*(const uint16_t *)(bytes_b + 2)));
        memcpy(res, &crc, 4);
        show("crc32", 4);
        uint32_t a, b = 0;
        __asm__ volatile("popcntl %1, %0" : "=r"(a) : "m"(*(const uint32_t *)bytes_b));
        __asm__ volatile("popcntw %1, %w0" : "+r"(b) : "m"(*(const uint16_t *)(bytes_a + 4)));
        memcpy(res, &a, 4);
        b = (b & 0xffff) | (a & 0xffff0000u);
        memcpy(res + 4, &b, 4);
        show("popcnt", 8);
    }
#define XOP(name, op, a, b) do { \
        __asm__ volatile("movdqu %1, %%xmm0\n\t" op "\n\tmovdqu %%xmm0, %0" \
                         : "=m"(res) : "m"(a), "m"(b) : "xmm0"); \
        show(name, 16); \
    } while (0)
    XOP("maxps", "maxps %2, %%xmm0", ps_c, ps_d);
    XOP("minps", "minps %2, %%xmm0", ps_c, ps_d);
    XOP("minsd", "minsd %2, %%xmm0", ps_d, ps_c);
    XOP("dpps", "dpps $0xf1, %2, %%xmm0", ps_a, ps_b);
    XOP("haddps", "haddps %2, %%xmm0", ps_a, ps_b);
    XOP("addsubpd", "addsubpd %2, %%xmm0", pd_a, pd_b);
    XOP("sqrtps", "sqrtps %2, %%xmm0", ps_e, ps_e);
    XOP("cvtps2dq", "cvtps2dq %2, %%xmm0", ps_f, ps_f);
    XOP("cvttps2dq", "cvttps2dq %2, %%xmm0", ps_f, ps_f);
    XOP("cvtpd2ps", "cvtpd2ps %2, %%xmm0", pd_a, pd_a);
    XOP("cvtdq2pd", "cvtdq2pd %2, %%xmm0", bytes_b, bytes_b);
    XOP("roundps", "roundps $0, %2, %%xmm0", ps_f, ps_f);
    XOP("roundps floor", "roundps $9, %2, %%xmm0", ps_f, ps_f);
    XOP("pmulhrsw", "pmulhrsw %2, %%xmm0", bytes_a, bytes_b);
    XOP("pmuldq", "pmuldq %2, %%xmm0", bytes_a, bytes_b);
    XOP("pmulld", "pmulld %2, %%xmm0", bytes_a, bytes_b);
    XOP("packusdw", "packusdw %2, %%xmm0", bytes_a, bytes_b);
    XOP("packsswb", "packsswb %2, %%xmm0", bytes_a, bytes_b);
    XOP("pminud", "pminud %2, %%xmm0", bytes_a, bytes_b);
    XOP("pmaxsb", "pmaxsb %2, %%xmm0", bytes_a, bytes_b);
    XOP("psadbw", "psadbw %2, %%xmm0", bytes_a, bytes_b);
    XOP("pavgb", "pavgb %2, %%xmm0", bytes_a, bytes_b);
    XOP("mpsadbw", "mpsadbw $5, %2, %%xmm0", bytes_a, bytes_b);
    XOP("phminposuw", "phminposuw %2, %%xmm0", bytes_b, bytes_b);
    XOP("pmovsxbw", "pmovsxbw %2, %%xmm0", bytes_b, bytes_b);
    XOP("pmovzxbd", "pmovzxbd %2, %%xmm0", bytes_b, bytes_b);
    XOP("palignr", "palignr $5, %2, %%xmm0", bytes_a, bytes_b);
    XOP("insertps", "insertps $0x29, 4+%2, %%xmm0", ps_a, ps_b);
    XOP("pshufd", "pshufd $0x1b, %2, %%xmm0", bytes_a, bytes_b);
    XOP("punpckhbw", "punpckhbw %2, %%xmm0", bytes_a, bytes_b);
    XOP("psrad", "psrad $3, %%xmm0", bytes_b, bytes_b);
    XOP("pslldq", "pslldq $5, %%xmm0", bytes_b, bytes_b);
    {
        uint32_t m;
        __asm__ volatile("movdqu %1, %%xmm0\n\tpmovmskb %%xmm0, %0" : "=r"(m) : "m"(bytes_b) : "xmm0");
        memcpy(res, &m, 4);
        show("pmovmskb", 4);
        uint64_t f1, f2;
        __asm__ volatile("movdqu %2, %%xmm0\n\tptest %3, %%xmm0\n\tpushfq\n\tpopq %0\n\t"
                         "movdqu %4, %%xmm0\n\tptest %4, %%xmm0\n\tpushfq\n\tpopq %1"
                         : "=r"(f1), "=r"(f2) : "m"(bytes_a), "m"(bytes_b), "m"(shuf_mask)
                         : "xmm0", "cc");
        uint32_t v1 = (uint32_t)f1 & 0x8d5, v2 = (uint32_t)f2 & 0x8d5;
        memcpy(res, &v1, 4);
        memcpy(res + 4, &v2, 4);
        show("ptest", 8);
        __asm__ volatile("movdqu %1, %%xmm1\n\tpcmpestrm $0x44, %2, %%xmm1\n\tmovdqu %%xmm0, %0"
                         : "=m"(res) : "m"(str_needle), "m"(str_hay), "a"(4), "d"(11)
                         : "xmm0", "xmm1", "ecx", "cc");
        show("pcmpestrm", 16);
    }
    return 0;
}
