/* DRAM read bandwidth: T threads each sum their own slice of a buffer far
 * larger than the caches, R times. Prints one JSON object: every
 * repetition's GB/s, the best (what STREAM reports) and the median (a shared
 * host's bandwidth drifts, so bench_cpu.py measures around its runs).
 *
 *   cc -O3 -march=native -pthread membw.c -o membw
 *   membw [--threads=T] [--mib=M] [--repeat=R]
 *
 * Defaults: every online CPU, 1024 MiB, 10 repetitions. Each thread touches
 * its slice first (so its pages are its own), then all start together at a
 * barrier; a repetition lasts from the first thread's start to the last
 * thread's finish, each read by the worker itself (the main thread only
 * waits: with as many workers as CPUs it could be scheduled late). A
 * checksum of the sums is printed so that the compiler keeps the loads;
 * they vectorize to full-width loads at -O3 -march=native. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  const uint64_t *begin;
  size_t count;
  int repeat;
  uint64_t sum;
  pthread_barrier_t *start;
  double *begins, *ends; /* per repetition */
} Slice;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t sumSlice(const uint64_t *p, size_t n) {
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    a0 += p[i]; a1 += p[i + 1]; a2 += p[i + 2]; a3 += p[i + 3];
    a4 += p[i + 4]; a5 += p[i + 5]; a6 += p[i + 6]; a7 += p[i + 7];
  }
  for (; i < n; ++i)
    a0 += p[i];
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

static void *worker(void *arg) {
  Slice *s = arg;
  uint64_t *w = (uint64_t *)s->begin;
  for (size_t i = 0; i < s->count; ++i)
    w[i] = i * 0x9E3779B97F4A7C15ull;
  for (int r = 0; r < s->repeat; ++r) {
    pthread_barrier_wait(s->start);
    s->begins[r] = now();
    s->sum += sumSlice(s->begin, s->count);
    s->ends[r] = now();
  }
  return NULL;
}

static int compareDoubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int flag(const char *arg, const char *name, long *value) {
  size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0 || arg[n] != '=')
    return 0;
  char *end;
  *value = strtol(arg + n + 1, &end, 10);
  if (*end != '\0' || *value <= 0) {
    fprintf(stderr, "membw: error: %s needs a positive integer\n", name);
    exit(2);
  }
  return 1;
}

int main(int argc, char **argv) {
  long threads = sysconf(_SC_NPROCESSORS_ONLN), mib = 1024, repeat = 10;
  for (int i = 1; i < argc; ++i) {
    if (!flag(argv[i], "--threads", &threads) && !flag(argv[i], "--mib", &mib) &&
        !flag(argv[i], "--repeat", &repeat)) {
      fprintf(stderr, "membw: error: unknown argument '%s'\n"
                      "usage: membw [--threads=T] [--mib=M] [--repeat=R]\n", argv[i]);
      return 2;
    }
  }
  size_t words = (size_t)mib * (1u << 20) / sizeof(uint64_t);
  uint64_t *buffer = NULL;
  if (posix_memalign((void **)&buffer, 4096, words * sizeof(uint64_t)) != 0) {
    fprintf(stderr, "membw: error: cannot allocate %ld MiB\n", mib);
    return 1;
  }
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)threads);
  Slice *slices = calloc((size_t)threads, sizeof(Slice));
  pthread_t *ids = calloc((size_t)threads, sizeof(pthread_t));
  double *times = calloc((size_t)(2 * threads * repeat), sizeof(double));
  size_t per = words / (size_t)threads / 8 * 8;
  for (long t = 0; t < threads; ++t) {
    slices[t] = (Slice){buffer + (size_t)t * per, per, (int)repeat, 0, &start,
                        times + 2 * t * repeat, times + (2 * t + 1) * repeat};
    pthread_create(&ids[t], NULL, worker, &slices[t]);
  }
  uint64_t check = 0;
  for (long t = 0; t < threads; ++t) {
    pthread_join(ids[t], NULL);
    check ^= slices[t].sum;
  }
  double bytes = (double)per * (double)threads * sizeof(uint64_t);
  double *rates = calloc((size_t)repeat, sizeof(double));
  printf("{\"threads\": %ld, \"mib\": %ld, \"repeat\": %ld, \"gb_per_s\": [", threads, mib,
         repeat);
  for (long r = 0; r < repeat; ++r) {
    double first = 1e30, last = 0;
    for (long t = 0; t < threads; ++t) {
      if (slices[t].begins[r] < first)
        first = slices[t].begins[r];
      if (slices[t].ends[r] > last)
        last = slices[t].ends[r];
    }
    rates[r] = bytes / (last - first) / 1e9;
    printf("%s%.2f", r ? ", " : "", rates[r]);
  }
  qsort(rates, (size_t)repeat, sizeof(double), compareDoubles);
  double median = repeat % 2 ? rates[repeat / 2]
                             : 0.5 * (rates[repeat / 2 - 1] + rates[repeat / 2]);
  printf("], \"best_gb_per_s\": %.2f, \"median_gb_per_s\": %.2f, \"checksum\": %llu}\n",
         rates[repeat - 1], median, (unsigned long long)(check & 0xFFFF));
  free(rates);
  free(times);
  free(ids);
  free(slices);
  free(buffer);
  return 0;
}
