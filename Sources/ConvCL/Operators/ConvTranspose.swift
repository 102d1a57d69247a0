/// The parameters of a 1-D or 2-D transposed convolution (ONNX ConvTranspose, PyTorch's
/// `conv_transpose1d`/`conv_transpose2d`): the gradient of a convolution with respect to its input.
///
/// Input [N, C, L] or [N, C, H, W]; weight [C, M/groups, k…] (ONNX's and PyTorch's layout: input
/// channels first); optional bias [M]; output [N, M, O…] with, per spatial axis,
/// O = stride·(in − 1) + outputPadding + dilation·(k − 1) + 1 − padBegin − padEnd.
public struct ConvTransposeDescriptor: Sendable, Hashable {
    /// The step per spatial axis; nil means 1.
    public var stride: [Int]?
    /// Explicit pads (ONNX order: all beginnings, then all ends) remove outputs from each side;
    /// `.sameUpper`/`.sameLower` make each output size in·stride, the odd element of the total
    /// padding at the beginning's side for `.sameLower` (ONNX's rule); `.valid` removes nothing.
    public var padding: Padding
    /// Outputs added at the end of each axis (below the stride or the dilation); nil means 0.
    public var outputPadding: [Int]?
    /// Spacing between kernel taps per spatial axis; nil means 1.
    public var dilation: [Int]?
    /// Channel groups: input channels and output channels split into this many independent sets.
    public var groups: Int
    /// ONNX's `output_shape`: the spatial output sizes, from which the pads follow (the odd element
    /// of the padding at the beginning, unless `padding` is `.sameUpper`; a size beyond the full
    /// one adds outputs that only the bias reaches); explicit pads are then ignored. Nil: the sizes
    /// follow from the pads.
    public var outputShape: [Int]?

    public init(
        stride: [Int]? = nil, padding: Padding = .valid, outputPadding: [Int]? = nil, dilation: [Int]? = nil, groups: Int = 1,
        outputShape: [Int]? = nil
    ) {
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
        self.outputShape = outputShape
    }
}

/// A transposed convolution with every size resolved (1-D runs with height 1).
struct ConvTransposeGeometry: Hashable {
    var batch, channels, height, width: Int
    var filters, kernelHeight, kernelWidth: Int
    var outputHeight, outputWidth: Int
    var strideHeight, strideWidth, padTop, padLeft, dilationHeight, dilationWidth, groups: Int
    var outputShape: [Int]
}

extension ConvTransposeDescriptor {
    func geometry(input: [Int], weight: [Int], bias: [Int]?, operation: String) throws -> ConvTransposeGeometry {
        func fail(_ argument: String, _ reason: String) -> ConvCLError {
            .invalidArgument(operation: operation, argument: argument, reason: reason)
        }
        let rank = input.count - 2
        guard rank == 1 || rank == 2 else { throw fail("input", "expected [N, C, L] or [N, C, H, W], got shape \(input)") }
        guard input.allSatisfy({ $0 > 0 }) else { throw fail("input", "every dimension must be > 0, got shape \(input)") }
        guard weight.count == rank + 2 else {
            throw fail("weight", "a \(rank)-D input \(input) needs a weight of rank \(rank + 2) [C, M/groups, k…], got \(weight)")
        }
        guard weight.allSatisfy({ $0 > 0 }) else { throw fail("weight", "every dimension must be > 0, got shape \(weight)") }
        guard groups > 0, input[1] % groups == 0 else {
            throw fail("groups", "\(groups) must be > 0 and divide the input's \(input[1]) channels")
        }
        guard weight[0] == input[1] else {
            throw fail("weight", "its first dimension \(weight[0]) must be the input's channel count \(input[1]) (shapes \(input), \(weight))")
        }
        let filters = weight[1] * groups
        if let bias, bias != [filters] {
            throw fail("bias", "expected shape [\(filters)] (weight \(weight), groups \(groups)), got \(bias)")
        }
        func perAxis(_ values: [Int]?, _ name: String, default value: Int, minimum: Int) throws -> [Int] {
            let values = values ?? [Int](repeating: value, count: rank)
            guard values.count == rank, values.allSatisfy({ (minimum...Int(Int32.max)).contains($0) }) else {
                throw fail(name, "expected \(rank) values in \(minimum)...\(Int32.max), got \(values)")
            }
            return values
        }
        let stride = try perAxis(self.stride, "stride", default: 1, minimum: 1)
        let dilation = try perAxis(self.dilation, "dilation", default: 1, minimum: 1)
        let outputPadding = try perAxis(self.outputPadding, "outputPadding", default: 0, minimum: 0)
        for axis in 0..<rank where outputPadding[axis] >= max(stride[axis], dilation[axis]) {
            throw fail(
                "outputPadding",
                "\(outputPadding[axis]) must be smaller than the stride \(stride[axis]) or the dilation \(dilation[axis]) of axis \(axis)")
        }
        let spatial = Array(input.dropFirst(2)), kernel = Array(weight.dropFirst(2))
        // The full size before any pad is removed.
        let full = (0..<rank).map { (axis: Int) -> Int in
            stride[axis] * (spatial[axis] - 1) + outputPadding[axis] + dilation[axis] * (kernel[axis] - 1) + 1
        }
        var pads: [Int]
        let targets: [Int]? = try {
            if let outputShape {
                let sizes = outputShape.count == rank + 2 ? Array(outputShape.dropFirst(2)) : outputShape
                guard sizes.count == rank else { throw fail("outputShape", "expected \(rank) spatial sizes, got \(outputShape)") }
                return sizes
            }
            if padding == .sameUpper || padding == .sameLower { return zip(spatial, stride).map { $0 * $1 } }
            return nil
        }()
        if let targets {
            pads = [Int](repeating: 0, count: 2 * rank)
            for axis in 0..<rank {
                // A negative total (an output larger than the full size) adds outputs that no
                // tap reaches; halves round down, as ONNX's reference (Python's //) does.
                let total = full[axis] - targets[axis]
                let half = total >= 0 ? total / 2 : (total - 1) / 2
                (pads[axis], pads[rank + axis]) = padding == .sameUpper ? (half, total - half) : (total - half, half)
            }
        } else {
            pads = try resolvePadding(padding, input: spatial, kernel: kernel, stride: stride, dilation: dilation, operation: operation)
        }
        let outputs = (0..<rank).map { full[$0] - pads[$0] - pads[rank + $0] }
        guard outputs.allSatisfy({ $0 > 0 }) else {
            throw fail("padding", "pads \(pads) leave no output (sizes \(outputs)) for input \(input) and weight \(weight)")
        }
        let two = rank == 2
        return ConvTransposeGeometry(
            batch: input[0], channels: input[1], height: two ? spatial[0] : 1, width: spatial[rank - 1],
            filters: filters, kernelHeight: two ? kernel[0] : 1, kernelWidth: kernel[rank - 1],
            outputHeight: two ? outputs[0] : 1, outputWidth: outputs[rank - 1],
            strideHeight: two ? stride[0] : 1, strideWidth: stride[rank - 1], padTop: two ? pads[0] : 0, padLeft: pads[rank - 1],
            dilationHeight: two ? dilation[0] : 1, dilationWidth: dilation[rank - 1], groups: groups,
            outputShape: [input[0], filters] + outputs)
    }
}

/// ONNX ConvTranspose on float32. On OpenCL, one convolution over the stride's phases and an
/// interleave (`asConvolution`); where that does not apply, each output gathers the input
/// positions whose kernel taps land on it (one work-item per output, no atomics), as the
/// reference does in Double.
struct ConvTranspose: Primitive {
    let descriptor: ConvTransposeDescriptor
    var name: String { "ConvTranspose" }

    var description: String {
        let d = descriptor
        let parts: [String?] = [
            d.stride.map { "stride \($0)" }, "padding \(d.padding)", d.outputPadding.map { "outputPadding \($0)" },
            d.dilation.map { "dilation \($0)" }, "groups \(d.groups)", d.outputShape.map { "outputShape \($0)" },
        ]
        return "\(name)(\(parts.compactMap { $0 }.joined(separator: ", ")))"
    }

    func geometry(_ inputs: [TensorType]) throws -> ConvTransposeGeometry {
        guard inputs.count == 2 || inputs.count == 3, inputs.allSatisfy({ $0.dataType == .float32 }) else {
            throw ConvCLError.invalidArgument(
                operation: name, argument: "inputs", reason: "takes float32 input, weight and optional bias, got \(inputs)")
        }
        return try descriptor.geometry(
            input: inputs[0].shape, weight: inputs[1].shape, bias: inputs.count == 3 ? inputs[2].shape : nil, operation: name)
    }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { [TensorType(try geometry(inputs).outputShape)] }

    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        let g = try geometry(types)
        let (x, w) = (inputs[0].doubles, inputs[1].doubles)
        let bias = inputs.count == 3 ? inputs[2].doubles : nil
        let (cg, mg) = (g.channels / g.groups, g.filters / g.groups)
        var y: [Float] = []
        y.reserveCapacity(outputs[0].count)
        for n in 0..<g.batch {
            for m in 0..<g.filters {
                let group = m / mg
                for oh in 0..<g.outputHeight {
                    for ow in 0..<g.outputWidth {
                        var sum = bias?[m] ?? 0
                        for kh in 0..<g.kernelHeight {
                            let sh = oh + g.padTop - kh * g.dilationHeight
                            guard sh >= 0, sh % g.strideHeight == 0, sh / g.strideHeight < g.height else { continue }
                            for kw in 0..<g.kernelWidth {
                                let sw = ow + g.padLeft - kw * g.dilationWidth
                                guard sw >= 0, sw % g.strideWidth == 0, sw / g.strideWidth < g.width else { continue }
                                let (ih, iw) = (sh / g.strideHeight, sw / g.strideWidth)
                                for c in group * cg..<(group + 1) * cg {
                                    let weight = w[((c * mg + m % mg) * g.kernelHeight + kh) * g.kernelWidth + kw]
                                    sum += x[((n * g.channels + c) * g.height + ih) * g.width + iw] * weight
                                }
                            }
                        }
                        y.append(Float(sum))
                    }
                }
            }
        }
        return [.float32(y)]
    }

    static let program = ProgramSpec("conv_transpose")

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        let g = try geometry(inputs.map(\.type))
        if let result = try asConvolution(inputs, g, on: backend) { return [result] }
        let (result, y) = try backend.output(shape: outputs[0].shape, operation: name)
        let count = try int32Count(outputs[0].shape, name)
        _ = try int32Count(inputs[0].shape, name)
        let sizes = [
            g.channels, g.height, g.width, g.filters, g.outputHeight, g.outputWidth, g.kernelHeight, g.kernelWidth, g.strideHeight,
            g.strideWidth, g.padTop, g.padLeft, g.dilationHeight, g.dilationWidth, g.groups,
        ]
        try backend.launch(
            Self.program, kernel: "conv_transpose",
            arguments: [
                .buffer(y), .buffer(try backend.buffer(of: inputs[0], name, "input")), .buffer(try backend.buffer(of: inputs[1], name, "weight")),
                .buffer(inputs.count == 3 ? try backend.buffer(of: inputs[2], name, "bias") : nil), .int32(Int32(count)),
            ] + (try sizes.map { .int32(try int32($0, name)) }),
            globalSize: [GEMMTile.roundUp(count, 64)], localSize: [64])
        return [result]
    }

    /// A transposed convolution as one convolution on the forward's fast kernels, then (for
    /// strides > 1) an interleave; nil where it does not apply (a stride with a dilation on the
    /// same axis, or pads past the kernel's extent), and the gathering kernel runs.
    ///
    /// Along an axis of stride s, output t (counted from before the begin pad) takes input
    /// q − j through tap r + j·s, where t = q·s + r: each phase r is a stride-1 convolution of
    /// the input with the taps r, r + s, r + 2s, … flipped (ceil(k / s) of them, zeros past the
    /// kernel). All phases run as one convolution whose filters are (phase, output channel), so
    /// it does the transposed convolution's own multiply-adds, none by inserted zeros; the
    /// phases' outputs are then interleaved and the pads cut off. At stride 1 this is the
    /// convolution of the flipped kernel, its two channel axes swapped within each group.
    private func asConvolution(_ inputs: [Tensor], _ g: ConvTransposeGeometry, on backend: OpenCLBackend) throws -> Tensor? {
        struct Axis {
            let stride, taps, dilation, first, phaseOutputs, padBegin, padEnd: Int
            /// Sizes along one axis: input `size`, kernel `kernel`, transposed pad `pad`, output `output`.
            init?(size: Int, kernel: Int, stride: Int, dilation: Int, pad: Int, output: Int) {
                guard stride == 1 || dilation == 1 else { return nil }
                (self.stride, taps) = (stride, (kernel + stride - 1) / stride)
                self.dilation = stride == 1 ? dilation : 1
                // Phase outputs q run from ⌊pad / s⌋ to ⌊(pad + output − 1) / s⌋; a pad is
                // negative where an output shape asks for more than the full size.
                func floorDivide(_ a: Int) -> Int { a >= 0 ? a / stride : -((-a + stride - 1) / stride) }
                first = floorDivide(pad)
                phaseOutputs = floorDivide(pad + output - 1) - first + 1
                let extent = self.dilation * (taps - 1)
                (padBegin, padEnd) = (extent - first, phaseOutputs - size - (extent - first) + extent)
                guard padBegin >= 0, padEnd >= 0 else { return nil }
            }
            /// Where the output starts in the interleaved phases.
            func offset(pad: Int) -> Int { pad - first * stride }
        }
        guard let h = Axis(size: g.height, kernel: g.kernelHeight, stride: g.strideHeight, dilation: g.dilationHeight, pad: g.padTop, output: g.outputHeight),
            let w = Axis(size: g.width, kernel: g.kernelWidth, stride: g.strideWidth, dilation: g.dilationWidth, pad: g.padLeft, output: g.outputWidth)
        else { return nil }
        let (cg, mg, phases) = (g.channels / g.groups, g.filters / g.groups, h.stride * w.stride)
        // Filters (group, phase row, phase column, output channel), each over its group's inputs.
        var kernel = try inputs[1].reshaped([g.channels, mg, g.kernelHeight, g.kernelWidth])
        let (fullHeight, fullWidth) = (h.taps * h.stride, w.taps * w.stride)
        if fullHeight > g.kernelHeight || fullWidth > g.kernelWidth {
            kernel = try backend.pad(kernel, pads: [0, 0, 0, 0, 0, 0, fullHeight - g.kernelHeight, fullWidth - g.kernelWidth])
        }
        let split = try kernel.reshaped([g.groups, cg, mg, h.taps, h.stride, w.taps, w.stride])
        let flipped = try backend.reversed(split, axes: [3, 5])
        let weight = try backend.transpose(flipped, permutation: [0, 4, 6, 2, 1, 3, 5])
            .reshaped([g.groups * phases * mg, cg, h.taps, w.taps])
        var bias: Tensor?
        if inputs.count == 3 {
            bias = phases == 1 ? inputs[2] : try backend.expand(inputs[2].reshaped([g.groups, 1, mg]), to: [g.groups, phases, mg]).reshaped([g.groups * phases * mg])
        }
        let x = try inputs[0].reshaped([g.batch, g.channels, g.height, g.width])
        let y = try backend.conv2d(
            x, weight: weight, bias: bias,
            descriptor: Conv2DDescriptor(padding: .explicit([h.padBegin, w.padBegin, h.padEnd, w.padEnd]), dilation: [h.dilation, w.dilation], groups: g.groups))
        guard phases > 1 else { return try y.reshaped(g.outputShape) }
        // [N, (group, phase row, phase column, channel), Qh, Qw] → [N, group·channel, Qh·sh, Qw·sw], cut to the output.
        let interleaved = try backend.transpose(
            y.reshaped([g.batch, g.groups, h.stride, w.stride, mg, h.phaseOutputs, w.phaseOutputs]), permutation: [0, 1, 4, 5, 2, 6, 3]
        ).reshaped([g.batch, g.filters, h.phaseOutputs * h.stride, w.phaseOutputs * w.stride])
        let (top, left) = (h.offset(pad: g.padTop), w.offset(pad: g.padLeft))
        let result = try backend.slice(interleaved, starts: [top, left], ends: [top + g.outputHeight, left + g.outputWidth], axes: [2, 3])
        return try result.reshaped(g.outputShape)
    }

    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] { [Self.program] }
}

extension Backend {
    /// A 1-D or 2-D transposed convolution (ONNX ConvTranspose): input [N, C, L] or [N, C, H, W],
    /// weight [C, M/groups, k…], optional bias [M]; see `ConvTransposeDescriptor` for the sizes.
    public func convTranspose(
        _ input: Tensor, weight: Tensor, bias: Tensor? = nil, descriptor: ConvTransposeDescriptor = .init()
    ) throws -> Tensor {
        try runSingle(ConvTranspose(descriptor: descriptor), [input, weight] + (bias.map { [$0] } ?? []))
    }
}

extension ConvTranspose {
    /// Random cases for the checks: 1-D and 2-D, groups, strides, dilations, output padding, and
    /// each way of giving the pads (explicit, same, valid, an output shape).
    static let registryEntry = OperatorRegistry.Entry(name: "ConvTranspose") { random in
        (0..<4).map { index in
            let rank = index % 2 + 1
            func draw(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
            let groups = draw(1...3), channels = groups * draw(1...3), filtersPerGroup = draw(1...3)
            let spatial = (0..<rank).map { _ in draw(1...9) }, kernel = (0..<rank).map { _ in draw(1...4) }
            let stride = (0..<rank).map { _ in draw(1...3) }, dilation = (0..<rank).map { _ in draw(1...2) }
            let outputPadding = (0..<rank).map { draw(0...max(stride[$0], dilation[$0]) - 1) }
            let full = (0..<rank).map { (axis: Int) -> Int in
                stride[axis] * (spatial[axis] - 1) + outputPadding[axis] + dilation[axis] * (kernel[axis] - 1) + 1
            }
            var descriptor = ConvTransposeDescriptor(stride: stride, outputPadding: outputPadding, dilation: dilation, groups: groups)
            switch index / 2 == 0 ? draw(0...1) : draw(2...3) {
            case 0: descriptor.padding = .explicit((0..<(2 * rank)).map { draw(0...(full[$0 % rank] - 1) / 2) })
            case 1: descriptor.outputShape = full.map { draw(max(1, $0 - 3)...$0 + 2) }
            case 2 where (0..<rank).allSatisfy({ full[$0] >= spatial[$0] * stride[$0] }):
                descriptor.padding = [Padding.sameUpper, .sameLower][draw(0...1)]
            default: descriptor.padding = .valid
            }
            let hasBias = draw(0...1) == 1
            let shapes = [[draw(1...2), channels] + spatial, [channels, filtersPerGroup] + kernel] + (hasBias ? [[groups * filtersPerGroup]] : [])
            return OperatorRegistry.finiteSample(ConvTranspose(descriptor: descriptor), shapes, &random, sumOfProducts: true)
        }
    }
}
