// Training: backward passes and optimizer steps. Every backward kernel sums its terms in one fixed
// order, so gradients are bit-identical run after run (no atomics): most gather, one work-item
// per element of the gradient they write; conv_weight_grad_rows writes partial sums that are
// added afterwards. 1-D operations run as 2-D with height 1. Sizes are arguments: one program serves
// every shape.

// The first i ≥ 0 with start + i·step ≥ low (step > 0).
inline int first_at_or_after(const int low, const int start, const int step)
{
    const int gap = low - start;
    return gap > 0 ? (gap + step - 1) / step : 0;
}

// How many i in [0, count) put start + i·step in [low, high) (step > 0).
inline int taps_within(const int start, const int low, const int high, const int step, const int count)
{
    const int last = high - 1 - start;
    if (last < 0) return 0;
    return max(0, min(count - 1, last / step) - first_at_or_after(low, start, step) + 1);
}

// The gradient of a convolution's weight, [K][C/groups][R][S]: for each tap, the sum over the
// batch and the output positions of the output's gradient times the input the tap read there.
// `flipped`: the forward was a true convolution, so weight (r, s) was applied at tap
// (R-1-r, S-1-s).
__kernel void conv_weight_grad(
    __global float* restrict gradWeight, __global const float* restrict input, __global const float* restrict gradOutput,
    const int count, const int N, const int C, const int H, const int W, const int K, const int OH, const int OW,
    const int R, const int S, const int strideH, const int strideW, const int padTop, const int padLeft,
    const int dilationH, const int dilationW, const int groups, const int flipped)
{
    const int o = get_global_id(0);
    if (o >= count) return;
    const int channelsPerGroup = C / groups, filtersPerGroup = K / groups;
    const int s = o % S;
    const int r = (o / S) % R;
    const int c = (o / (S * R)) % channelsPerGroup;
    const int k = o / (S * R * channelsPerGroup);
    const int tapR = flipped ? R - 1 - r : r, tapS = flipped ? S - 1 - s : s;
    const int channel = (k / filtersPerGroup) * channelsPerGroup + c;
    // The output rows and columns whose tap lands inside the input.
    const int rowOffset = tapR * dilationH - padTop, columnOffset = tapS * dilationW - padLeft;
    const int ohBegin = first_at_or_after(0, rowOffset, strideH), owBegin = first_at_or_after(0, columnOffset, strideW);
    const int ohEnd = H - 1 - rowOffset < 0 ? 0 : min(OH, (H - 1 - rowOffset) / strideH + 1);
    const int owEnd = W - 1 - columnOffset < 0 ? 0 : min(OW, (W - 1 - columnOffset) / strideW + 1);
    float sum = 0.0f;
    for (int n = 0; n < N; ++n) {
        __global const float* x = input + ((size_t)n * C + channel) * H * W;
        __global const float* dy = gradOutput + ((size_t)n * K + k) * OH * OW;
        for (int oh = ohBegin; oh < ohEnd; ++oh) {
            __global const float* xRow = x + (size_t)(oh * strideH + rowOffset) * W + columnOffset;
            __global const float* dyRow = dy + (size_t)oh * OW;
            for (int ow = owBegin; ow < owEnd; ++ow) sum = fma(dyRow[ow], xRow[ow * strideW], sum);
        }
    }
    gradWeight[o] = sum;
}

// The same gradient summed along output rows in vectors, at a stride of 1 along the width, or of
// `phases` with the input's columns cut into its phases (StridePhases.swift), so that each tap
// reads one phase at stride 1 (a strided read would gather). Work-item (b, kc, part) takes filter
// k = kc / (C/groups), channel c = kc % (C/groups) and taps t = 16·b … 16·b + 15 of the R × S
// kernel (r = t / S, s = t % S), and adds, over the output rows n·OH + oh of its part
// (rowsPerPart of them), each tap's products of the output gradient's row with the input row the
// tap reads, 16 output positions at a time.
// - Taps in groups of 4 of one kernel row share each chunk of the output gradient's row (one load
//   for 4 multiply-adds) over the outputs where all four land inside the input: whole chunks, then
//   one ending at the last such output, its lanes already counted left out by a select; no load
//   is tested. The few outputs where only some of them do are added one by one.
// - Taps left over at a kernel row's end (all of a 3 × 3's), or a group with fewer than 16 outputs
//   in common, run one at a time the same way (in two chains), or as one chunk of zero-filled
//   loads where a tap has fewer than 16 outputs.
// The sums wait in private arrays from row to row, while the output gradient's row stays in the
// first-level cache for all the taps, and each input row for the next output rows. (A work-item
// had taken 8 taps of one kernel row, unrolled inside the loop over the chunks: a 3 × 3 read the
// output gradient from memory three times, and on AVX2 the 8 sums spilled; this way mel3x3_c1's
// and depthwise3x3's backward-weights run 1.5× faster, the 1×256 filter bank's 1.6× with the
// groups.) Each tap's 16 lanes are then added in a fixed order, into partials[part][k][c][r][s];
// the parts are summed afterwards.
inline float lane_sum(const float16 v)
{
    const float8 eight = LOW8(v) + HIGH8(v);
    const float4 four = LOW4(eight) + HIGH4(eight);
    return (four.x + four.y) + (four.z + four.w);
}

// The input row ih of x (the input plane, or its phase 0) that tap column s reads: output ow
// reads the row's column ow + *shift, inside the input for ow in [max(0, -*shift),
// min(OW, W - *shift)). With phases (> 1; padLeft is 0 then), the row of phase
// (s·dilationW) mod phases, from column (s·dilationW) / phases.
ALWAYS_INLINE __global const float* tap_row(
    __global const float* x, const int s, const int ih, const int H, const int W, const int padLeft,
    const int dilationW, const int phases, int* shift)
{
    const int column = s * dilationW - padLeft;
    *shift = phases > 1 ? column / phases : column;
    return x + ((size_t)(phases > 1 ? column % phases : 0) * H + ih) * W;
}

// One tap's products over its outputs [low, high) of output row oh (dyRow) with input row ih
// (xRow, output ow reading xRow[ow + shift]).
ALWAYS_INLINE float16 tap_products(
    __global const float* dy, __global const float* dyRow, __global const float* xRow, const int oh, const int ih,
    const int shift, const int low, const int high, const int OH, const int OW, const int H, const int W, const int16 lane)
{
    if (high - low < 16)  // one chunk, the lanes outside either row zero
        return load_chunk(dy, OH * OW, oh, low, OW, true) * load_chunk(xRow - (size_t)ih * W, H * W, ih, low + shift, W, true);
    float16 even = (float16)(0.0f), odd = (float16)(0.0f);
    int ow = low;
    for (; ow + 32 <= high; ow += 32) {
        even = fma(load_whole16(dyRow + ow), load_whole16(xRow + (ow + shift)), even);
        odd = fma(load_whole16(dyRow + ow + 16), load_whole16(xRow + (ow + shift + 16)), odd);
    }
    if (ow + 16 <= high) {
        even = fma(load_whole16(dyRow + ow), load_whole16(xRow + (ow + shift)), even);
        ow += 16;
    }
    if (ow < high) {
        const int end = high - 16;
        odd = select(fma(load_whole16(dyRow + end), load_whole16(xRow + (end + shift)), odd), odd, lane < ow - end);
    }
    return even + odd;
}

#define TAPS_PER_ITEM 16
#define TAPS_PER_GROUP 4

__kernel void conv_weight_grad_rows(
    __global float* restrict partials, __global const float* restrict input, __global const float* restrict gradOutput,
    const int N, const int C, const int H, const int W, const int K, const int OH, const int OW,
    const int R, const int S, const int strideH, const int padTop, const int padLeft,
    const int dilationH, const int dilationW, const int groups, const int flipped, const int rowsPerPart,
    const int phases)
{
    const int b = get_global_id(0), kc = get_global_id(1), part = get_global_id(2);
    const int channelsPerGroup = C / groups, filtersPerGroup = K / groups;
    const int t0 = b * TAPS_PER_ITEM;
    if (t0 >= R * S || kc >= K * channelsPerGroup) return;
    const int k = kc / channelsPerGroup, c = kc % channelsPerGroup;
    const int channel = k / filtersPerGroup * channelsPerGroup + c;
    const int taps = min(R * S - t0, TAPS_PER_ITEM);
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    float16 sums[TAPS_PER_ITEM];
    float extra[TAPS_PER_ITEM];
    for (int j = 0; j < taps; ++j) {
        sums[j] = (float16)(0.0f);
        extra[j] = 0.0f;
    }
    const int last = min(N * OH, (part + 1) * rowsPerPart);
    for (int row = part * rowsPerPart; row < last; ++row) {
        const int n = row / OH, oh = row - n * OH;
        __global const float* x = input + ((size_t)n * C + channel) * phases * H * W;  // its phase 0
        __global const float* dy = gradOutput + ((size_t)n * K + k) * OH * OW;
        __global const float* dyRow = dy + (size_t)oh * OW;
        for (int j = 0, r = t0 / S, s = t0 % S; j < taps;) {
            const int g = min(min(TAPS_PER_GROUP, taps - j), S - s);  // taps j … j + g - 1, one kernel row
            const int ih = oh * strideH - padTop + r * dilationH;
            if (ih >= 0 && ih < H) {  // a padding row adds nothing
                int shift0, shift1, shift2, shift3;
                __global const float* row0 = tap_row(x, s, ih, H, W, padLeft, dilationW, phases, &shift0);
                __global const float* rowLast = tap_row(x, s + g - 1, ih, H, W, padLeft, dilationW, phases, &shift3);
                // The outputs where all of the group's taps are inside the input (the shifts grow with s).
                const int low = max(0, -shift0), high = min(OW, W - shift3);
                if (g < TAPS_PER_GROUP || high - low < 16) {
                    for (int i = 0; i < g; ++i) {
                        int shift;
                        __global const float* xRow = tap_row(x, s + i, ih, H, W, padLeft, dilationW, phases, &shift);
                        const int tapLow = max(0, -shift), tapHigh = min(OW, W - shift);
                        if (tapHigh > tapLow) sums[j + i] += tap_products(dy, dyRow, xRow, oh, ih, shift, tapLow, tapHigh, OH, OW, H, W, lane);
                    }
                } else {
                    __global const float* row1 = tap_row(x, s + 1, ih, H, W, padLeft, dilationW, phases, &shift1);
                    __global const float* row2 = tap_row(x, s + 2, ih, H, W, padLeft, dilationW, phases, &shift2);
                    float16 a0 = (float16)(0.0f), a1 = (float16)(0.0f), a2 = (float16)(0.0f), a3 = (float16)(0.0f);
#define GROUP_CHUNK(at, KEEP) { \
                    const float16 d = load_whole16(dyRow + (at)); \
                    a0 = KEEP(fma(d, load_whole16(row0 + ((at) + shift0)), a0), a0); \
                    a1 = KEEP(fma(d, load_whole16(row1 + ((at) + shift1)), a1), a1); \
                    a2 = KEEP(fma(d, load_whole16(row2 + ((at) + shift2)), a2), a2); \
                    a3 = KEEP(fma(d, load_whole16(rowLast + ((at) + shift3)), a3), a3); }
#define EVERY_LANE(value, kept) (value)
#define NEW_LANES(value, kept) select((value), (kept), counted)
                    int ow = low;
                    for (; ow + 16 <= high; ow += 16) GROUP_CHUNK(ow, EVERY_LANE)
                    if (ow < high) {
                        const int end = high - 16;
                        const int16 counted = lane < ow - end;
                        GROUP_CHUNK(end, NEW_LANES)
                    }
#undef GROUP_CHUNK
#undef EVERY_LANE
#undef NEW_LANES
                    sums[j] += a0;
                    sums[j + 1] += a1;
                    sums[j + 2] += a2;
                    sums[j + 3] += a3;
                    // The outputs where tap j + i is inside the input and the group's last or first is not.
                    for (int i = 0; i < g; ++i) {
                        int shift;
                        __global const float* xRow = tap_row(x, s + i, ih, H, W, padLeft, dilationW, phases, &shift);
                        float e = 0.0f;
                        for (int ow = max(0, -shift); ow < low; ++ow) e = fma(dyRow[ow], xRow[ow + shift], e);
                        for (int ow = high; ow < min(OW, W - shift); ++ow) e = fma(dyRow[ow], xRow[ow + shift], e);
                        extra[j + i] += e;
                    }
                }
            }
            j += g;
            s += g;
            if (s == S) {
                s = 0;
                ++r;
            }
        }
    }
    __global float* destination = partials + ((size_t)part * K * channelsPerGroup + kc) * R * S;
    for (int j = 0; j < taps; ++j) destination[flipped ? R * S - 1 - (t0 + j) : t0 + j] = lane_sum(sums[j]) + extra[j];
}

// The gradient of pooling's input: each input element sums the output gradients of the windows
// that hold it. Max pooling (`average` 0): a window's gradient goes to the tap its index (a flat
// index into the input plane, from the forward) names. Average pooling: every tap of a window in
// the input gets its gradient divided by the forward's divisor, the window's taps inside the
// input, or inside the padded input with `countIncludePad` (a ceil-mode window's taps past the
// padding never count).
__kernel void pool_backward(
    __global float* restrict gradInput, __global const float* restrict gradOutput, __global const long* restrict indices,
    const int count, const int H, const int W, const int OH, const int OW, const int R, const int S,
    const int strideH, const int strideW, const int padTop, const int padLeft, const int padBottom, const int padRight,
    const int dilationH, const int dilationW, const int average, const int countIncludePad)
{
    const int o = get_global_id(0);
    if (o >= count) return;
    const int iw = o % W;
    const int ih = (o / W) % H;
    const int plane = o / (W * H);
    const int rowLow = countIncludePad ? -padTop : 0, rowHigh = countIncludePad ? H + padBottom : H;
    const int columnLow = countIncludePad ? -padLeft : 0, columnHigh = countIncludePad ? W + padRight : W;
    // Windows oh with oh·strideH − padTop ≤ ih ≤ oh·strideH − padTop + (R−1)·dilationH.
    const int ohBegin = first_at_or_after(ih + padTop - (R - 1) * dilationH, 0, strideH);
    const int ohEnd = min(OH, (ih + padTop) / strideH + 1);
    const int owBegin = first_at_or_after(iw + padLeft - (S - 1) * dilationW, 0, strideW);
    const int owEnd = min(OW, (iw + padLeft) / strideW + 1);
    const long self = (long)ih * W + iw;
    float sum = 0.0f;
    for (int oh = ohBegin; oh < ohEnd; ++oh) {
        const int rowStart = oh * strideH - padTop;
        if ((ih - rowStart) % dilationH != 0) continue;
        const int rows = average ? taps_within(rowStart, rowLow, rowHigh, dilationH, R) : 0;
        for (int ow = owBegin; ow < owEnd; ++ow) {
            const int columnStart = ow * strideW - padLeft;
            if ((iw - columnStart) % dilationW != 0) continue;
            const size_t q = ((size_t)plane * OH + oh) * OW + ow;
            if (average) {
                sum += gradOutput[q] / (float)(rows * taps_within(columnStart, columnLow, columnHigh, dilationW, S));
            } else if (indices[q] == self) {
                sum += gradOutput[q];
            }
        }
    }
    gradInput[o] = sum;
}

// One step of SGD on `count` parameters, PyTorch's rule (dampening 0): d = g + decay·w;
// v = momentum·v + d; w -= lr·(nesterov ? d + momentum·v : v).
__kernel void sgd_step(
    __global float* restrict newWeight, __global float* restrict newVelocity, __global const float* restrict weight,
    __global const float* restrict gradient, __global const float* restrict velocity, const int count,
    const float learningRate, const float momentum, const float decay, const int nesterov)
{
    const int o = get_global_id(0);
    if (o >= count) return;
    const float d = gradient[o] + decay * weight[o];
    const float v = momentum * velocity[o] + d;
    newVelocity[o] = v;
    newWeight[o] = weight[o] - learningRate * (nesterov ? d + momentum * v : v);
}

// One step of Adam, PyTorch's rule: d = g + decay·w; m = β1·m + (1−β1)·d; v = β2·v + (1−β2)·d²;
// w -= (lr / correction1) · m / (√v / √correction2 + ε), correctionN = 1 − βN^step.
__kernel void adam_step(
    __global float* restrict newWeight, __global float* restrict newMean, __global float* restrict newSquare,
    __global const float* restrict weight, __global const float* restrict gradient, __global const float* restrict mean,
    __global const float* restrict square, const int count, const float learningRate, const float beta1, const float beta2,
    const float epsilon, const float decay, const float correction1, const float correction2)
{
    const int o = get_global_id(0);
    if (o >= count) return;
    const float d = gradient[o] + decay * weight[o];
    const float m = beta1 * mean[o] + (1.0f - beta1) * d;
    const float v = beta2 * square[o] + (1.0f - beta2) * d * d;
    newMean[o] = m;
    newSquare[o] = v;
    newWeight[o] = weight[o] - (learningRate / correction1) * m / (sqrt(v) / sqrt(correction2) + epsilon);
}
