/* The collectives of one training sync round, timed alone (an osu-like loop) for the cost
 * model in docs/PERFORMANCE.md: a barrier, an allreduce of N int64 sums, a broadcast of B bytes.
 *   mpicc -O2 scripts/allreduce-latency.c -o allreduce-latency
 *   mpirun -n R allreduce-latency [repeats]
 * Prints per size the median seconds over the repeats (each repeat starts after a barrier).
 * With repeats 0 it only starts and ends MPI: the launch cost, timed from outside. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_value(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static double median(double* v, int n) {
  qsort(v, (size_t)n, sizeof *v, by_value);
  return v[n / 2];
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int repeats = argc > 1 ? atoi(argv[1]) : 21;
  if (repeats < 1) {
    MPI_Finalize();
    return 0;
  }
  /* int64 counts: 3 (the maxima), 14 x 1k .. 14 x 100k (2 x 7 per synced row) */
  const long counts[] = {3, 14000, 140000, 1400000};
  double* t = malloc(sizeof(double) * (size_t)repeats);
  if (rank == 0) printf("ranks %d; median of %d\n| operation | elements | bytes | seconds |\n|---|---|---|---|\n", size, repeats);
  for (int i = 0; i < repeats; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    MPI_Barrier(MPI_COMM_WORLD);
    t[i] = MPI_Wtime() - t0;
  }
  double m = median(t, repeats);
  if (rank == 0) printf("| barrier | | | %.6f |\n", m);
  for (size_t c = 0; c < sizeof counts / sizeof *counts; ++c) {
    int64_t* v = calloc((size_t)counts[c], sizeof *v);
    for (int i = 0; i < repeats; ++i) {
      MPI_Barrier(MPI_COMM_WORLD);
      const double t0 = MPI_Wtime();
      MPI_Allreduce(MPI_IN_PLACE, v, (int)counts[c], MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
      t[i] = MPI_Wtime() - t0;
    }
    m = median(t, repeats);
    if (rank == 0) printf("| allreduce sum int64 | %ld | %ld | %.6f |\n", counts[c], counts[c] * 8, m);
    free(v);
  }
  const long bytes[] = {1L << 20, 64L << 20};
  for (size_t c = 0; c < sizeof bytes / sizeof *bytes; ++c) {
    char* v = calloc((size_t)bytes[c], 1);
    for (int i = 0; i < (repeats < 5 ? repeats : 5); ++i) {
      MPI_Barrier(MPI_COMM_WORLD);
      const double t0 = MPI_Wtime();
      MPI_Bcast(v, (int)bytes[c], MPI_CHAR, 0, MPI_COMM_WORLD);
      MPI_Barrier(MPI_COMM_WORLD);  /* until the last rank holds it */
      t[i] = MPI_Wtime() - t0;
    }
    m = median(t, repeats < 5 ? repeats : 5);
    if (rank == 0) printf("| broadcast | | %ld | %.6f |\n", bytes[c], m);
    free(v);
  }
  free(t);
  MPI_Finalize();
  return 0;
}
