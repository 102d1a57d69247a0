import Foundation
import Testing

@testable import ConvCL

/// Hundreds of random parameter sets per operator, each run on OpenCL and on the reference.
/// Seeded (CONVCL_TEST_SEED replays a run); every failure prints its parameters and the seed.
@Suite("Property tests: OpenCL against the reference", .needsOpenCL)
struct PropertyTests {
    static let cases = 300

    /// Runs `operation` on the reference and on each of `devices` with the same host values and compares.
    func compare(
        _ inputs: [(shape: [Int], values: [Float])], tolerance: Double, _ context: String,
        on devices: [OpenCLBackend]? = nil, _ operation: (any Backend, [Tensor]) throws -> Tensor
    ) throws {
        let reference = ReferenceBackend()
        let expected = try operation(reference, try inputs.map { try reference.tensor(shape: $0.shape, values: $0.values) })
        for device in try devices ?? [openCLBackend()] {
            let actual = try operation(device, try inputs.map { try device.tensor(shape: $0.shape, values: $0.values) })
            try expectClose(
                actual, expected, tolerance: tolerance,
                "\(device.convolution.algorithm?.rawValue ?? "chosen") (GEMM chunks of \(device.gemmChunkBytes) bytes) \(context)")
        }
    }

    /// The algorithms that compute every convolution (Winograd, only 3×3 stride 1, has its own test).
    static let generalAlgorithms = ConvolutionAlgorithm.allCases.filter { $0 != .winograd }

    /// One backend per general algorithm, each forcing it; im2col-gemm once more in chunks of one
    /// GEMM work-group's columns (cases with more taps than filters, most of them, run in several,
    /// the last one short); and direct once more with depthwise work-items of 3 output rows (the
    /// default gives most of this test's small launches work-items of 1 row).
    static let algorithmBackends: [OpenCLBackend] = {
        guard let (device, info) = try? Devices.find(.automatic) else { return [] }
        let forced = generalAlgorithms.compactMap {
            try? OpenCLBackend(device: device, info: info, cache: .environment, convolution: .init(algorithm: $0), kernelTier: .specialized)
        }
        let chunked = try? OpenCLBackend(
            device: device, info: info, cache: .environment, convolution: .init(algorithm: .im2colGEMM), kernelTier: .specialized, gemmChunkBytes: 1)
        let rowBlocks = try? OpenCLBackend(
            device: device, info: info, cache: .environment, convolution: .init(algorithm: .direct), kernelTier: .specialized, directRowsPerItem: 3)
        return forced + [chunked, rowBlocks].compactMap { $0 }
    }()

    func randomPadding(_ random: inout TestRandom, rank: Int, limit: Int) -> Padding {
        switch random.int(0...4) {
        case 0: .valid
        case 1: .sameUpper
        case 2: .sameLower
        default: .explicit((0..<(2 * rank)).map { _ in random.int(0...limit) })
        }
    }

    @Test("conv2d with every algorithm: groups, depthwise, every padding form, stride, dilation, bias, activation, flip")
    func conv2d() throws {
        #expect(Self.algorithmBackends.count == Self.generalAlgorithms.count + 2)
        var random = TestRandom()
        for _ in 0..<Self.cases {
            let groups = random.int(1...3)
            let depthwise = random.int(0...3) == 0
            let c = depthwise ? random.int(1...4) : groups * random.int(1...3)
            let g = depthwise ? c : groups
            // Depthwise with a channel multiplier when > c; a quarter of the cases have 4–19 filters
            // per group, so that the direct kernel's blocks of 4, 8 and 16 filters leave a short
            // last block.
            let k = g * (random.int(0...3) == 0 ? random.int(4...19) : random.int(1...3))
            let r = random.int(1...5), s = random.int(1...5)
            let dilation = [random.int(1...3), random.int(1...3)]
            // Depthwise cases take stride 1 half the time (conv2d_rows), and a quarter of all cases
            // a wide input, so that rows hold several vectors of 16 outputs.
            let stride = depthwise && random.int(0...1) == 0 ? [1, 1] : [random.int(1...3), random.int(1...3)]
            let h = dilation[0] * (r - 1) + random.int(1...11)
            let w = dilation[1] * (s - 1) + (random.int(0...3) == 0 ? random.int(40...90) : random.int(1...11))
            let descriptor = Conv2DDescriptor(
                stride: stride, padding: randomPadding(&random, rank: 2, limit: 3), dilation: dilation, groups: g,
                mode: random.int(0...1) == 0 ? .crossCorrelation : .convolution,
                activation: [.none, .relu, .leakyReLU(slope: 0.2)][random.int(0...2)])
            let hasBias = random.int(0...1) == 1
            var inputs = [
                (shape: [random.int(1...3), c, h, w], values: [Float]()),
                (shape: [k, c / g, r, s], values: [Float]()),
            ]
            if hasBias { inputs.append((shape: [k], values: [])) }
            for i in inputs.indices { inputs[i].values = random.floats(inputs[i].shape.reduce(1, *)) }
            try compare(inputs, tolerance: 1e-5, "\(inputs.map(\.shape)) \(descriptor) seed \(random.seed)", on: Self.algorithmBackends) { backend, t in
                try backend.conv2d(t[0], weight: t[1], bias: hasBias ? t[2] : nil, descriptor: descriptor)
            }
        }
    }

    @Test("Winograd: 3×3 stride-1 convolutions of random sizes, padding forms, batch, bias, activation, flip")
    func winograd() throws {
        let backend = try OpenCLBackend(device: .automatic, convolution: .init(algorithm: .winograd), kernelTier: .specialized)
        // Chunks of max(1, 20 / (c + k)) work-items of 16 tiles: most cases run in several chunks,
        // the last one short.
        let (device, info) = try Devices.find(.automatic)
        let chunked = try OpenCLBackend(
            device: device, info: info, cache: .environment, convolution: .init(algorithm: .winograd), kernelTier: .specialized,
            winogradChunkBytes: 4 * 36 * 16 * 20)
        var random = TestRandom()
        for _ in 0..<Self.cases / 3 {
            let c = random.int(1...9), k = random.int(1...14)
            // Sizes from 1 (all padding) to past one run of 16 tiles of 4×4 (64 columns), odd and
            // even: work-items of 1, 2 and 4 tile rows. Paddings past 16 (left pads up to 2, the
            // ones Winograd is built for) shift the tiles by more than a 16-row run.
            let h = random.int(1...21), w = random.int(1...75)
            let descriptor = Conv2DDescriptor(
                padding: randomPadding(&random, rank: 2, limit: random.int(0...3) == 0 ? 19 : 2),
                mode: random.int(0...1) == 0 ? .crossCorrelation : .convolution,
                activation: [.none, .relu, .leakyReLU(slope: 0.2)][random.int(0...2)])
            guard let g = try? descriptor.geometry(input: [1, c, h, w], weight: [k, c, 3, 3], bias: nil),
                ConvolutionGeometry.winogradLeftPads.contains(g.padLeft)
            else { continue }
            let inputs = [[random.int(1...3), c, h, w], [k, c, 3, 3], [k]].map { shape in
                (shape: shape, values: random.floats(shape.reduce(1, *)))
            }
            let hasBias = random.int(0...1) == 1
            try compare(inputs, tolerance: 1e-5, "\(inputs.map(\.shape)) bias \(hasBias) \(descriptor) seed \(random.seed)", on: [backend, chunked]) { b, t in
                try b.conv2d(t[0], weight: t[1], bias: hasBias ? t[2] : nil, descriptor: descriptor)
            }
        }
        // Other shapes are refused before anything runs, naming what Winograd computes.
        #expect {
            try backend.plan(input: [1, 4, 9, 9], weight: [4, 4, 3, 3], bias: nil, descriptor: Conv2DDescriptor(stride: [2, 1]))
        } throws: { error in
            guard case ConvCLError.invalidArgument("conv2d", "algorithm", let reason) = error else { return false }
            return reason.contains("3×3 convolutions with stride 1") && reason.contains("stride 2×1")
        }
        #expect {
            try backend.plan(input: [1, 4, 9, 9], weight: [4, 4, 3, 3], bias: nil, descriptor: Conv2DDescriptor(padding: .explicit([0, 3, 0, 0])))
        } throws: { error in
            guard case ConvCLError.invalidArgument("conv2d", "algorithm", let reason) = error else { return false }
            return reason.contains("a left pad of 0…2") && reason.contains("left pad 3")
        }
    }

    @Test("conv1d with every algorithm: long kernels over raw audio, strides, dilation, groups, padding forms")
    func conv1d() throws {
        var random = TestRandom()
        for _ in 0..<Self.cases {
            let g = random.int(1...2)
            let c = g * random.int(1...2), k = g * random.int(1...3)
            let kernel = random.int(0...2) == 0 ? random.int(16...96) : random.int(1...7)
            let dilation = random.int(1...2)
            let length = dilation * (kernel - 1) + random.int(1...200)
            let descriptor = Conv1DDescriptor(
                stride: random.int(1...5), padding: randomPadding(&random, rank: 1, limit: 4), dilation: dilation,
                groups: g, activation: random.int(0...1) == 0 ? .none : .relu)
            let inputs = [[random.int(1...2), c, length], [k, c / g, kernel], [k]].map { shape in
                (shape: shape, values: random.floats(shape.reduce(1, *)))
            }
            try compare(inputs, tolerance: 1e-5, "\(inputs.map(\.shape)) \(descriptor) seed \(random.seed)", on: Self.algorithmBackends) { backend, t in
                try backend.conv1d(t[0], weight: t[1], bias: t[2], descriptor: descriptor)
            }
        }
    }

    /// A random valid pooling descriptor for an input of `spatial` sizes: pads up to the kernel − 1
    /// (ONNX's limit), so with dilation some windows hold no input.
    func randomPool(_ random: inout TestRandom, rank: Int) -> (PoolDescriptor, [Int]) {
        let kernel = (0..<rank).map { _ in random.int(1...4) }
        let dilation = (0..<rank).map { _ in random.int(1...2) }
        let extents = zip(kernel, dilation).map { $1 * ($0 - 1) + 1 }
        let padding: Padding =
            random.int(0...2) == 0
            ? [Padding.valid, .sameUpper, .sameLower][random.int(0...2)]
            : .explicit((0..<(2 * rank)).map { random.int(0...kernel[$0 % rank] - 1) })
        let descriptor = PoolDescriptor(
            kernel: kernel, stride: random.int(0...3) == 0 ? nil : (0..<rank).map { _ in random.int(1...3) },
            padding: padding, dilation: dilation, ceilMode: random.int(0...1) == 1,
            countIncludePad: random.int(0...1) == 1)
        // Half the time a wide last axis, so that rows hold several vectors of 16 outputs and a
        // shifted last one.
        let spatial = extents.enumerated().map { axis, extent in
            extent + (axis == rank - 1 && random.int(0...1) == 0 ? random.int(32...110) : random.int(0...9))
        }
        return (descriptor, spatial)
    }

    @Test("max pooling: values and indices exactly equal, 1-D and 2-D")
    func maxPool() throws {
        var random = TestRandom()
        let device = try openCLBackend()
        let reference = ReferenceBackend()
        for _ in 0..<Self.cases {
            let rank = random.int(1...2)
            let (descriptor, spatial) = randomPool(&random, rank: rank)
            let shape = [random.int(1...3), random.int(1...4)] + spatial
            // Few distinct values, so ties are common and the first-index rule is exercised.
            let values = (0..<shape.reduce(1, *)).map { _ in Float(random.int(-4...4)) }
            let expected = try reference.maxPoolWithIndices(try reference.tensor(shape: shape, values: values), descriptor: descriptor)
            let actual = try device.maxPoolWithIndices(try device.tensor(shape: shape, values: values), descriptor: descriptor)
            let context = "input \(shape) \(descriptor) seed \(random.seed)"
            #expect(actual.values.shape == expected.values.shape, "\(context)")
            #expect(try actual.values.values() == expected.values.values(), "\(context)")
            #expect(try actual.indices.int64Values() == expected.indices.int64Values(), "\(context)")
        }
    }

    @Test("average pooling: ceil mode, count_include_pad, dilation, 1-D and 2-D")
    func averagePool() throws {
        var random = TestRandom()
        for _ in 0..<Self.cases {
            let rank = random.int(1...2)
            let (descriptor, spatial) = randomPool(&random, rank: rank)
            let shape = [random.int(1...3), random.int(1...4)] + spatial
            try compare([(shape, random.floats(shape.reduce(1, *)))], tolerance: 1e-6, "input \(shape) \(descriptor) seed \(random.seed)") {
                backend, t in try backend.averagePool(t[0], descriptor: descriptor)
            }
        }
    }

    @Test("every reduction over random axis sets, with and without keepDims")
    func reductions() throws {
        var random = TestRandom()
        for _ in 0..<Self.cases {
            let rank = random.int(1...5)
            let shape = (0..<rank).map { _ in random.int(0...9) == 0 ? 1 : random.int(1...7) }
            let operation = ReductionOperation.allCases[random.int(0...ReductionOperation.allCases.count - 1)]
            let axes: [Int]? =
                random.int(0...4) == 0 ? nil
                : (0..<rank).filter { _ in random.int(0...1) == 1 }.map { random.int(0...1) == 0 ? $0 : $0 - rank }
            let descriptor = ReduceDescriptor(operation, axes: axes, keepDims: random.int(0...1) == 1)
            var values = random.floats(shape.reduce(1, *))
            switch operation {
            // Sums ≥ 1.5: near a sum of 1, log(sum) is near 0 and the float rounding of the sum
            // itself (relative 6e-8) becomes a large relative error of the result.
            case .logSum: values = values.map { abs($0) + 1.5 }
            case .prod: values = values.map { 1 + $0 / 4 }  // products that neither vanish nor explode
            case .logSumExp: values = values.map { $0 * 50 }  // a wide range of exponents
            default: break
            }
            let context = "input \(shape) \(descriptor) seed \(random.seed)"
            if operation == .sum || operation == .mean {
                // Sums of values of both signs can cancel to near zero, where float32's rounding is
                // a large part of the result: each output's error is measured against the same
                // reduction of |x| (the sum's condition), which float32 keeps far below 1e-5 here.
                let reference = ReferenceBackend(), device = try openCLBackend()
                let expected = try reference.reduce(try reference.tensor(shape: shape, values: values), descriptor: descriptor).values()
                let scale = try reference.reduce(try reference.tensor(shape: shape, values: values.map(abs)), descriptor: descriptor).values()
                let actual = try device.reduce(try device.tensor(shape: shape, values: values), descriptor: descriptor).values()
                #expect(actual.count == expected.count, "\(context)")
                let worst = Discrepancy.largestScaledError(actual: actual, expected: expected, scale: scale)
                #expect(worst <= 1e-5, "error \(worst) of the sum of |x|; \(context)")
                continue
            }
            let tolerance = [.max, .min].contains(operation) ? 0 : 1e-5
            try compare([(shape, values)], tolerance: tolerance, context) {
                backend, t in try backend.reduce(t[0], descriptor: descriptor)
            }
        }
    }
}
