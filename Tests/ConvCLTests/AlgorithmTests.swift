import Foundation
import Testing

@testable import ConvCL

@Suite("Convolution algorithms and workspace")
struct AlgorithmTests {
    let input = [2, 16, 20, 18], weight = [24, 16, 3, 3]

    @Test("the plan names the algorithm and why; depthwise stays direct", .needsOpenCL)
    func plans() throws {
        let backend = try openCLBackend()
        let gemm = try backend.plan(input: input, weight: weight, bias: nil, descriptor: Conv2DDescriptor(stride: [2, 2], padding: .sameUpper))
        #expect(gemm.algorithm == .im2colGEMM)
        // The patch matrix (144 rows; 2 · 10 · 9 columns padded to whole GEMM work-groups of 8
        // work-items) and the filters padded to whole panels.
        let tile = backend.gemmTile
        let filterPanels = GEMMTile.roundUp(24, tile.m) / tile.m
        let columns = GEMMTile.roundUp(2 * 10 * 9, tile.n * max(1, 8 / filterPanels))
        #expect(gemm.workspaceBytes == 4 * 144 * (columns + filterPanels * tile.m))
        // 3×3 stride 1 over 2 · 5 · 5 tiles of 4×4 outputs: Winograd, with its transformed input,
        // filters and products (36 each) as workspace.
        let winograd = try backend.plan(input: input, weight: weight, bias: nil, descriptor: Conv2DDescriptor(padding: .sameUpper))
        #expect(winograd.algorithm == .winograd && winograd.reason.contains("50 4×4 tiles"), "\(winograd)")
        #expect(winograd.workspaceBytes >= 4 * 36 * (16 * 50 + 24 * 16 + 24 * 50))
        // Too few tiles to pay for the transforms: direct with up to 32 filters at unit stride
        // (Basic Pitch's 8 filters of 3×39 among them), im2col-gemm with more.
        let small = try backend.plan(input: [1, 16, 8, 8], weight: weight, bias: nil, descriptor: Conv2DDescriptor(padding: .sameUpper))
        #expect(small.algorithm == .direct && small.reason.contains("24 filters per group at unit stride"), "\(small)")
        let harmonic = try backend.plan(input: [1, 8, 172, 264], weight: [8, 8, 3, 39], bias: [8], descriptor: Conv2DDescriptor(padding: .explicit([1, 19, 1, 19])))
        #expect(harmonic.algorithm == .direct, "\(harmonic)")
        let many = try backend.plan(input: [1, 16, 8, 8], weight: [64, 16, 3, 3], bias: nil, descriptor: Conv2DDescriptor(padding: .sameUpper))
        #expect(many.algorithm == .im2colGEMM, "\(many)")
        // With at most 4 channels, up to 48 filters (Basic Pitch's 36 constant-Q filters of 1×256).
        let octave = try backend.plan(input: [1, 1, 4096], weight: [36, 1, 256], bias: nil, descriptor: Conv1DDescriptor())
        #expect(octave.algorithm == .direct && octave.reason.contains("36 filters per group at unit stride"), "\(octave)")
        let wider = try backend.plan(input: [1, 4, 8, 8], weight: [49, 4, 3, 3], bias: nil, descriptor: Conv2DDescriptor(padding: .sameUpper))
        #expect(wider.algorithm == .im2colGEMM, "\(wider)")
        let depthwise = try backend.plan(input: input, weight: [16, 1, 3, 3], bias: nil, descriptor: Conv2DDescriptor(groups: 16))
        #expect(depthwise.algorithm == .direct && depthwise.workspaceBytes == 0)
        #expect(depthwise.reason.contains("1 filter(s) per group"), "\(depthwise.reason)")
        // A shallow product (one channel, 3×3) stays direct however many filters share it, and
        // so do groups of fewer than 4 filters.
        let mel = try backend.plan(input: [2, 1, 24, 40], weight: [32, 1, 3, 3], bias: nil, descriptor: Conv2DDescriptor(padding: .sameUpper))
        #expect(mel.algorithm == .direct && mel.reason.contains("9 taps per output"), "\(mel)")
        let few = try backend.plan(input: [2, 8, 24, 40], weight: [3, 8, 3, 3], bias: nil, descriptor: Conv2DDescriptor(padding: .sameUpper))
        #expect(few.algorithm == .direct && few.reason.contains("3 filter(s) per group"), "\(few)")
        let long = try backend.plan(input: [4, 1, 4096], weight: [64, 1, 512], bias: nil, descriptor: Conv1DDescriptor(stride: 4))
        #expect(long.algorithm == .im2colGEMM)
    }

    @Test("a strided convolution runs over its stride's phases where their zero taps add at most a quarter; every algorithm matches the reference", .needsOpenCL)
    func stridePhases() throws {
        let backend = try openCLBackend()
        let reference = ReferenceBackend()
        var random = TestRandom()
        // (input, weight, descriptor, phases): the phases the plan takes, or 0 where the strided
        // kernels run.
        let cases: [([Int], [Int], Conv2DDescriptor, Int)] = [
            // Basic Pitch's 5×5 at stride (1, 3) (6/5 the taps), a bias and ReLU; odd sizes.
            ([1, 8, 17, 40], [12, 8, 5, 5], Conv2DDescriptor(stride: [1, 3], padding: .explicit([2, 1, 2, 1]), activation: .relu), 3),
            // Both axes, asymmetric pads; one filter (direct) and many (im2col-gemm) over the phases.
            ([2, 3, 23, 21], [5, 3, 4, 4], Conv2DDescriptor(stride: [2, 2], padding: .explicit([1, 2, 0, 3])), 4),
            ([2, 3, 23, 21], [1, 3, 4, 4], Conv2DDescriptor(stride: [2, 2], padding: .explicit([3, 0, 2, 1])), 4),
            ([1, 4, 15, 26], [56, 4, 2, 8], Conv2DDescriptor(stride: [2, 4], padding: .sameUpper), 8),
            // Groups and a leaky ReLU; the last input columns never read (the phases cut them off).
            ([2, 6, 9, 31], [6, 2, 3, 6], Conv2DDescriptor(stride: [1, 3], padding: .explicit([1, 0, 1, 2]), groups: 3, activation: .leakyReLU(slope: 0.3)), 3),
            ([1, 2, 5, 40], [4, 2, 3, 6], Conv2DDescriptor(stride: [1, 3]), 3),
            // A dilation on the axis left at stride 1.
            ([1, 4, 20, 30], [4, 4, 3, 4], Conv2DDescriptor(stride: [1, 2], padding: .explicit([2, 1, 2, 1]), dilation: [2, 1]), 2),
            // A kernel of two rows, strided along the width only.
            ([2, 1, 3, 301], [3, 1, 2, 32], Conv2DDescriptor(stride: [1, 16], padding: .explicit([0, 5, 0, 3])), 16),
            // Where the strided kernels stay: 1-D filter banks (Basic Pitch's at stride 2 and 16,
            // shortened, as conv1d runs them), 16/9 the taps, a true convolution, a dilated
            // stride, a kernel shorter than its stride.
            ([2, 1, 1, 301], [1, 1, 1, 32], Conv2DDescriptor(stride: [1, 2], padding: .explicit([0, 5, 0, 3])), 0),
            ([1, 1, 1, 700], [36, 1, 1, 64], Conv2DDescriptor(stride: [1, 16]), 0),
            ([1, 3, 11, 13], [4, 3, 3, 3], Conv2DDescriptor(stride: [2, 2], padding: .sameUpper), 0),
            ([1, 3, 11, 13], [4, 3, 4, 4], Conv2DDescriptor(stride: [2, 2], mode: .convolution), 0),
            ([1, 3, 11, 23], [4, 3, 2, 4], Conv2DDescriptor(stride: [1, 2], dilation: [1, 2]), 0),
            ([1, 3, 11, 13], [4, 3, 1, 1], Conv2DDescriptor(stride: [2, 2]), 0),
        ]
        // The backend's choice, then each algorithm forced (on the stride-1 convolution where it
        // runs over the phases).
        let forced = try [ConvolutionAlgorithm.direct, .im2colGEMM].map {
            try OpenCLBackend(device: .automatic, convolution: .init(algorithm: $0), kernelTier: .specialized)
        }
        for (input, weight, descriptor, phases) in cases {
            let bias = [weight[0]]
            let plan = try backend.plan(input: input, weight: weight, bias: bias, descriptor: descriptor)
            #expect((plan.phases?.strides.reduce(1, *) ?? 0) == phases, "\(input) \(weight) \(descriptor): \(plan)")
            if phases > 0 { #expect(plan.reason.contains("over the stride's \(phases) phases"), "\(plan)") }
            let x = random.floats(input.reduce(1, *)), w = random.floats(weight.reduce(1, *)), b = random.floats(weight[0])
            let expected = try reference.conv2d(
                try reference.tensor(shape: input, values: x), weight: try reference.tensor(shape: weight, values: w),
                bias: try reference.tensor(shape: bias, values: b), descriptor: descriptor)
            for device in [backend] + forced {
                let actual = try device.conv2d(
                    try device.tensor(shape: input, values: x), weight: try device.tensor(shape: weight, values: w),
                    bias: try device.tensor(shape: bias, values: b), descriptor: descriptor)
                try expectClose(actual, expected, "\(input) \(weight) \(descriptor) on \(device.convolution.algorithm?.rawValue ?? "the backend's choice"); seed \(random.seed)")
            }
        }
    }

    @Test("an uploaded weight's packed filters are made once, kept with it and released with it; a computed weight's are made every call", .needsOpenCL)
    func preparedWeights() throws {
        var random = TestRandom()
        let reference = ReferenceBackend()
        // Each algorithm forced, and the launches its weight costs: pack_filters (9 filters: a
        // block of 8 and a tail), pack_weights, transform_filters, and over a stride's phases the
        // phase kernel's phase_split with its pack_filters.
        let cases: [(ConvolutionAlgorithm, input: [Int], weight: [Int], Conv2DDescriptor, launches: Int)] = [
            (.direct, [1, 3, 11, 13], [9, 3, 3, 3], Conv2DDescriptor(padding: .sameUpper), 1),
            (.im2colGEMM, [1, 3, 11, 13], [5, 3, 3, 2], Conv2DDescriptor(mode: .convolution), 1),
            (.winograd, [1, 4, 12, 14], [6, 4, 3, 3], Conv2DDescriptor(padding: .explicit([1, 1, 1, 1])), 1),
            (.direct, [1, 2, 7, 31], [8, 2, 3, 5], Conv2DDescriptor(stride: [1, 3]), 2),
        ]
        for (algorithm, input, weight, descriptor, launches) in cases {
            let backend = try OpenCLBackend(device: .automatic, convolution: .init(algorithm: algorithm), kernelTier: .specialized)
            let context = "\(algorithm) \(input) \(weight) \(descriptor); seed \(random.seed)"
            let xValues = random.floats(input.reduce(1, *)), wValues = random.floats(weight.reduce(1, *))
            let expected = try reference.conv2d(
                try reference.tensor(shape: input, values: xValues), weight: try reference.tensor(shape: weight, values: wValues),
                bias: nil, descriptor: descriptor)
            let x = try backend.tensor(shape: input, values: xValues)
            /// The launches of each of three calls with `w`, each result checked.
            func launchCounts(_ w: Tensor) throws -> [Int] {
                try (0..<3).map { _ in
                    let start = backend.statistics.kernelLaunches
                    let y = try backend.conv2d(x, weight: w, bias: nil, descriptor: descriptor)
                    let count = backend.statistics.kernelLaunches - start
                    try expectClose(y, expected, context)
                    return count
                }
            }
            var kept = 0
            do {
                let w = try backend.tensor(shape: weight, values: wValues)
                let counts = try launchCounts(w)
                #expect(counts[0] - counts[1] == launches && counts[1] == counts[2], "\(counts): \(context)")
                backend.emptyPool()
                kept = backend.liveBufferCount
            }
            backend.emptyPool()
            #expect(backend.liveBufferCount == kept - 1 - launches, "the weight and its kept forms are released with it: \(context)")

            // A kernel's result (here −(−w)) is not kept: nothing says no kernel writes it later.
            let computed = try backend.elementwise(.neg, backend.elementwise(.neg, backend.tensor(shape: weight, values: wValues)))
            let counts = try launchCounts(computed)
            #expect(Set(counts).count == 1, "\(counts): \(context)")
        }
    }

    @Test("an algorithm over the workspace limit is not chosen; the one that fits runs and is right", .needsOpenCL)
    func workspaceLimit() throws {
        // Stride 2 along the width, so that neither Winograd nor the few-filter direct rule applies.
        let strided = Conv2DDescriptor(stride: [1, 2])
        let limited = try OpenCLBackend(device: .automatic, convolution: .init(workspaceLimit: 64 << 10), kernelTier: .specialized)
        let plan = try limited.plan(input: input, weight: weight, bias: nil, descriptor: strided)
        #expect(plan.algorithm == .direct)
        #expect(plan.reason.contains("over the limit of 65536 bytes"), "\(plan.reason)")

        var random = TestRandom()
        let x = random.floats(input.reduce(1, *)), w = random.floats(weight.reduce(1, *))
        let reference = ReferenceBackend()
        let expected = try reference.conv2d(
            try reference.tensor(shape: input, values: x), weight: try reference.tensor(shape: weight, values: w),
            bias: nil, descriptor: strided)
        let actual = try limited.conv2d(
            try limited.tensor(shape: input, values: x), weight: try limited.tensor(shape: weight, values: w),
            bias: nil, descriptor: strided)
        try expectClose(actual, expected, "workspace-limited; seed \(random.seed)")

        // Forcing an algorithm that does not fit is an error before anything runs.
        let forced = try OpenCLBackend(device: .automatic, convolution: .init(workspaceLimit: 64 << 10, algorithm: .im2colGEMM), kernelTier: .specialized)
        #expect {
            try forced.conv2d(
                try forced.tensor(shape: input, values: x), weight: try forced.tensor(shape: weight, values: w),
                bias: nil, descriptor: strided)
        } throws: { error in
            guard case ConvCLError.invalidArgument("conv2d", "algorithm", let reason) = error else { return false }
            return reason.contains("im2col-gemm needs") && reason.contains("limit of 65536 bytes")
        }
    }

    @Test("every GEMM tile shape the kernel supports matches the reference, tails included", .needsOpenCL)
    func everyTile() throws {
        let (device, info) = try Devices.find(.automatic)
        var random = TestRandom()
        let reference = ReferenceBackend()
        // Vectors of 16 floats, and of 8 and 4 (narrower SIMD): several vectors a row.
        for (m, n, width) in [(6, 16, 16), (12, 32, 16), (8, 48, 16), (4, 4, 4), (3, 8, 8), (6, 16, 8), (5, 32, 8), (3, 16, 4)] {
            let backend = try OpenCLBackend(
                device: device, info: info, cache: .environment, convolution: .init(algorithm: .im2colGEMM), kernelTier: .specialized,
                gemmTile: GEMMTile(m: m, n: n, width: width))
            // Filters and positions that fill no tile exactly; two images, so a column panel can
            // span both; a bias and a fused leaky ReLU on the vector and the element-wise stores.
            let shapes = ([2, 3, 9, 11], [m + 1 + random.int(0...2), 3, 3, 3])
            let x = random.floats(shapes.0.reduce(1, *)), w = random.floats(shapes.1.reduce(1, *))
            let b = random.floats(shapes.1[0])
            let descriptor = Conv2DDescriptor(padding: .sameUpper, activation: .leakyReLU(slope: 0.2))
            let expected = try reference.conv2d(
                try reference.tensor(shape: shapes.0, values: x), weight: try reference.tensor(shape: shapes.1, values: w),
                bias: try reference.tensor(shape: [shapes.1[0]], values: b), descriptor: descriptor)
            let actual = try backend.conv2d(
                try backend.tensor(shape: shapes.0, values: x), weight: try backend.tensor(shape: shapes.1, values: w),
                bias: try backend.tensor(shape: [shapes.1[0]], values: b), descriptor: descriptor)
            try expectClose(actual, expected, "tile \(m)x\(n) of float\(width), weight \(shapes.1); seed \(random.seed)")
        }
    }

    @Test("find mode times the algorithms once per shape and device; a second process reads the tuning file", .needsOpenCL)
    func findMode() throws {
        let cache = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        let options = OpenCLBackend.ConvolutionOptions(find: true)
        let first = try OpenCLBackend(device: .automatic, cache: .directory(cache), convolution: options, kernelTier: .specialized)
        let shape = (input: [2, 8, 13, 11], weight: [6, 8, 3, 3])
        let descriptor = Conv2DDescriptor(padding: .sameUpper, activation: .relu)
        let found = try first.plan(input: shape.input, weight: shape.weight, bias: [6], descriptor: descriptor)
        #expect(found.reason.hasPrefix("fastest by timing: direct"), "\(found.reason)")
        #expect(found.reason.contains("im2col-gemm") && found.reason.contains("winograd"), "every algorithm is timed: \(found.reason)")
        #expect(first.statistics.convolutionTimings == 3)

        // The same shape again: no timing, the stored winner, and the convolution is right.
        let again = try first.plan(input: shape.input, weight: shape.weight, bias: [6], descriptor: descriptor)
        #expect(again.algorithm == found.algorithm && first.statistics.convolutionTimings == 3)
        var random = TestRandom()
        let x = random.floats(2 * 8 * 13 * 11), w = random.floats(6 * 72), b = random.floats(6)
        let reference = ReferenceBackend()
        let expected = try reference.conv2d(
            try reference.tensor(shape: shape.input, values: x), weight: try reference.tensor(shape: shape.weight, values: w),
            bias: try reference.tensor(shape: [6], values: b), descriptor: descriptor)
        let actual = try first.conv2d(
            try first.tensor(shape: shape.input, values: x), weight: try first.tensor(shape: shape.weight, values: w),
            bias: try first.tensor(shape: [6], values: b), descriptor: descriptor)
        try expectClose(actual, expected, "find mode chose \(found.algorithm); seed \(random.seed)")

        // A new backend on the same cache (as a later process would be) reads the winner from the file.
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasPrefix("tuning-") }
        #expect(files.count == 1, "\(files)")
        let second = try OpenCLBackend(device: .automatic, cache: .directory(cache), convolution: options, kernelTier: .specialized)
        let loaded = try second.plan(input: shape.input, weight: shape.weight, bias: nil, descriptor: Conv2DDescriptor(padding: .sameUpper))
        #expect(loaded.algorithm == found.algorithm && loaded.reason.contains("found earlier by timing"), "\(loaded.reason)")
        #expect(second.statistics.convolutionTimings == 0)

        // A corrupt tuning file is ignored: the shape is timed again, nothing crashes.
        try Data("{ not json".utf8).write(to: cache.appendingPathComponent(files[0]))
        let third = try OpenCLBackend(device: .automatic, cache: .directory(cache), convolution: options, kernelTier: .specialized)
        _ = try third.plan(input: shape.input, weight: shape.weight, bias: nil, descriptor: descriptor)
        #expect(third.statistics.convolutionTimings == 3)
    }

    @Test("CONVCL_VECTOR_WIDTH overrides the width the tiles are chosen for; a bad value is an error", .needsOpenCL)
    func vectorWidthOverride() throws {
        let info = try openCLBackend().device
        #expect(try OpenCLBackend.vectorWidth(for: info, environment: [:]) == info.preferredFloatVectorWidth)
        #expect(try OpenCLBackend.vectorWidth(for: info, environment: ["CONVCL_VECTOR_WIDTH": ""]) == info.preferredFloatVectorWidth)
        #expect(try OpenCLBackend.vectorWidth(for: info, environment: ["CONVCL_VECTOR_WIDTH": "16"]) == 16)
        #expect(GEMMTile(vectorWidth: 16) == GEMMTile(m: 12, n: 32, width: 16))
        #expect(GEMMTile(vectorWidth: 8) == GEMMTile(m: 6, n: 16, width: 8))
        #expect(GEMMTile(vectorWidth: 1).width == 4 && GEMMTile(m: 3, n: 8, width: 16).width == 8)
        for bad in ["0", "3", "wide", "-16"] {
            #expect {
                try OpenCLBackend.vectorWidth(for: info, environment: ["CONVCL_VECTOR_WIDTH": bad])
            } throws: { error in
                guard case ConvCLError.invalidArgument(_, "CONVCL_VECTOR_WIDTH", let reason) = error else { return false }
                return reason.contains("\"\(bad)\"")
            }
        }
    }

    @Test("CONVCL_GEMM_CHUNK_BYTES sets im2col-gemm's chunks, and with them its workspace; a bad value is an error", .needsOpenCL)
    func gemmChunkOverride() throws {
        #expect(try OpenCLBackend.gemmChunkBytes(environment: [:]) == 2 << 20)
        #expect(try OpenCLBackend.gemmChunkBytes(environment: ["CONVCL_GEMM_CHUNK_BYTES": "4096"]) == 4096)
        for bad in ["0", "-1", "big"] {
            #expect {
                try OpenCLBackend.gemmChunkBytes(environment: ["CONVCL_GEMM_CHUNK_BYTES": bad])
            } throws: { error in
                guard case ConvCLError.invalidArgument(_, "CONVCL_GEMM_CHUNK_BYTES", let reason) = error else { return false }
                return reason.contains("\"\(bad)\"")
            }
        }
        // stride2_7x7's 147 × 12544 patches (7.4 MB) in chunks: a 2 MiB workspace, with the packed filters.
        let (device, info) = try Devices.find(.automatic)
        let backend = try OpenCLBackend(device: device, info: info, cache: .environment, convolution: .init(), kernelTier: .specialized)
        let wide = try backend.plan(
            input: [1, 3, 224, 224], weight: [64, 3, 7, 7], bias: nil, descriptor: Conv2DDescriptor(stride: [2, 2], padding: .explicit([3, 3, 3, 3])))
        #expect(wide.algorithm == .im2colGEMM && wide.workspaceBytes <= (2 << 20) + 4 * 147 * 72, "\(wide)")
        // mel3x3_c1 (direct unless forced): 9 patches and 32 outputs a column; its output
        // dominates, so one chunk (7 MB).
        let gemm = try OpenCLBackend(device: device, info: info, cache: .environment, convolution: .init(algorithm: .im2colGEMM), kernelTier: .specialized)
        let mel = try gemm.plan(input: [16, 1, 96, 128], weight: [32, 1, 3, 3], bias: nil, descriptor: Conv2DDescriptor(padding: .sameUpper))
        #expect(mel.algorithm == .im2colGEMM && mel.workspaceBytes >= 4 * 9 * 16 * 96 * 128, "\(mel)")
    }
}
