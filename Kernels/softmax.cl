// Softmax and LogSoftmax (ONNX opset 13) along the middle axis of x viewed as [outer][n][inner]:
// y = exp(x − m) / s, or (x − m) − log s, with m the largest value of the run along n and s the
// sum of exp(x − m) over it, so that no exp overflows. A NaN anywhere in a run makes s, and so
// every output of the run, NaN (fmax skips the NaN, the sum does not), as the reference gives.
// One work-item takes a run (or a block of runs) in three passes, in a fixed order, so that the
// same inputs give the same bits: the maximum; exp(x − m) and its sum, the exps kept in the
// output; the outputs (softmax multiplies the kept exps by 1 / s, so each value has one exp and
// no division; LogSoftmax reads x again). Vectors of LANES floats (see the prelude).

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

__kernel void softmax_columns(
    __global float* restrict y, __global const float* restrict x, const int n, const int inner, const int outer,
    const int vectors, const int logarithm)
{
    const int first = get_global_id(0) * vectors * LANES, o = get_global_id(1);
    if (first >= inner || o >= outer) return;
    const int used = min(vectors, (inner - first + LANES - 1) / LANES);
    const size_t start = (size_t)o * n * inner + first;
#define COUNT(v) min(LANES, inner - first - (v) * LANES)
    floatL m[MAX_VECTORS], s[MAX_VECTORS];
    for (int v = 0; v < used; ++v) {
        m[v] = (floatL)(-INFINITY);
        s[v] = (floatL)(0.0f);
    }
    for (int i = 0; i < n; ++i)
        for (int v = 0; v < used; ++v) m[v] = fmax(m[v], load_lanes(x + start + (size_t)i * inner + v * LANES, COUNT(v)));
    // Softmax keeps exp(x − m) in y for the last pass, which divides it by the sum: one exp a value.
    for (int i = 0; i < n; ++i) {
        for (int v = 0; v < used; ++v) {
            const size_t at = start + (size_t)i * inner + v * LANES;
            const floatL e = exp(load_lanes(x + at, COUNT(v)) - m[v]);
            s[v] += e;
            if (!logarithm) store_prefix(y + at, e, COUNT(v));
        }
    }
    // s becomes log s, or 1 / s: the last pass multiplies by it rather than dividing each value
    // (both softmax bench cases 1.04–1.06× faster, three alternated runs).
    for (int v = 0; v < used; ++v) s[v] = logarithm ? log(s[v]) : 1.0f / s[v];
    for (int i = 0; i < n; ++i) {
        for (int v = 0; v < used; ++v) {
            const size_t at = start + (size_t)i * inner + v * LANES;
            store_prefix(y + at, logarithm ? load_lanes(x + at, COUNT(v)) - m[v] - s[v] : load_lanes(y + at, COUNT(v)) * s[v], COUNT(v));
        }
    }
#undef COUNT
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
