import ConvCL

/// One case of the benchmark suite (the performance issue's list, NCHW float32).
struct BenchCase: Sendable {
    enum Work: Sendable {
        case conv2d(input: [Int], weight: [Int], Conv2DDescriptor)
        case conv1d(input: [Int], weight: [Int], Conv1DDescriptor)
        case maxPool(input: [Int], PoolDescriptor)
        case globalAveragePool(input: [Int])
        case sum(input: [Int])
        case matmul(a: [Int], b: [Int])
        /// An elementwise operation on operands of these shapes (broadcast).
        case elementwise(ElementwiseOperation, [[Int]])
        case transpose(input: [Int], permutation: [Int])
        /// Inference batch normalisation of [N, C, H, W].
        case batchNormalization(input: [Int])
        case softmax(input: [Int], axis: Int)
    }

    let name: String
    let work: Work

    static let suite: [BenchCase] = [
        conv("resnet3x3_c64_56", n: 1, c: 64, h: 56, w: 56, k: 64, kernel: 3, stride: 1, pad: 1, groups: 1),
        conv("vgg3x3_c128_28_b8", n: 8, c: 128, h: 28, w: 28, k: 128, kernel: 3, stride: 1, pad: 1, groups: 1),
        conv("mel3x3_c1_96x128_b16", n: 16, c: 1, h: 96, w: 128, k: 32, kernel: 3, stride: 1, pad: 1, groups: 1),
        conv("mel3x3_c32_48x64_b16", n: 16, c: 32, h: 48, w: 64, k: 64, kernel: 3, stride: 1, pad: 1, groups: 1),
        conv("pointwise1x1_c256_28", n: 1, c: 256, h: 28, w: 28, k: 512, kernel: 1, stride: 1, pad: 0, groups: 1),
        conv("stride2_7x7_c3_224", n: 1, c: 3, h: 224, w: 224, k: 64, kernel: 7, stride: 2, pad: 3, groups: 1),
        BenchCase(name: "audio1d_k512_s4_b8", work: .conv1d(input: [8, 1, 4096], weight: [128, 1, 512], .init(stride: 4))),
        // Basic Pitch's hot spot (38% of onnxruntime's time on it) and its constant-Q filters: [1×256]
        // kernels over the audio (here the first octave, 36 bins, stride 1; others stride up to 256).
        BenchCase(name: "basicpitch3x39_c8_172x264", work: .conv2d(
            input: [1, 8, 172, 264], weight: [8, 8, 3, 39], Conv2DDescriptor(padding: .explicit([1, 19, 1, 19])))),
        // Its second hot spot: 32 filters of 8×5×5 at stride (1, 3).
        BenchCase(name: "basicpitch5x5_c8_k32_s1x3", work: .conv2d(
            input: [1, 8, 172, 264], weight: [32, 8, 5, 5], Conv2DDescriptor(stride: [1, 3], padding: .explicit([2, 1, 2, 1])))),
        // And its 7×7 over the constant-Q bins at stride (1, 3), 32 filters.
        BenchCase(name: "basicpitch7x7_c1_k32_s1x3", work: .conv2d(
            input: [1, 1, 172, 264], weight: [32, 1, 7, 7], Conv2DDescriptor(stride: [1, 3], padding: .explicit([3, 2, 3, 2])))),
        BenchCase(name: "basicpitch_cqt1x256_c36", work: .conv1d(input: [1, 1, 4096], weight: [36, 1, 256], .init())),
        BenchCase(name: "basicpitch_cqt1x256_c1_s2", work: .conv1d(input: [1, 1, 44098], weight: [1, 1, 256], .init(stride: 2))),
        BenchCase(name: "basicpitch_cqt1x256_c36_s16", work: .conv1d(input: [1, 1, 43844], weight: [36, 1, 256], .init(stride: 16))),
        conv("depthwise3x3_c256_56", n: 1, c: 256, h: 56, w: 56, k: 256, kernel: 3, stride: 1, pad: 1, groups: 256),
        BenchCase(name: "maxpool2x2_c128_56_b8", work: .maxPool(input: [8, 128, 56, 56], .init(kernel: [2, 2]))),
        BenchCase(name: "global_avgpool_c512_14_b16", work: .globalAveragePool(input: [16, 512, 14, 14])),
        BenchCase(name: "sum_2p24", work: .sum(input: [1 << 24])),
        BenchCase(name: "matmul_1024", work: .matmul(a: [1024, 1024], b: [1024, 1024])),
        BenchCase(name: "matmul_256x4096x1024", work: .matmul(a: [256, 4096], b: [4096, 1024])),
        BenchCase(name: "add_broadcast_2p24", work: .elementwise(.add, [[1 << 12, 1 << 12], [1 << 12]])),
        BenchCase(name: "sigmoid_2p24", work: .elementwise(.sigmoid, [[1 << 24]])),
        BenchCase(name: "transpose_16x64x128x128", work: .transpose(input: [16, 64, 128, 128], permutation: [0, 1, 3, 2])),
        BenchCase(name: "batchnorm_16x256x32x32", work: .batchNormalization(input: [16, 256, 32, 32])),
        BenchCase(name: "softmax_16x256x32x32", work: .softmax(input: [16, 256, 32, 32], axis: 1)),
        // A classifier's or an attention's softmax: along the last axis.
        BenchCase(name: "softmax_4096x1000_last", work: .softmax(input: [4096, 1000], axis: -1)),
    ]

    static func conv(
        _ name: String, n: Int, c: Int, h: Int, w: Int, k: Int, kernel: Int, stride: Int, pad: Int, groups: Int
    ) -> BenchCase {
        BenchCase(name: name, work: .conv2d(
            input: [n, c, h, w], weight: [k, c / groups, kernel, kernel],
            Conv2DDescriptor(stride: [stride, stride], padding: .explicit([pad, pad, pad, pad]), groups: groups)))
    }

    /// The shapes of the operands, in order.
    var operandShapes: [[Int]] {
        switch work {
        case .conv2d(let input, let weight, _), .conv1d(let input, let weight, _): [input, weight]
        case .maxPool(let input, _), .globalAveragePool(let input), .sum(let input), .transpose(let input, _),
             .softmax(let input, _): [input]
        case .matmul(let a, let b): [a, b]
        case .elementwise(_, let shapes): shapes
        case .batchNormalization(let input): [input] + Array(repeating: [input[1]], count: 4)
        }
    }

    /// Random operands of `operandShapes`, in [-1, 1) (a variance in [0.5, 1.5), as peers.py's).
    func operandValues(_ random: inout SeededGenerator) -> [[Float]] {
        var values = operandShapes.map { random.floats($0.reduce(1, *)) }
        if case .batchNormalization = work { values[4] = values[4].map { abs($0) + 0.5 } }
        return values
    }

    /// Runs the case once on `backend`.
    func run(_ backend: any Backend, _ operands: [Tensor]) throws -> Tensor {
        switch work {
        case .conv2d(_, _, let descriptor): try backend.conv2d(operands[0], weight: operands[1], bias: nil, descriptor: descriptor)
        case .conv1d(_, _, let descriptor): try backend.conv1d(operands[0], weight: operands[1], bias: nil, descriptor: descriptor)
        case .maxPool(_, let descriptor): try backend.maxPool(operands[0], descriptor: descriptor)
        case .globalAveragePool: try backend.globalAveragePool(operands[0])
        case .sum: try backend.reduce(operands[0], descriptor: .init(.sum))
        case .matmul: try backend.matmul(operands[0], operands[1])
        case .elementwise(let operation, _): try backend.elementwise(operation, operands: operands)
        case .transpose(_, let permutation): try backend.transpose(operands[0], permutation: permutation)
        case .batchNormalization:
            try backend.batchNormalization(operands[0], scale: operands[1], bias: operands[2], mean: operands[3], variance: operands[4])
        case .softmax(_, let axis): try backend.softmax(operands[0], axis: axis)
        }
    }

    /// The work of one call: FLOPs for convolutions, counted as 2·N·K·OH·OW·(C/groups)·R·S for
    /// every algorithm; bytes moved (input read plus output written) for the others.
    func measure(outputShape: [Int]) -> (flops: Double?, bytes: Double?) {
        let outputCount = Double(outputShape.reduce(1, *))
        switch work {
        case .conv2d(_, let weight, _), .conv1d(_, let weight, _):
            // Output N·K·spatial, each a dot product over the weight's C/groups·R·S taps.
            return (2 * outputCount * Double(weight.dropFirst().reduce(1, *)), nil)
        case .maxPool(let input, _), .globalAveragePool(let input), .sum(let input), .transpose(let input, _),
             .batchNormalization(let input), .softmax(let input, _):
            return (nil, 4 * (Double(input.reduce(1, *)) + outputCount))
        case .matmul(let a, _):
            return (2 * outputCount * Double(a.last!), nil)
        case .elementwise(_, let shapes):
            return (nil, 4 * (shapes.reduce(0) { $0 + Double($1.reduce(1, *)) } + outputCount))
        }
    }
}
