import Foundation
import ArgumentParser
import ConvCL

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Runs every operator on random data on the device and on the CPU reference, one line each with the error.",
        discussion: "Exits with status 2 if any result differs beyond its tolerance (relative L2 1e-5; sums and means: each output within 1e-5 of the sum of |x|; max pooling exactly)."
    )

    @OptionGroup var device: DeviceOption
    @Option(help: "The random seed. Default: a fresh one, printed.")
    var seed: UInt64?

    func run() throws {
        let backend = try device.backend()
        let reference = ReferenceBackend()
        let seed = self.seed ?? UInt64.random(in: 0...UInt64.max)
        var random = SeededGenerator(seed: seed)
        print("device: \(backend.name); reference: \(reference.name); seed \(seed)")

        // Odd sizes, so no dimension is a multiple of a tile: 7 and 21 filters leave a tail of the
        // GEMM's filter panels and of the direct kernel's blocks of 4, 8 or 16 filters, and no
        // count of output positions is a multiple of 16.
        let image = ([3, 5, 23, 29], random.floats(3 * 5 * 23 * 29))
        let pixel = ([2, 5, 1, 1], random.floats(2 * 5))
        let audio = ([2, 3, 301], random.floats(2 * 3 * 301))
        // Rows of several 16-output vectors for pooling, the last one shifted.
        let wide = ([2, 3, 9, 71], random.floats(2 * 3 * 9 * 71))
        let weights2D = ([7, 5, 3, 3], random.floats(7 * 5 * 9))
        let pointwise = ([21, 5, 1, 1], random.floats(21 * 5))
        let weights1D = ([4, 3, 33], random.floats(4 * 3 * 33))
        let weightsPhased = ([7, 5, 4, 5], random.floats(7 * 5 * 4 * 5))
        let bias7 = ([7], random.floats(7))
        let bias21 = ([21], random.floats(21))
        let bias4 = ([4], random.floats(4))
        let depthwise = ([10, 1, 3, 3], random.floats(10 * 9))
        let depthwiseWide = ([3, 1, 3, 3], random.floats(3 * 9))
        // Rows long enough for conv2d_direct's one-filter work-items of four 16-output windows.
        let audioLong = ([2, 4, 333], random.floats(2 * 4 * 333))
        let weightsLong = ([2, 2, 17], random.floats(2 * 2 * 17))
        let bias2 = ([2], random.floats(2))

        typealias Check = (name: String, inputs: [([Int], [Float])], exact: Bool, run: (any Backend, [Tensor]) throws -> [Float])
        let convolutions: [Check] = [
            ("conv2d", [image, weights2D, bias7], false, { b, t in
                try b.conv2d(t[0], weight: t[1], bias: t[2], descriptor: .init(
                    stride: [2, 1], padding: .explicit([1, 0, 2, 1]), dilation: [1, 2], activation: .relu)).values()
            }),
            ("conv2d 3x3", [image, weights2D, bias7], false, { b, t in
                try b.conv2d(t[0], weight: t[1], bias: t[2], descriptor: .init(
                    padding: .explicit([1, 0, 2, 1]), activation: .leakyReLU(slope: 0.1))).values()
            }),
            // Wide padding: the GEMM's patches and the direct kernel's rows reach past one
            // 16-column chunk (padding 18 on the left).
            ("conv2d 3x3 pad 18", [image, weights2D, bias7], false, { b, t in
                try b.conv2d(t[0], weight: t[1], bias: t[2], descriptor: .init(padding: .explicit([17, 18, 0, 2]))).values()
            }),
            // Tall padding: Winograd's work-items take 4 tile rows, with its widest left pad.
            ("conv2d 3x3 pad 2", [image, weights2D, bias7], false, { b, t in
                try b.conv2d(t[0], weight: t[1], bias: t[2], descriptor: .init(padding: .explicit([17, 2, 0, 2]))).values()
            }),
            ("conv2d depthwise", [image, depthwise], false, { b, t in
                try b.conv2d(t[0], weight: t[1], bias: nil, descriptor: .init(padding: .sameUpper, groups: 5)).values()
            }),
            // 71 outputs a row: work-items of four 16-output segments, the second one partly past the row.
            ("conv2d depthwise wide", [wide, depthwiseWide], false, { b, t in
                try b.conv2d(t[0], weight: t[1], bias: nil, descriptor: .init(padding: .sameUpper, groups: 3, activation: .relu)).values()
            }),
            // Strided on both axes over the stride's phases (2 × 3 of them), the input cut off
            // below and to the right where no window reaches.
            ("conv2d phases", [image, weightsPhased, bias7], false, { b, t in
                try b.conv2d(t[0], weight: t[1], bias: t[2], descriptor: .init(stride: [2, 3], padding: .explicit([1, 2, 0, 0]))).values()
            }),
            ("conv2d 1x1 kernel", [image, pointwise, bias21], false, { b, t in
                try b.conv2d(t[0], weight: t[1], bias: t[2], descriptor: .init(activation: .leakyReLU(slope: 0.1))).values()
            }),
            ("conv2d 1x1 input", [pixel, weights2D, bias7], false, { b, t in
                try b.conv2d(t[0], weight: t[1], bias: t[2], descriptor: .init(padding: .sameLower, mode: .convolution)).values()
            }),
            ("conv1d", [audio, weights1D, bias4], false, { b, t in
                try b.conv1d(t[0], weight: t[1], bias: t[2], descriptor: .init(stride: 4, padding: .sameLower)).values()
            }),
            // One filter per group over rows of 331 outputs: passes of four windows, the first
            // and the last (shifted back) reading the padding, a dilated and flipped kernel.
            ("conv1d one filter, long rows", [audioLong, weightsLong, bias2], false, { b, t in
                try b.conv1d(t[0], weight: t[1], bias: t[2], descriptor: .init(
                    padding: .explicit([21, 9]), dilation: 2, groups: 2, mode: .convolution, activation: .relu)).values()
            }),
        ]
        // Winograd computes only 3×3 convolutions with stride 1, dilation 1, one group and left pads up to 2.
        let winogradShapes: Set = ["conv2d 3x3", "conv2d 3x3 pad 2", "conv2d 1x1 input"]
        // On OpenCL every convolution runs once per algorithm that computes it, each forced on the
        // same device, each on a backend of its own that lives until the end. So no device buffer
        // is released during the run: a workspace that grows from one check to the next would
        // release the smaller one, and oclgrind 21.10's uninitialized-value checker keeps a
        // released buffer's record for the next buffer that takes its slot, which makes it report
        // the new buffer's reads past the old size (ci/kernel-check.sh).
        var runs: [(name: String, check: Check, device: any Backend)] = []
        if let device = backend as? OpenCLBackend {
            for algorithm in ConvolutionAlgorithm.allCases {
                for check in convolutions where algorithm != .winograd || winogradShapes.contains(check.name) {
                    let forced = try OpenCLBackend(
                        device: .index(device.device.index), convolution: .init(algorithm: algorithm), kernelTier: .specialized)
                    runs.append(("\(check.name) [\(algorithm.rawValue)]", check, forced))
                }
            }
        } else {
            runs = convolutions.map { ($0.name, $0, backend) }
        }
        var checks: [Check] = [
            ("maxpool2d", [image], true, { b, t in
                let (values, indices) = try b.maxPoolWithIndices(t[0], descriptor: .init(kernel: [3, 3], stride: [2, 2], padding: .explicit([1, 1, 1, 1]), ceilMode: true))
                return try values.values() + indices.int64Values().map(Float.init)
            }),
            ("maxpool1d", [audio], true, { b, t in
                try b.maxPool(t[0], descriptor: .init(kernel: [4], dilation: [2])).values()
            }),
            ("avgpool2d", [image], false, { b, t in
                try b.averagePool(t[0], descriptor: .init(kernel: [2, 3], padding: .explicit([1, 1, 0, 1]), ceilMode: true, countIncludePad: true)).values()
            }),
            ("maxpool2d 2x2 wide", [wide], true, { b, t in
                let (values, indices) = try b.maxPoolWithIndices(t[0], descriptor: .init(kernel: [2, 2]))
                return try values.values() + indices.int64Values().map(Float.init)
            }),
            ("avgpool2d 3x3/1 wide", [wide], false, { b, t in
                try b.averagePool(t[0], descriptor: .init(kernel: [3, 3], stride: [1, 1], padding: .sameUpper)).values()
            }),
            ("avgpool1d", [audio], false, { b, t in try b.averagePool(t[0], descriptor: .init(kernel: [5], stride: [3])).values() }),
            ("global-avgpool", [image], false, { b, t in try b.globalAveragePool(t[0]).values() }),
            ("global-maxpool", [audio], true, { b, t in try b.globalMaxPool(t[0]).values() }),
            ("activation leaky-relu", [image], false, { b, t in try b.activation(t[0], .leakyReLU(slope: 0.1)).values() }),
        ]
        var cancelling: Set<String> = []
        for operation in ReductionOperation.allCases {
            let positive = operation == .logSum
            let input = positive ? (image.0, image.1.map { abs($0) + 0.01 }) : image
            // Axes 0 and -1 take the general path; the contiguous last axis, the vectorized one;
            // all axes, 10,005 values into one output, the two stages (partials, then final).
            for axes in [[0, -1], [-1], [0, 1, 2, 3]] {
                if operation == .sum || operation == .mean { cancelling.insert("reduce \(operation.rawValue) \(axes)") }
                checks.append(("reduce \(operation.rawValue) \(axes)", [input], operation == .max || operation == .min, { b, t in
                    try b.reduce(t[0], descriptor: .init(operation, axes: axes, keepDims: false)).values()
                }))
            }
        }

        if let device = backend as? OpenCLBackend {
            // Each check on the specialised kernels and, on a backend of its own, on the generic
            // first-call ones (convolutions: the algorithms above are the specialised ones).
            let specialized = try OpenCLBackend(device: .index(device.device.index), kernelTier: .specialized)
            let generic = try OpenCLBackend(device: .index(device.device.index), kernelTier: .generic)
            runs += checks.map { ($0.name, $0, specialized) }
            runs += (convolutions + checks).map { ("\($0.name) [generic]", $0, generic) }
        } else {
            runs += checks.map { ($0.name, $0, backend) }
        }
        var failures: [String] = []
        for (name, check, device) in runs {
            let actual = try check.run(device, try check.inputs.map { try device.tensor(shape: $0.0, values: $0.1) })
            let expected = try check.run(reference, try check.inputs.map { try reference.tensor(shape: $0.0, values: $0.1) })
            let discrepancy = Discrepancy(actual: actual, expected: expected)
            var ok = check.exact ? discrepancy.maxAbsolute == 0 : discrepancy.relativeL2 <= 1e-5
            var measure = "relative L2 \(format(discrepancy.relativeL2))"
            if cancelling.contains(check.name) {
                // A sum of values of both signs can cancel to near zero, where float32's rounding
                // is most of the result: each output's error is measured against the same
                // reduction of |x|, the sum's condition.
                let scale = try check.run(reference, try check.inputs.map { try reference.tensor(shape: $0.0, values: $0.1.map(abs)) })
                let worst = Discrepancy.largestScaledError(actual: actual, expected: expected, scale: scale)
                ok = worst <= 1e-5
                measure = "of sum |x| \(format(worst))"
            }
            if !ok { failures.append(name) }
            print("\(name.padding(toLength: 44, withPad: " ", startingAt: 0)) max |error| \(format(discrepancy.maxAbsolute))  \(measure)  \(ok ? "OK" : "MISMATCH")")
        }
        // The operators of the registry (elementwise table, data movement), on random cases each.
        // On OpenCL the specialised kernels: on the automatic tier a small MatMul would build them
        // in the background, and oclgrind 21.10 crashes when a program builds on one thread while
        // a kernel runs on another (the generic tier is checked above). On oclgrind, each case on
        // a backend of its own kept to the end, for the reason given for the convolutions above
        // (a MatMul's GEMM workspace, grown by the next case, is what it reported); elsewhere one
        // backend, which loads each program once.
        var caseBackends: [any Backend] = []
        let registryChecks = try OperatorChecks.run(reference: reference, seed: seed) {
            guard let device = backend as? OpenCLBackend else { return backend }
            if caseBackends.isEmpty || device.device.platformName.lowercased().contains("oclgrind") {
                caseBackends.append(try OpenCLBackend(device: .index(device.device.index), kernelTier: .specialized))
            }
            return caseBackends[caseBackends.count - 1]
        }
        for check in registryChecks {
            if !check.passed { failures.append(check.label) }
            print("\(check.label.padding(toLength: max(44, check.label.count + 1), withPad: " ", startingAt: 0)) scaled error \(format(check.error))  \(check.passed ? "OK" : "MISMATCH")")
        }
        if !failures.isEmpty {
            throw RuntimeFailure("\(failures.count) operator(s) differ from the reference: \(failures.joined(separator: ", ")) (seed \(seed))")
        }
    }

    func format(_ value: Double) -> String {
        value == 0 ? "0" : String(format: "%.2e", value)
    }
}
