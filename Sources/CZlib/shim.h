/* zlib from Debian's zlib1g-dev (gzip-compressed IDX files). */
#include <zlib.h>
