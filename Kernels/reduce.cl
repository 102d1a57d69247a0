// Reductions in two stages. Each output element's reduced set is split into `splits` chunks:
// reduce_partial reduces one chunk per work-item to a float2 partial, reduce_final combines the
// partials of one output and finishes (mean divides, l2 takes the root, ...). With one chunk per
// output, reduce_partial finishes it itself and there is no second stage.
//
// The operation, in ReductionOperation's order:
//   0 sum, 1 mean, 2 max, 3 min, 4 prod, 5 l1, 6 l2, 7 sumsquare, 8 logsum, 9 logsumexp,
// is the build define OP, except in the first-call program (FIRST_CALL), which serves every
// operation with one build: there it is the kernels' argument `op` (the specialised programs ignore
// it). The scalar helpers take it as an argument and test it in C, which folds away for a define.
// Partials: sum-like ops keep (Kahan sum, compensation) so float32 sums of 10^7 values stay
// accurate; max/min/prod keep (value, unused); logsumexp keeps (running max m, Σ exp(x − m)),
// which never overflows.
//
// Index maps: output o and reduced element r decompose row-major over (size, stride) pairs passed
// as int8 vectors (at most 8 merged axes each).
//
// Programs: ROWS (a build define) builds reduce_rows alone; otherwise reduce_partial and
// reduce_final, and FIRST_CALL leaves out their vector paths, so that the program builds in a
// fraction of the time and serves first calls while the full one builds (see KernelTier).

#ifdef FIRST_CALL
#define OPERATION op
#else
#ifndef OP
#define OP 0
#endif
#define OPERATION OP
#endif

#define IS_SUM_LIKE(op) ((op) == 0 || (op) == 1 || (op) == 5 || (op) == 6 || (op) == 7 || (op) == 8)
#define SUM_LIKE IS_SUM_LIKE(OP)

inline int offset_of(int index, const int rank, const int8 sizes8, const int8 strides8)
{
    // One merged axis (as for contiguous planes) needs no division: global average pooling's
    // partials 35 → 44 GB/s.
    if (rank == 1) return index * strides8.s0;
    int offset = 0;
    for (int axis = rank - 1; axis >= 0; --axis) {
        const int size = lane(sizes8, axis);
        offset += (index % size) * lane(strides8, axis);
        index /= size;
    }
    return offset;
}

inline float2 identity(const int op)
{
    if (IS_SUM_LIKE(op)) return (float2)(0.0f, 0.0f);
    if (op == 2 || op == 9) return (float2)(-INFINITY, 0.0f);
    if (op == 3) return (float2)(INFINITY, 0.0f);
    return (float2)(1.0f, 0.0f);
}

// Adds one value to a Kahan sum (s, c): s + (−c) is the running total. An infinite or NaN term
// makes the compensation meaningless, so then the plain sum carries on (c = 0).
inline float2 kahan_add(float2 state, float term)
{
    const float y = term - state.y;
    const float t = state.x + y;
    if (!isfinite(t)) return (float2)(state.x + term, 0.0f);
    return (float2)(t, (t - state.x) - y);
}

// logsumexp partials (m, s) stand for s·exp(m). Equal maxima add directly (so +inf with +inf
// stays +inf); −inf contributes nothing.
inline float2 combine_lse(float2 a, float2 b)
{
    if (b.x == -INFINITY) return isnan(b.y) ? (float2)(a.x, NAN) : a;
    if (a.x == -INFINITY) return isnan(a.y) ? (float2)(b.x, NAN) : b;
    if (a.x == b.x) return (float2)(a.x, a.y + b.y);
    if (a.x > b.x) return (float2)(a.x, a.y + b.y * exp(b.x - a.x));
    if (b.x > a.x) return (float2)(b.x, b.y + a.y * exp(a.x - b.x));
    return (float2)(a.x, NAN);  // a NaN maximum
}

// Folds one input value into a partial.
inline float2 accumulate(const int op, float2 state, float x)
{
    switch (op) {
    case 0: case 1: case 8: return kahan_add(state, x);
    case 5: return kahan_add(state, fabs(x));
    case 6: case 7: return kahan_add(state, x * x);
    case 2: return (x > state.x || isnan(x)) ? (float2)(x, 0.0f) : state;
    case 3: return (x < state.x || isnan(x)) ? (float2)(x, 0.0f) : state;
    case 4: return (float2)(state.x * x, 0.0f);
    default: return combine_lse(state, (float2)(x, 1.0f));
    }
}

#if OP != 9 && !defined(FIRST_CALL)
// A contiguous run is reduced 16 lanes at a time, each lane a partial of its own (a, b) as above;
// the lanes are then folded into the scalar partial. logsumexp stays scalar.
#define VECTOR_PATH 1
#define BLOCK 4

// Kahan addition on every lane, with the scalar version's fallback for non-finite sums.
#define DEFINE_KAHAN(N) \
    inline void kahan##N(float##N* a, float##N* b, const float##N term) \
    { \
        const float##N y = term - *b; \
        const float##N t = *a + y; \
        const int##N finite = isfinite(t); \
        *b = select((float##N)(0.0f), (t - *a) - y, finite); \
        *a = select(*a + term, t, finite); \
    }
DEFINE_KAHAN(16)
DEFINE_KAHAN(8)
DEFINE_KAHAN(4)
DEFINE_KAHAN(2)

// The value a sum-like operation adds for x.
inline float16 term16(const float16 x)
{
#if OP == 5
    return fabs(x);
#elif OP == 6 || OP == 7
    return x * x;
#else
    return x;
#endif
}

inline void accumulate16(float16* a, float16* b, const float16 x)
{
#if SUM_LIKE
    kahan16(a, b, term16(x));
#elif OP == 2
    *a = select(*a, x, isgreater(x, *a) | isnan(x));
#elif OP == 3
    *a = select(*a, x, isless(x, *a) | isnan(x));
#else
    *a = *a * x;
#endif
}

// Accumulates base[r … ] into the lanes (a, b) while 16 values remain, and returns where it stopped.
inline int accumulate_run16(float16* a, float16* b, __global const float* base, int r, const int end)
{
#if SUM_LIKE
    // Blocks of BLOCK vectors: a plain sum per lane, then one Kahan step per block. The rounding of
    // BLOCK additions is small, and the compensation removes the rest. A Kahan step per vector
    // cost 45% of the speed; blocks of 4 beat 8 and 16 on short rows.
    for (; r + 16 * BLOCK <= end; r += 16 * BLOCK) {
        float16 block = term16(vload16(0, base + r));
        for (int v = 1; v < BLOCK; ++v) block += term16(vload16(v, base + r));
        kahan16(a, b, block);
    }
#endif
    for (; r + 16 <= end; r += 16) accumulate16(a, b, vload16(0, base + r));
    return r;
}

inline float2 fold16(float2 state, const float16 a, const float16 b)
{
#if SUM_LIKE
    // Halve the lanes while keeping each half's compensation: 16 → 8 → 4 → 2, then two scalars.
    // (Halves go through memory: oclgrind misreads .lo/.hi of unoptimized code as uninitialized.)
    float lanes[16], compensations[16];
    vstore16(a, 0, lanes);
    vstore16(b, 0, compensations);
#define HALVE(N) \
    { \
        float##N low = vload##N(0, lanes), lowCompensation = vload##N(0, compensations); \
        kahan##N(&low, &lowCompensation, vload##N(1, lanes)); \
        kahan##N(&low, &lowCompensation, -vload##N(1, compensations)); \
        vstore##N(low, 0, lanes); \
        vstore##N(lowCompensation, 0, compensations); \
    }
    HALVE(8)
    HALVE(4)
    HALVE(2)
#undef HALVE
    state = kahan_add(kahan_add(state, lanes[0]), -compensations[0]);
    return kahan_add(kahan_add(state, lanes[1]), -compensations[1]);
#else
    float lanes[16];
    vstore16(a, 0, lanes);
    for (int lane = 0; lane < 16; ++lane) state = accumulate(OP, state, lanes[lane]);
    return state;
#endif
}
#endif

// The output of reduce_rows (no logsumexp) from its combined value x (a vector).
#if OP == 1
#define FINISH(x, reducedCount) ((x) / (float)(reducedCount))  // 0/0 = NaN for an empty reduction, as in ONNX
#elif OP == 6
#define FINISH(x, reducedCount) sqrt(x)
#elif OP == 8
#define FINISH(x, reducedCount) log(x)
#else
#define FINISH(x, reducedCount) (x)
#endif

// The output of a reduction from its combined partial.
inline float finish(const int op, const float2 state, const int reducedCount)
{
    switch (op) {
    case 1: return state.x / (float)reducedCount;  // 0/0 = NaN for an empty reduction, as in ONNX
    case 6: return sqrt(state.x);
    case 8: return log(state.x);
    case 9: return state.x == -INFINITY ? -INFINITY : state.x + log(state.y);
    default: return state.x;
    }
}

#ifndef ROWS
// `finals` is NULL with several chunks per output, else the outputs (splits = 1).
__kernel void reduce_partial(
    __global const float* restrict input, __global float2* restrict partials, __global float* restrict finals,
    const int outputs, const int splits, const int reducedCount, const int chunk,
    const int keptRank, const int8 keptSizes, const int8 keptStrides,
    const int reducedRank, const int8 reducedSizes, const int8 reducedStrides, const int op)
{
    const int item = get_global_id(0);
    if (item >= outputs * splits) return;
    const int o = item / splits;
    const int part = item % splits;
    __global const float* base = input + offset_of(o, keptRank, keptSizes, keptStrides);
    const int begin = part * chunk;
    const int end = min(reducedCount, begin + chunk);
    float2 state = identity(OPERATION);
    if (reducedRank == 1) {
        const int step = reducedStrides.s0;
        int r = begin;
#ifdef VECTOR_PATH
        if (step == 1 && end - begin >= 16) {
            const float2 start = identity(OP);
            float16 a = (float16)(start.x), b = (float16)(start.y);
            r = accumulate_run16(&a, &b, base, r, end);
            state = fold16(state, a, b);
        }
#endif
        for (; r < end; ++r) state = accumulate(OPERATION, state, base[r * step]);
    } else {
        for (int r = begin; r < end; ++r)
            state = accumulate(OPERATION, state, base[offset_of(r, reducedRank, reducedSizes, reducedStrides)]);
    }
    if (finals) finals[item] = finish(OPERATION, state, reducedCount);
    else partials[item] = state;
}

__kernel void reduce_final(
    __global const float2* restrict partials, __global float* restrict output,
    const int outputs, const int splits, const int reducedCount, const int op)
{
    const int o = get_global_id(0);
    if (o >= outputs) return;
    __global const float2* mine = partials + (size_t)o * splits;
    float2 state = identity(OPERATION);
    for (int p = 0; p < splits; ++p) {
        const float2 partial = mine[p];
        if (IS_SUM_LIKE(OPERATION)) state = kahan_add(kahan_add(state, partial.x), -partial.y);
        else if (OPERATION == 9) state = combine_lse(state, partial);
        else state = accumulate(OPERATION, state, partial.x);
    }
    output[o] = finish(OPERATION, state, reducedCount);
}
#endif

#if defined(VECTOR_PATH) && defined(ROWS)
// reduce_rows: one chunk per output (splits = 1) where each output reduces a row of at least 16
// contiguous values (the input is [outputs][reducedCount]), as global average pooling's planes are.
// Work-item g reduces outputs 16g … 16g + 15, each into 16 lanes as reduce_partial's vector path
// does (its last partial vector is the row's last 16 values, with the lanes counted already
// masked out). Then the 16 outputs' lanes are folded together in four levels of constant
// permutes, with Kahan steps as fold16's, so that the results come out as one float16: 16
// separate folds cost more than the loads (global average pooling on 14×14 planes: 0.47 → 0.15 ms).

// One fold level. Partials x and y each hold rows of 2·H lanes; (a, b) gets their rows in order, H
// lanes each (lane l of a row combined with lane l + H). `low` picks each row's first H lanes.
inline void fold_pair(
    float16* a, float16* b, const float16 xa, const float16 xb, const float16 ya, const float16 yb,
    const uint16 low, const uint H)
{
    *a = shuffle2(xa, ya, low);
    const float16 high = shuffle2(xa, ya, low + H);
#if SUM_LIKE
    *b = shuffle2(xb, yb, low);
    kahan16(a, b, high);
    kahan16(a, b, -shuffle2(xb, yb, low + H));
#else
    accumulate16(a, b, high);  // max, min and prod take their operand as it is
#endif
}

__kernel void reduce_rows(
    __global const float* restrict input, __global float* restrict output, const int outputs, const int reducedCount)
{
    const int first = get_global_id(0) * 16;
    if (first >= outputs) return;
    const float2 start = identity(OP);
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    float16 a[16], b[16];
#pragma unroll
    for (int j = 0; j < 16; ++j) {
        // Outputs past the last repeat it and are not stored.
        __global const float* base = input + (size_t)min(first + j, outputs - 1) * reducedCount;
        a[j] = (float16)(start.x);
        b[j] = (float16)(start.y);
        const int r = accumulate_run16(&a[j], &b[j], base, 0, reducedCount);
        if (r < reducedCount) {
            // Lanes counted already become the identity (term16(0) = 0 for the sum-like operations).
            accumulate16(&a[j], &b[j], select((float16)(start.x), vload16(0, base + reducedCount - 16), lane >= 16 - (reducedCount - r)));
        }
    }
#pragma unroll
    for (int i = 0; i < 8; ++i)
        fold_pair(&a[i], &b[i], a[2 * i], b[2 * i], a[2 * i + 1], b[2 * i + 1], (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), 8);
#pragma unroll
    for (int i = 0; i < 4; ++i)
        fold_pair(&a[i], &b[i], a[2 * i], b[2 * i], a[2 * i + 1], b[2 * i + 1], (uint16)(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27), 4);
#pragma unroll
    for (int i = 0; i < 2; ++i)
        fold_pair(&a[i], &b[i], a[2 * i], b[2 * i], a[2 * i + 1], b[2 * i + 1], (uint16)(0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29), 2);
    fold_pair(&a[0], &b[0], a[0], b[0], a[1], b[1], (uint16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), 1);
#if SUM_LIKE
    a[0] -= b[0];
#endif
    store_inside(output, FINISH(a[0], reducedCount), first, first, outputs);
}
#endif
