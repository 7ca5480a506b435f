/*
 * Toeplitz privacy amplification with FFTW: the C baseline that the `pa` benchmark compares the
 * WASM kernel against. Same hash, same sizes: y = T x over GF(2) with T[i][j] = s[i - j + n - 1]
 * (seed s of n + m - 1 bits), i.e. y is bits n-1 .. n+m-2 of the product s(z) x(z). FFTW computes
 * the integer convolution in double precision (one bit per coefficient, a real FFT of the smallest
 * power-of-two length L >= n + m - 1, so the cyclic wrap cannot reach the bits we keep), and each
 * output bit is the parity of the rounded coefficient.
 *
 * Plans are made once per size with FFTW_ESTIMATE (the default plan; not timed). Each timed run
 * draws a fresh seed and input, converts bits to doubles, runs two forward r2c transforms, the
 * pointwise product and one c2r transform, and packs the parities: everything a caller pays per
 * block.
 *
 * Usage: pa_fftw n m runs [check_seed]
 * Prints one JSON line: {"n":..,"m":..,"runs":..,"mbps":<median input Mbit/s>,"digest":..}.
 * digest is FNV-1a over the output bytes of the hash of the inputs drawn from check_seed with
 * xorshift32 (seed bits first, then input bits, 32 bits per draw, little-endian), so the benchmark
 * can check that this baseline and the kernel compute the same function.
 *
 * Build: gcc -O2 -o pa_fftw pa_fftw.c -lfftw3 -lm
 */
#include <fftw3.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint32_t rng_state;
static uint32_t xorshift32(void) {
  uint32_t s = rng_state;
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return rng_state = s;
}

static void fill_bits(uint32_t *words, size_t nbits) {
  size_t nw = (nbits + 31) / 32;
  for (size_t i = 0; i < nw; i++) words[i] = xorshift32();
  if (nbits % 32) words[nw - 1] &= (1u << (nbits % 32)) - 1;
}

typedef struct {
  size_t n, m, L;
  double *a, *b;
  fftw_complex *fa, *fb;
  fftw_plan pa, pb, pinv;
} toeplitz_fft;

static void tf_init(toeplitz_fft *t, size_t n, size_t m) {
  t->n = n;
  t->m = m;
  t->L = 1;
  while (t->L < n + m - 1) t->L <<= 1;
  t->a = fftw_alloc_real(t->L);
  t->b = fftw_alloc_real(t->L);
  t->fa = fftw_alloc_complex(t->L / 2 + 1);
  t->fb = fftw_alloc_complex(t->L / 2 + 1);
  t->pa = fftw_plan_dft_r2c_1d((int)t->L, t->a, t->fa, FFTW_ESTIMATE);
  t->pb = fftw_plan_dft_r2c_1d((int)t->L, t->b, t->fb, FFTW_ESTIMATE);
  t->pinv = fftw_plan_dft_c2r_1d((int)t->L, t->fa, t->a, FFTW_ESTIMATE);
}

/* out: ceil(m/32) words. */
static void tf_hash(toeplitz_fft *t, const uint32_t *seed, const uint32_t *x, uint32_t *out) {
  size_t n = t->n, m = t->m, L = t->L, ns = n + m - 1;
  for (size_t i = 0; i < L; i++) t->a[i] = i < ns ? (double)((seed[i >> 5] >> (i & 31)) & 1) : 0.0;
  for (size_t i = 0; i < L; i++) t->b[i] = i < n ? (double)((x[i >> 5] >> (i & 31)) & 1) : 0.0;
  fftw_execute(t->pa);
  fftw_execute(t->pb);
  for (size_t k = 0; k <= L / 2; k++) {
    double re = t->fa[k][0] * t->fb[k][0] - t->fa[k][1] * t->fb[k][1];
    double im = t->fa[k][0] * t->fb[k][1] + t->fa[k][1] * t->fb[k][0];
    t->fa[k][0] = re;
    t->fa[k][1] = im;
  }
  fftw_execute(t->pinv);
  memset(out, 0, ((m + 31) / 32) * 4);
  double scale = 1.0 / (double)L;
  for (size_t i = 0; i < m; i++) {
    long long v = llround(t->a[n - 1 + i] * scale);
    out[i >> 5] |= (uint32_t)(v & 1) << (i & 31);
  }
}

static int cmp_double(const void *p, const void *q) {
  double a = *(const double *)p, b = *(const double *)q;
  return a < b ? -1 : a > b;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s n m runs [check_seed]\n", argv[0]);
    return 2;
  }
  size_t n = strtoull(argv[1], 0, 10), m = strtoull(argv[2], 0, 10);
  int runs = atoi(argv[3]);
  uint32_t check_seed = argc > 4 ? (uint32_t)strtoul(argv[4], 0, 10) : 1;
  if (n < 1 || m < 1 || runs < 1 || check_seed == 0) return 2;
  toeplitz_fft t;
  tf_init(&t, n, m);
  uint32_t *seed = calloc((n + m + 31) / 32 + 1, 4), *x = calloc((n + 31) / 32 + 1, 4);
  uint32_t *out = calloc((m + 31) / 32 + 1, 4);
  double *secs = calloc((size_t)runs, sizeof(double));

  rng_state = check_seed;
  fill_bits(seed, n + m - 1);
  fill_bits(x, n);
  tf_hash(&t, seed, x, out);
  uint64_t digest = 0xcbf29ce484222325ull;
  const uint8_t *ob = (const uint8_t *)out;
  for (size_t i = 0; i < (m + 7) / 8; i++) digest = (digest ^ ob[i]) * 0x100000001b3ull;

  rng_state = 0x9e3779b9u;
  for (int r = 0; r < runs; r++) {
    fill_bits(seed, n + m - 1); /* fresh seed every block */
    fill_bits(x, n);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tf_hash(&t, seed, x, out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs[r] = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  }
  qsort(secs, (size_t)runs, sizeof(double), cmp_double);
  double med = runs % 2 ? secs[runs / 2] : 0.5 * (secs[runs / 2 - 1] + secs[runs / 2]);
  printf("{\"n\":%zu,\"m\":%zu,\"L\":%zu,\"runs\":%d,\"mbps\":%.3f,\"digest\":\"%016llx\"}\n", n, m, t.L, runs,
         (double)n / med / 1e6, (unsigned long long)digest);
  return 0;
}
