// A plain C linear-chain CRF, the yardstick for the WASM kernels' single-thread speed: log Z in scaled
// (linear) space and Viterbi with backpointers, one sequence after another, as a careful C programmer
// would write them without intrinsics. bench/run.js compiles it with `cc -O3 -march=native -ffast-math`
// where a C compiler exists and reads one JSON line per (op, shape) from its output.
//   crf <B>x<T>x<K>[,...] <min-ms>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// Deterministic data in [-4, 4): a trained tagger's logit scale, as bench/run.js uses.
static unsigned state = 12345;
static float uniform(void) {
  state = state * 1664525u + 1013904223u;
  return (float)((state >> 8) * (1.0 / 16777216.0));
}

typedef struct {
  int K;
  float *start, *end, *trans, *expTrans;
} Crf;

static double logPartition(const Crf *c, const float *em, int T, float *a, float *b) {
  const int K = c->K;
  double logScale = 0;
  float mx = -INFINITY;
  for (int j = 0; j < K; j++) mx = fmaxf(mx, c->start[j] + em[j]);
  for (int j = 0; j < K; j++) a[j] = expf(c->start[j] + em[j] - mx);
  logScale = mx;
  for (int t = 1; t < T; t++) {
    const float *e = em + (size_t)t * K;
    for (int j = 0; j < K; j++) b[j] = 0;
    for (int i = 0; i < K; i++) {
      const float ai = a[i];
      const float *m = c->expTrans + (size_t)i * K;
      for (int j = 0; j < K; j++) b[j] += ai * m[j];
    }
    float s = 0;
    for (int j = 0; j < K; j++) {
      b[j] *= expf(e[j]);
      s += b[j];
    }
    const float inv = 1.0f / s;
    for (int j = 0; j < K; j++) a[j] = b[j] * inv;
    logScale += logf(s);
  }
  float s = 0;
  for (int j = 0; j < K; j++) s += a[j] * expf(c->end[j]);
  return logScale + logf(s);
}

static float viterbi(const Crf *c, const float *em, int T, float *a, float *b, int *back, int *path) {
  const int K = c->K;
  for (int j = 0; j < K; j++) a[j] = c->start[j] + em[j];
  for (int t = 1; t < T; t++) {
    const float *e = em + (size_t)t * K;
    int *bp = back + (size_t)t * K;
    // i outer, j inner: rows of trans are contiguous, so the compiler vectorises over j.
    for (int j = 0; j < K; j++) b[j] = a[0] + c->trans[j], bp[j] = 0;
    for (int i = 1; i < K; i++) {
      const float ai = a[i];
      const float *m = c->trans + (size_t)i * K;
      for (int j = 0; j < K; j++) {
        const float v = ai + m[j];
        const int better = v > b[j];
        b[j] = better ? v : b[j];
        bp[j] = better ? i : bp[j];
      }
    }
    for (int j = 0; j < K; j++) b[j] += e[j];
    memcpy(a, b, sizeof(float) * K);
  }
  float best = a[0] + c->end[0];
  int y = 0;
  for (int j = 1; j < K; j++)
    if (a[j] + c->end[j] > best) {
      best = a[j] + c->end[j];
      y = j;
    }
  for (int t = T - 1; t >= 0; t--) {
    path[t] = y;
    if (t > 0) y = back[(size_t)t * K + y];
  }
  return best;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: crf BxTxK[,...] min-ms\n");
    return 2;
  }
  const double minMs = atof(argv[2]);
  char *shapes = strdup(argv[1]);
  volatile double sink = 0;
  for (char *tok = strtok(shapes, ","); tok; tok = strtok(NULL, ",")) {
    int B, T, K;
    if (sscanf(tok, "%dx%dx%d", &B, &T, &K) != 3) return 2;
    Crf c = {K, malloc(4 * K), malloc(4 * K), malloc(4 * (size_t)K * K), malloc(4 * (size_t)K * K)};
    for (int i = 0; i < K; i++) c.start[i] = uniform() * 0.2f - 0.1f, c.end[i] = uniform() * 0.2f - 0.1f;
    for (int i = 0; i < K * K; i++) c.trans[i] = uniform() * 0.2f - 0.1f, c.expTrans[i] = expf(c.trans[i]);
    float *em = malloc(4 * (size_t)B * T * K);
    for (size_t i = 0; i < (size_t)B * T * K; i++) em[i] = uniform() * 8 - 4;
    float *a = malloc(4 * K), *b = malloc(4 * K);
    int *back = malloc(4 * (size_t)T * K), *path = malloc(4 * (size_t)T);
    for (int op = 0; op < 2; op++) {
      int calls = 0;
      double t0 = now_ms(), dt = 0;
      // Warm for as long as a timed run, then time: the same steady state the JS side measures.
      for (int warm = 1; warm >= 0; warm--) {
        calls = 0;
        t0 = now_ms();
        do {
          for (int s = 0; s < B; s++) {
            const float *e = em + (size_t)s * T * K;
            sink += op == 0 ? logPartition(&c, e, T, a, b) : viterbi(&c, e, T, a, b, back, path);
          }
          calls++;
          dt = now_ms() - t0;
        } while (dt < minMs || calls < 3);
      }
      const double ms = dt / calls;
      printf("{\"backend\":\"native-c\",\"op\":\"%s\",\"B\":%d,\"T\":%d,\"K\":%d,\"tokensPerSec\":%.0f,\"msPerCall\":%.6f,\"calls\":%d}\n",
             op == 0 ? "forward" : "decode", B, T, K, B * T / (ms / 1000), ms, calls);
    }
    free(c.start), free(c.end), free(c.trans), free(c.expTrans), free(em), free(a), free(b), free(back), free(path);
  }
  return sink == 12345.678 ? 1 : 0;
}
