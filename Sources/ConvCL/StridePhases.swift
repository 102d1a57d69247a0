/// A strided convolution as a stride-1 convolution over the stride's phases (space-to-depth).
///
/// Along an axis of stride s (dilation 1), output o takes padded inputs o·s + t for taps t; with
/// t = j·s + p, that is input (o + j)·s + p: tap j of phase p, the padded inputs p, p + s, p + 2s,
/// …. So the padded input, cut into its s phases, becomes s times as many channels of 1/s the
/// length (channel c·s + p is phase p of channel c), and the kernel, its taps p, p + s, … (zeros
/// past the kernel's end), ⌈k / s⌉ taps per phase; the convolution of the two at stride 1 is the
/// strided one, without a pad (the zeros are in the phases). Both axes at once take sH·sW phases.
/// One kernel (`phase_split`) cuts the input, and another launch of it the kernel.
/// It does ⌈k / s⌉·s / k the multiply-adds (the zero taps: 6/5 for a 5-tap kernel at stride 3),
/// but the stride-1 kernels read whole vectors where a strided window gathers one float at a
/// time, and the direct kernel, which loses at strides above 2, computes it. `clconv bench`, two
/// runs alternated on the AVX2 machine, the strided convolution against its phases (each the
/// backend's choice): Basic Pitch's 5×5 at stride (1, 3) 7.7 and 6.0 ms against 7.3 and 5.9
/// (direct over 24 channels of 5×2), its 1×256 filter banks at stride 2 0.82 and 0.91 ms against
/// 0.44 and 0.45, at stride 16 1.46 and 1.43 against 0.97 and 1.04 (but see below: 1-D kernels
/// keep the strided form); audio1d at stride 4 and the 7×7 at stride 2 within the noise (13.2 and 12.8 ms against 13.3 and 11.3; 7.1 and 4.6 against
/// 5.7 and 5.3). Where the zero taps add more than a quarter (a 3×3 at stride 2 does 16/9 the
/// work, which a GEMM of many channels pays in full), the strided kernels stay.
struct StridePhases: Equatable {
    /// The stride taken into phases along each spatial axis (1 where it is not).
    let strides: [Int]
    /// The zeros before the input's first row and column in the phases [top, left]: the
    /// convolution's own pads on the strided axes (past the input's end the phases hold zeros, and
    /// input the phases do not reach is left out).
    let inputPads: [Int]
    /// The stride-1 convolution over the phases.
    let inner: ConvolutionGeometry
    /// Its pads [top, left, bottom, right]: the convolution's own on the axes left unstrided.
    let innerPads: [Int]

    /// The decomposition of `g`, or nil where it does not apply or does not pay: no stride, a true
    /// convolution (flipped kernel), a kernel of one row, a strided axis with a dilation or a
    /// kernel shorter than its stride, or zero taps that add more than a quarter to the
    /// multiply-adds.
    init?(_ g: ConvolutionGeometry) {
        // One-row kernels (1-D convolutions) keep the strided kernels: the phases sum a window's
        // taps phase by phase, another order, and Basic Pitch's constant-Q banks feed a log of
        // powers near its 1e-10 floor, which turned that into outputs 1.4e-4 to 1.3e-3 from
        // onnxruntime's (ci/models/basic_pitch_check.py, seeds 130835065 and 248208870; its rule
        // is 1e-4), where the strided kernels' order agrees with onnxruntime's within 1e-6.
        guard !g.flipped, g.strideHeight > 1 || g.strideWidth > 1, g.kernelHeight > 1 else { return nil }
        struct Axis {
            let stride, taps, length, padBegin, innerBegin, innerEnd, dilation: Int
        }
        func axis(size: Int, kernel: Int, stride: Int, dilation: Int, pad: Int, output: Int) -> Axis? {
            // The pad at the end that gives this output at this stride (the rest is never read).
            let end = (output - 1) * stride + dilation * (kernel - 1) + 1 - size - pad
            guard stride > 1 else {
                return Axis(stride: 1, taps: kernel, length: size, padBegin: 0, innerBegin: pad, innerEnd: end, dilation: dilation)
            }
            guard dilation == 1, kernel >= stride else { return nil }
            let taps = (kernel + stride - 1) / stride
            let length = output + taps - 1  // phase inputs per phase
            return Axis(stride: stride, taps: taps, length: length, padBegin: pad, innerBegin: 0, innerEnd: 0, dilation: 1)
        }
        guard let h = axis(size: g.inputHeight, kernel: g.kernelHeight, stride: g.strideHeight, dilation: g.dilationHeight, pad: g.padTop, output: g.outputHeight),
            let w = axis(size: g.inputWidth, kernel: g.kernelWidth, stride: g.strideWidth, dilation: g.dilationWidth, pad: g.padLeft, output: g.outputWidth)
        else { return nil }
        guard 4 * h.stride * h.taps * w.stride * w.taps <= 5 * g.kernelHeight * g.kernelWidth else { return nil }
        strides = [h.stride, w.stride]
        inputPads = [h.padBegin, w.padBegin]
        innerPads = [h.innerBegin, w.innerBegin, h.innerEnd, w.innerEnd]
        var inner = g
        inner.inputChannels = g.inputChannels * h.stride * w.stride
        (inner.inputHeight, inner.inputWidth) = (h.length, w.length)
        (inner.kernelHeight, inner.kernelWidth) = (h.taps, w.taps)
        (inner.strideHeight, inner.strideWidth) = (1, 1)
        (inner.padTop, inner.padLeft) = (h.innerBegin, w.innerBegin)
        (inner.dilationHeight, inner.dilationWidth) = (h.dilation, w.dilation)
        self.inner = inner
    }

    /// The stride-1 convolution's descriptor.
    var innerDescriptor: Conv2DDescriptor {
        Conv2DDescriptor(
            padding: .explicit(innerPads), dilation: [inner.dilationHeight, inner.dilationWidth], groups: inner.groups,
            activation: inner.activation)
    }

    /// Floats of the phase input and the phase kernel.
    var workspaceFloats: Int {
        inner.batch * inner.inputChannels * inner.inputHeight * inner.inputWidth
            + inner.outputChannels * inner.inputChannelsPerGroup * inner.kernelHeight * inner.kernelWidth
    }

    /// `input` [N, C, H, W] padded and cut into phases: [N, C·sH·sW, JH, JW].
    func phaseInput(_ input: Tensor, on backend: OpenCLBackend) throws -> Tensor {
        try Self.split(
            input, strides: strides, into: [input.shape[0], input.shape[1] * strides[0] * strides[1], inner.inputHeight, inner.inputWidth],
            pads: inputPads, keepsDerived: false, on: backend, "input")
    }

    /// `weight` [K, C/groups, R, S] as the phase kernel [K, C/groups·sH·sW, TH, TW]: the same cut,
    /// with zeros past the kernel's end. It keeps its own derived forms where `weight` does.
    func phaseWeight(_ weight: Tensor, on backend: OpenCLBackend) throws -> Tensor {
        try Self.split(
            weight, strides: strides, into: [weight.shape[0], weight.shape[1] * strides[0] * strides[1], inner.kernelHeight, inner.kernelWidth], pads: [0, 0],
            keepsDerived: weight.keepsDerivedForms, on: backend, "weight")
    }

    /// `x` [A, B, H, W] padded by `pads` [top, left] and cut into the phases of `strides`
    /// [sH, sW]: `shape` [A, B·sH·sW, JH, JW] (`phase_split` in copy.cl).
    static func split(
        _ x: Tensor, strides: [Int], into shape: [Int], pads: [Int], keepsDerived: Bool, on backend: OpenCLBackend, _ argument: String
    ) throws -> Tensor {
        let source = try backend.buffer(of: x, "conv2d", argument)
        let (result, y) = try backend.output(shape: shape, keepsDerived: keepsDerived, operation: "conv2d")
        let rows = shape[0] * shape[1] * shape[2]
        try backend.launch(
            copyProgram(.float32), kernel: "phase_split",
            arguments: [.buffer(y), .buffer(source)] + (try [rows, x.shape[2], x.shape[3], strides[0], strides[1], shape[2], shape[3], pads[0], pads[1]]
                .map { .int32(try int32($0, "conv2d")) }),
            globalSize: [(shape[3] + 63) / 64, rows])
        return result
    }
}
