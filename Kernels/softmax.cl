// Softmax and LogSoftmax (ONNX opset 13) along the middle axis of x viewed as [outer][n][inner]:
// y = exp(x − m) / s, or (x − m) − log s, with m the largest value of the run along n and s the
// sum of exp(x − m) over it, so that no exp overflows. A NaN anywhere in a run makes s, and so
// every output of the run, NaN (fmax skips the NaN, the sum does not), as the reference gives.
// One work-item takes a run (or a block of runs) in three passes, in a fixed order, so that the
// same inputs give the same bits: the maximum; exp(x − m) and its sum, the exps kept in the
// output (or a private tile, below); the outputs (softmax multiplies the kept exps by 1 / s, so
// each value has one exp and no division; LogSoftmax reads x again). Vectors of LANES floats
// (see the prelude).

// Lanes 0 … count − 1 of p (count ≤ LANES; one load when count = LANES), zeros after them.
ALWAYS_INLINE floatL load_lanes(__global const float* p, const int count)
{
    if (count == LANES) return *(__global const unaligned_floatL*)p;
    float lanes[LANES];
    for (int l = 0; l < LANES; ++l) lanes[l] = l < count ? p[l] : 0.0f;
    return WITH_LANES(vload)(0, lanes);
}

// The largest lane of v, and the sum of its lanes (lane 0 first).
ALWAYS_INLINE float largest_lane(const floatL v)
{
    float lanes[LANES];
    WITH_LANES(vstore)(v, 0, lanes);
    float m = lanes[0];
    for (int l = 1; l < LANES; ++l) m = fmax(m, lanes[l]);
    return m;
}

ALWAYS_INLINE float lane_sum(const floatL v)
{
    float lanes[LANES];
    WITH_LANES(vstore)(v, 0, lanes);
    float s = lanes[0];
    for (int l = 1; l < LANES; ++l) s += lanes[l];
    return s;
}

// inner > 1: work-item (b, o) takes the columns b · vectors · LANES … + vectors · LANES − 1 (those
// before inner) of run group o, as `vectors` vectors (at most MAX_VECTORS, a define from the host)
// per row of the axis, sweeping the rows in order so that each row's part is one contiguous run.
// (With one vector a work-item, every load was a new page, which the prefetchers do not follow:
// the loads of the first pass waited on memory and took most of the time.) Global size:
// (ceil(inner / (vectors · LANES)), outer).
// Where TILE (a define from the host: floats, 0 for none) holds n rows of at least one vector, the
// work-item takes its columns in chunks of as many vectors as the tile holds, and the first pass
// copies them into the tile, where the other two read and keep the exps: x is read once and y
// written once. Without it, they read x again and keep the exps in y. (Rows inner floats apart
// share the same cache sets when inner · 4 is a multiple of 4 KiB, so the global reads of the
// later passes missed the caches: [16, 256, 32, 32] along axis 1 ran 1.16× faster tiled.)
// The three passes over the columns of [start, start + used vectors): the first keeps each input
// with KEEP_INPUT(i, v, value), the second reads it with KEPT(i, v) and keeps its exp with
// KEEP_EXP(i, v, value), and the last reads LAST(i, v).
#define COLUMN_PASSES(KEEP_INPUT, KEPT, KEEP_EXP, LAST) { \
    for (int v = 0; v < used; ++v) { \
        m[v] = (floatL)(-INFINITY); \
        s[v] = (floatL)(0.0f); \
    } \
    for (int i = 0; i < n; ++i) { \
        for (int v = 0; v < used; ++v) { \
            const floatL t = load_lanes(x + AT(i, v), COUNT(v)); \
            m[v] = fmax(m[v], t); \
            KEEP_INPUT(i, v, t); \
        } \
    } \
    /* Softmax keeps exp(x − m) for the last pass, which divides it by the sum: one exp a value. */ \
    for (int i = 0; i < n; ++i) { \
        for (int v = 0; v < used; ++v) { \
            const floatL e = exp(KEPT(i, v) - m[v]); \
            s[v] += e; \
            if (!logarithm) KEEP_EXP(i, v, e); \
        } \
    } \
    /* s becomes log s, or 1 / s: the last pass multiplies by it rather than dividing each value \
       (both softmax bench cases 1.04–1.06× faster, three alternated runs). */ \
    for (int v = 0; v < used; ++v) s[v] = logarithm ? log(s[v]) : 1.0f / s[v]; \
    for (int i = 0; i < n; ++i) { \
        for (int v = 0; v < used; ++v) { \
            const floatL t = LAST(i, v); \
            store_prefix(y + AT(i, v), logarithm ? t - m[v] - s[v] : t * s[v], COUNT(v)); \
        } \
    } }

__kernel void softmax_columns(
    __global float* restrict y, __global const float* restrict x, const int n, const int inner, const int outer,
    const int vectors, const int logarithm)
{
    const int begin = get_global_id(0) * vectors * LANES, o = get_global_id(1);
    if (begin >= inner || o >= outer) return;
    const int end = min(inner, begin + vectors * LANES);
    floatL m[MAX_VECTORS], s[MAX_VECTORS];
#define COUNT(v) min(LANES, end - first - (v) * LANES)
#define AT(i, v) (start + (size_t)(i) * inner + (v) * LANES)
#if TILE >= LANES
    if (n <= TILE / LANES) {
        floatL tile[TILE / LANES];
        const int chunk = min(vectors, TILE / LANES / n);
        for (int first = begin; first < end; first += chunk * LANES) {
            const int used = min(chunk, (end - first + LANES - 1) / LANES);
            const size_t start = (size_t)o * n * inner + first;
#define TILE_KEEP(i, v, value) tile[(i) * used + (v)] = (value)
#define TILE_KEPT(i, v) tile[(i) * used + (v)]
            COLUMN_PASSES(TILE_KEEP, TILE_KEPT, TILE_KEEP, TILE_KEPT)
        }
        return;
    }
#endif
    const int first = begin, used = (end - first + LANES - 1) / LANES;
    const size_t start = (size_t)o * n * inner + first;
#define NOTHING(i, v, value)
#define GLOBAL_KEEP(i, v, value) store_prefix(y + AT(i, v), (value), COUNT(v))
#define GLOBAL_KEPT(i, v) load_lanes(x + AT(i, v), COUNT(v))
#define GLOBAL_LAST(i, v) load_lanes((logarithm ? x : y) + AT(i, v), COUNT(v))
    COLUMN_PASSES(NOTHING, GLOBAL_KEPT, GLOBAL_KEEP, GLOBAL_LAST)
#undef COUNT
#undef AT
}

// inner = 1 (the last axis): work-item o takes run o, LANES values at a time, then the rest one
// by one. Global size: (outer).
__kernel void softmax_rows(
    __global float* restrict y, __global const float* restrict x, const int n, const int outer, const int logarithm)
{
    const int o = get_global_id(0);
    if (o >= outer) return;
    __global const float* row = x + (size_t)o * n;
    __global float* out = y + (size_t)o * n;
    const int whole = n / LANES * LANES;
    floatL mv = (floatL)(-INFINITY);
    for (int i = 0; i < whole; i += LANES) mv = fmax(mv, load_lanes(row + i, LANES));
    float m = largest_lane(mv);
    for (int i = whole; i < n; ++i) m = fmax(m, row[i]);
    // As in softmax_columns, exp(x − m) waits in the output for the last pass.
    floatL sv = (floatL)(0.0f);
    for (int i = 0; i < whole; i += LANES) {
        const floatL e = exp(load_lanes(row + i, LANES) - m);
        sv += e;
        if (!logarithm) store_prefix(out + i, e, LANES);
    }
    float s = lane_sum(sv);
    for (int i = whole; i < n; ++i) {
        const float e = exp(row[i] - m);
        s += e;
        if (!logarithm) out[i] = e;
    }
    const float logS = log(s), reciprocal = 1.0f / s;
    for (int i = 0; i < whole; i += LANES)
        store_prefix(out + i, logarithm ? load_lanes(row + i, LANES) - m - logS : load_lanes(out + i, LANES) * reciprocal, LANES);
    for (int i = whole; i < n; ++i) out[i] = logarithm ? row[i] - m - logS : out[i] * reciprocal;
}
