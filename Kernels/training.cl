// Training: backward passes and optimizer steps. Every backward kernel gathers: one work-item per element of the gradient it
// writes, summing its terms in one fixed order, so gradients are bit-identical run after run (no
// atomics). 1-D operations run as 2-D with height 1. Sizes are arguments: one program serves
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
