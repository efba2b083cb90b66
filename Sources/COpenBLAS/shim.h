/* CBLAS from Debian's libopenblas-dev (SGEMM for the training side's im2col convolutions). */
#include <cblas.h>
