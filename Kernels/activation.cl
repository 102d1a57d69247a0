// Elementwise activation: kind 1 = ReLU (NaN stays NaN, as in PyTorch), 2 = leaky ReLU with `slope`.
// Global size: count.

__kernel void activation(
    __global const float* restrict input, __global float* restrict output,
    const int count, const int kind, const float slope)
{
    const int i = get_global_id(0);
    if (i >= count) return;
    const float x = input[i];
    output[i] = kind == 1 ? (x < 0.0f ? 0.0f : x) : (x > 0.0f ? x : slope * x);
}
