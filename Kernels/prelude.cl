// Definitions every kernel source shares: ConvCL puts this file before each program's source.

// The kernels compute in float16 vectors whatever the CPU: on AVX2 LLVM splits each into two
// 8-float halves. Clang then warns at every call of a builtin (fma, select, shuffle2, …) that
// passing a float16 "changes the ABI" without AVX-512; PoCL links and inlines its builtins as
// bitcode, so no call crosses an ABI boundary and the warning says nothing about these kernels.
// Only that warning is off: the test suite builds every program with the others on.
#pragma clang diagnostic ignored "-Wpsabi"

// The GEMM's register tile (conv_gemm.cl, and the panels conv_winograd.cl writes for it): TILE_M
// filters × TILE_N positions, set by the host as build defines.
#ifndef TILE_M
#define TILE_M 6
#endif
#ifndef TILE_N
#define TILE_N 16
#endif

// Element d of v (OpenCL C indexes vectors by constants only). The kernels that take sizes and
// strides as int8 arguments read them with it rather than storing them to private arrays: in
// PoCL such arrays cost a transpose a quarter of its speed.
inline int lane(const int8 v, const int d)
{
    switch (d) {
    case 0: return v.s0; case 1: return v.s1; case 2: return v.s2; case 3: return v.s3;
    case 4: return v.s4; case 5: return v.s5; case 6: return v.s6; default: return v.s7;
    }
}

// The fused activation of a vector y of type T: 0 none, 1 ReLU, 2 leaky ReLU with `slope`. NaN
// passes through both (comparisons with NaN are false), as in PyTorch.
#define ACTIVATE(T, y, activation, slope) \
    ((activation) == 1 ? select((y), (T)(0.0f), isless((y), (T)(0.0f))) \
     : (activation) == 2 ? select((y) * (slope), (y), isgreater((y), (T)(0.0f))) : (y))

// For helpers that take or return vectors: PoCL left some of them as calls, with each float16
// passed through the stack (store_inside took 7% of mel3x3_c1's direct kernel as a call).
#define ALWAYS_INLINE __attribute__((always_inline)) inline

// Vectors stored where only their element's alignment is known: PoCL 3.1 splits vstore16 into
// 16-, 16- and 32-byte stores, while a store through a pointer to an under-aligned vector type is
// one instruction. STORE(T, v, p) writes the vector v of type T (float4, float8, float16, long16)
// to the global pointer p.
typedef float4 unaligned_float4 __attribute__((aligned(4)));
typedef float8 unaligned_float8 __attribute__((aligned(4)));
typedef float16 unaligned_float16 __attribute__((aligned(4)));
typedef long16 unaligned_long16 __attribute__((aligned(8)));
#define STORE_AS(T, v, p) (*(__global unaligned_##T*)(p) = (v))
#define STORE(T, v, p) STORE_AS(T, v, p)

// floatL: vectors of LANES floats, a build define, 8 or 16: the device's vector width
// (Softmax.lanes) in softmax, 16 in the elementwise float programs (Elementwise.lanes) and in
// the others, which are written in float16: on AVX2, conv2d_direct in float8 ran 0.4–0.9× the
// speed of float16 (docs/performance.md). store_prefix and store_inside store floatL vectors.
#ifndef LANES
#define LANES 16
#endif
#if LANES != 8 && LANES != 16
#error "LANES must be 8 or 16"
#endif
#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)
#define WITH_LANES(name) PASTE(name, LANES)
#define floatL WITH_LANES(float)
#define unaligned_floatL WITH_LANES(unaligned_float)

// 16 floats from p (aligned to a float) as one load. Where only some lanes of a load feed
// constant permutes, LLVM splits it into 8-byte loads and a chain of permutes (pooling's stride-2
// rows ran 1.5× slower, Winograd's input chunks 15%); a volatile load stays whole.
inline float16 load_whole16(__global const float* p)
{
    return *(volatile __global const unaligned_float16*)p;
}

// The 16 floats p[0], p[stride], …, p[15·stride], loaded straight into a vector's lanes (through a
// private array they went by way of memory).
ALWAYS_INLINE float16 gather16(__global const float* p, const int stride)
{
    return (float16)(p[0], p[stride], p[2 * stride], p[3 * stride], p[4 * stride], p[5 * stride], p[6 * stride],
        p[7 * stride], p[8 * stride], p[9 * stride], p[10 * stride], p[11 * stride], p[12 * stride], p[13 * stride],
        p[14 * stride], p[15 * stride]);
}

// Constant lane permutations of two float16s (lanes 0–15 of a, then 16–31 of b). PoCL compiles
// them to single permutes. (clang's __builtin_shufflevector does as well, but oclgrind reports
// its results as uninitialized.)
#define PERMUTE(a, b, ...) shuffle2(a, b, (uint16)(__VA_ARGS__))
// Lanes s … s + 15 of (a, b), for a constant s in 0 … 15.
#define LANES_FROM(a, b, s) PERMUTE(a, b, s, s + 1, s + 2, s + 3, s + 4, s + 5, s + 6, s + 7, \
    s + 8, s + 9, s + 10, s + 11, s + 12, s + 13, s + 14, s + 15)

// Rows read as 16-column chunks from an origin that is a multiple of 16 from the row's start:
// chunks[CHUNK_OF(d)] holds the columns from origin + d rounded down to a multiple of 16, for d
// in -16 …; WINDOW(chunks, d) is the 16 columns from origin + d, for a constant d, so that every
// shift is a constant permutation.
#define CHUNK_OF(d) (((d) + 16) / 16)
#define WINDOW(chunks, d) LANES_FROM(chunks[CHUNK_OF(d)], chunks[CHUNK_OF(d) + 1], ((d) + 16) % 16)

// Columns start … start + 15 of row ih of `plane` (planeSize floats, rows of W; zeros outside the
// row and when !valid). Where a partial chunk's 16 floats lie inside the plane, it is one load
// with the lanes outside the row set to zero. (For chunks at multiples of 16 from the row's
// start, only those that hold column 0 or W - 1 are partial.)
ALWAYS_INLINE float16 load_chunk(
    __global const float* plane, const int planeSize, const int ih, const int start, const int W, const bool valid)
{
    if (!valid || start >= W || start + 16 <= 0) return (float16)(0.0f);
    const long offset = (long)ih * W + start;
    if (start >= 0 && start + 16 <= W) return load_whole16(plane + offset);
    const int16 column = (int16)(start) + (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    if (offset >= 0 && offset + 16 <= planeSize)
        return select(load_whole16(plane + offset), (float16)(0.0f), (column < 0) | (column >= W));
    float lanes[16];
    for (int l = 0; l < 16; ++l) lanes[l] = start + l >= 0 && start + l < W ? plane[offset + l] : 0.0f;
    return vload16(0, lanes);
}

// Stores lanes 0 … count - 1 of v (none when count ≤ 0, all LANES when count ≥ LANES) to p, in
// pieces of LANES, 8, 4, 2 and 1 lanes taken from registers. (Going through a private array cost
// a failed store forwarding per tail: the read of the array waited for every earlier store to
// reach the cache.) The halves are taken with shuffle, which oclgrind follows lane by lane;
// through .lo and .hi it takes a half with any uninitialized lane, past the end, as wholly
// uninitialized.
#define LOW8(v) shuffle(v, (uint8)(0, 1, 2, 3, 4, 5, 6, 7))
#define HIGH8(v) shuffle(v, (uint8)(8, 9, 10, 11, 12, 13, 14, 15))
#define LOW4(v) shuffle(v, (uint4)(0, 1, 2, 3))
#define HIGH4(v) shuffle(v, (uint4)(4, 5, 6, 7))
ALWAYS_INLINE void store_prefix(__global float* p, const floatL v, const int count)
{
    if (count <= 0) return;
    if (count >= LANES) {
        STORE(floatL, v, p);
        return;
    }
#if LANES == 16
    if (count & 8) STORE(float8, LOW8(v), p);
    const float8 rest8 = count & 8 ? HIGH8(v) : LOW8(v);
#else
    const float8 rest8 = v;  // count < 8
#endif
    if (count & 4) STORE(float4, LOW4(rest8), p + (count & 8));
    const float4 rest4 = count & 4 ? HIGH4(rest8) : LOW4(rest8);
    if (count & 2) vstore2(shuffle(rest4, (uint2)(0, 1)), 0, p + (count & 12));
    if (count & 1) p[count & 14] = count & 2 ? rest4.s2 : rest4.s0;
}

// Stores lanes first - start … LANES - 1 of v, lane j being column start + j of `row`, that lie
// before column OW: from registers when first = start.
ALWAYS_INLINE void store_inside(__global float* row, const floatL v, const int first, const int start, const int OW)
{
    if (start == first) {
        store_prefix(row + first, v, OW - first);
    } else {
        float lanes[LANES];
        WITH_LANES(vstore)(v, 0, lanes);
        for (int j = first - start; j < LANES && start + j < OW; ++j) row[start + j] = lanes[j];
    }
}
