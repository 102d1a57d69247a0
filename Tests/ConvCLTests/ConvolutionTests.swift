import Foundation
import Testing

@testable import ConvCL

@Suite("conv2d")
struct ConvolutionTests {
    @Test("hand-computed: three channels, one filter of three 3×3 kernels, one bias")
    func handComputed() throws {
        // Channel c of the input holds (c + 1) · (row + col); kernel c is all (c + 1) except a
        // centre of 0. Each output is Σ_c (c+1)² · (Σ of the window − its centre) + bias.
        var input: [Float] = []
        for c in 0..<3 { for row in 0..<5 { for col in 0..<5 { input.append(Float((c + 1) * (row + col))) } } }
        var weight: [Float] = []
        for c in 0..<3 { for tap in 0..<9 { weight.append(tap == 4 ? 0 : Float(c + 1)) } }
        var expected: [Float] = []
        for row in 0..<3 {
            for col in 0..<3 {
                // The window sum of (row + col) over 3×3 is 9·(row+1 + col+1); its centre is row+1 + col+1.
                let windowWithoutCentre = Float(8 * (row + 1 + col + 1))
                expected.append((1 + 4 + 9) * windowWithoutCentre + 0.5)
            }
        }
        for backend in try allBackends() {
            let result = try backend.conv2d(
                try backend.tensor(shape: [1, 3, 5, 5], values: input),
                weight: try backend.tensor(shape: [1, 3, 3, 3], values: weight),
                bias: try backend.tensor(shape: [1], values: [0.5]), descriptor: .init())
            #expect(result.shape == [1, 1, 3, 3])
            #expect(try result.values() == expected, "\(backend.name)")
        }
    }

    @Test("convolution flips the kernel; cross-correlation does not")
    func flip() throws {
        // A 1×3 input [1, 2, 3] and kernel [1, 0, -1]: correlation gives 1 − 3 = −2, convolution
        // (kernel reversed to [−1, 0, 1]) gives −1 + 3 = 2.
        for backend in try allBackends() {
            let x = try backend.tensor(shape: [1, 1, 1, 3], values: [1, 2, 3])
            let w = try backend.tensor(shape: [1, 1, 1, 3], values: [1, 0, -1])
            let correlation = try backend.conv2d(x, weight: w, bias: nil, descriptor: .init())
            let convolution = try backend.conv2d(x, weight: w, bias: nil, descriptor: .init(mode: .convolution))
            #expect(try correlation.values() == [-2], "\(backend.name)")
            #expect(try convolution.values() == [2], "\(backend.name)")
        }
    }

    @Test("OpenCL matches the reference on random shapes and parameters", .needsOpenCL)
    func randomAgainstReference() throws {
        let backend = try openCLBackend()
        let reference = ReferenceBackend()
        var random = TestRandom()
        for _ in 0..<40 {
            let groups = [1, 1, 2, 3].randomElement(using: &random)!
            let c = groups * random.int(1...3)
            let k = groups * random.int(1...3)
            let r = random.int(1...4), s = random.int(1...4)
            let stride = [random.int(1...3), random.int(1...3)]
            let dilation = [random.int(1...2), random.int(1...2)]
            let pads = (0..<4).map { _ in random.int(0...2) }
            let h = dilation[0] * (r - 1) + 1 + random.int(0...9)
            let w = dilation[1] * (s - 1) + 1 + random.int(0...9)
            let n = random.int(1...3)
            let activation = [Activation.none, .relu, .leakyReLU(slope: 0.1)].randomElement(using: &random)!
            let mode = [ConvolutionMode.crossCorrelation, .convolution].randomElement(using: &random)!
            let descriptor = Conv2DDescriptor(
                stride: stride, padding: .explicit(pads), dilation: dilation, groups: groups, mode: mode,
                activation: activation)
            let inputShape = [n, c, h, w], weightShape = [k, c / groups, r, s]
            let x = random.floats(inputShape.reduce(1, *))
            let wv = random.floats(weightShape.reduce(1, *))
            let bias = random.int(0...1) == 1 ? random.floats(k) : nil
            let expected = try reference.conv2d(
                try reference.tensor(shape: inputShape, values: x),
                weight: try reference.tensor(shape: weightShape, values: wv),
                bias: try bias.map { try reference.tensor(shape: [k], values: $0) }, descriptor: descriptor)
            let actual = try backend.conv2d(
                try backend.tensor(shape: inputShape, values: x),
                weight: try backend.tensor(shape: weightShape, values: wv),
                bias: try bias.map { try backend.tensor(shape: [k], values: $0) }, descriptor: descriptor)
            try expectClose(actual, expected, "input \(inputShape), weight \(weightShape), \(descriptor), seed \(random.seed)")
        }
    }

    @Test("one or two filters a group over long rows (windows side by side) match the reference", .needsOpenCL)
    func oneFilterLongRows() throws {
        let backend = try OpenCLBackend(device: .automatic, convolution: .init(algorithm: .direct), kernelTier: .specialized)
        let reference = ReferenceBackend()
        var random = TestRandom()
        for _ in 0..<8 {
            // Rows of 256 to 400 outputs at stride 1. One filter a group, or two with a kernel 16
            // columns wide or more: conv2d_direct takes one filter a work-item and four windows of
            // 16 a pass. Two with a narrower kernel: a block of 2 filters, one window a pass.
            let groups = random.int(1...2)
            let c = groups * random.int(1...3), k = groups * random.int(1...2)
            let r = random.int(1...3), s = random.int(1...40)
            let dilation = [random.int(1...2), random.int(1...3)]
            let pads = [random.int(0...1), random.int(0...30), random.int(0...1), random.int(0...30)]
            let outputWidth = random.int(256...400)
            let w = outputWidth + dilation[1] * (s - 1) - pads[1] - pads[3]
            let h = dilation[0] * (r - 1) + random.int(1...3)
            let inputShape = [random.int(1...2), c, h, w], weightShape = [k, c / groups, r, s]
            let descriptor = Conv2DDescriptor(
                padding: .explicit(pads), dilation: dilation, groups: groups,
                mode: [ConvolutionMode.crossCorrelation, .convolution].randomElement(using: &random)!,
                activation: [Activation.none, .relu].randomElement(using: &random)!)
            let x = random.floats(inputShape.reduce(1, *)), wv = random.floats(weightShape.reduce(1, *)), b = random.floats(k)
            let context = "input \(inputShape), weight \(weightShape), \(descriptor), seed \(random.seed)"
            let expected = try reference.conv2d(
                try reference.tensor(shape: inputShape, values: x), weight: try reference.tensor(shape: weightShape, values: wv),
                bias: try reference.tensor(shape: [k], values: b), descriptor: descriptor)
            let actual = try backend.conv2d(
                try backend.tensor(shape: inputShape, values: x), weight: try backend.tensor(shape: weightShape, values: wv),
                bias: try backend.tensor(shape: [k], values: b), descriptor: descriptor)
            #expect(actual.shape[3] == outputWidth, "\(context)")
            try expectClose(actual, expected, context)
        }
    }

    @Test("tensors of another backend are refused", .needsOpenCL)
    func mixedBackends() throws {
        let device = try openCLBackend()
        let other = try OpenCLBackend(device: .index(0), cache: .disabled, kernelTier: .specialized)
        let reference = ReferenceBackend()
        let x = try device.tensor(shape: [1, 1, 3, 3], values: [Float](repeating: 1, count: 9))
        let w = try other.tensor(shape: [1, 1, 1, 1], values: [1])
        #expect(throws: ConvCLError.self) { try device.conv2d(x, weight: w, bias: nil, descriptor: .init()) }
        #expect(throws: ConvCLError.self) {
            try reference.conv2d(x, weight: try reference.tensor(shape: [1, 1, 1, 1], values: [1]), bias: nil, descriptor: .init())
        }
    }

    @Test("data that does not fill the shape is refused")
    func badTensorData() throws {
        for backend in try allBackends() {
            #expect(throws: ConvCLError.invalidArgument(
                operation: "tensor", argument: "values", reason: "5 values given for shape [2, 3], which holds 6")
            ) { try backend.tensor(shape: [2, 3], values: [1, 2, 3, 4, 5]) }
            #expect(throws: ConvCLError.self) { try backend.tensor(shape: [-1, 3], values: [1, 2, 3]) }
        }
    }

    @Test("conv1d: a long kernel finds a period in raw samples; a dense layer is a conv over the whole input")
    func conv1dAndDense() throws {
        for backend in try allBackends() {
            // A kernel of one period of a pulse train answers most where the train is in phase.
            let samples: [Float] = (0..<24).map { $0 % 6 == 2 ? 1 : 0 }
            let kernel: [Float] = [1, 0, 0, 0, 0, 0, 1]
            let correlation = try backend.conv1d(
                try backend.tensor(shape: [1, 1, 24], values: samples),
                weight: try backend.tensor(shape: [1, 1, 7], values: kernel), bias: nil, descriptor: .init())
            #expect(correlation.shape == [1, 1, 18])
            #expect(try correlation.values() == (0..<18).map { $0 % 6 == 2 ? 2 : 0 }, "\(backend.name)")

            // Dense: 2 samples of 3 features → 2 outputs, y = W x + b.
            let x = try backend.tensor(shape: [2, 3, 1, 1], values: [1, 2, 3, 4, 5, 6])
            let w = try backend.tensor(shape: [2, 3, 1, 1], values: [1, 0, -1, 0.5, 0.5, 0.5])
            let b = try backend.tensor(shape: [2], values: [10, 20])
            let dense = try backend.conv2d(x, weight: w, bias: b, descriptor: .init())
            #expect(dense.shape == [2, 2, 1, 1])
            let denseExpected: [Float] = [8, 23, 8, 27.5]  // W·x + b per sample
            #expect(try dense.values() == denseExpected, "\(backend.name)")

            // The same layer on a 2×2 map: the kernel covers the whole input.
            let map = try backend.tensor(shape: [1, 2, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8])
            let whole = try backend.tensor(shape: [3, 2, 2, 2], values: (0..<24).map { Float($0 % 5) })
            let y = try backend.conv2d(map, weight: whole, bias: nil, descriptor: .init())
            #expect(y.shape == [1, 3, 1, 1])
            var expected = [Float](repeating: 0, count: 3)
            for k in 0..<3 {
                for i in 0..<8 { expected[k] += Float(i + 1) * Float((k * 8 + i) % 5) }
            }
            #expect(try y.values() == expected, "\(backend.name)")
        }
    }

    @Test("same padding follows ONNX for odd and even kernels, stride and dilation")
    func samePadding() throws {
        // Input width 7, kernel 4, stride 2: output ceil(7/2) = 4, total pad (4−1)·2 + 4 − 7 = 3.
        let upper = try Conv2DDescriptor(stride: [1, 2], padding: .sameUpper)
            .geometry(input: [1, 1, 1, 7], weight: [1, 1, 1, 4], bias: nil)
        #expect(upper.outputWidth == 4 && upper.padLeft == 1)
        let lower = try Conv2DDescriptor(stride: [1, 2], padding: .sameLower)
            .geometry(input: [1, 1, 1, 7], weight: [1, 1, 1, 4], bias: nil)
        #expect(lower.outputWidth == 4 && lower.padLeft == 2)
        // Dilation 2 with kernel 3 spans 5: stride 1 needs 4 zeros, 2 a side.
        let dilated = try Conv2DDescriptor(padding: .sameUpper, dilation: [2, 2])
            .geometry(input: [1, 1, 6, 6], weight: [1, 1, 3, 3], bias: nil)
        #expect(dilated.outputHeight == 6 && dilated.padTop == 2)
        for backend in try allBackends() {
            let x = try backend.tensor(shape: [1, 1, 1, 5], values: [1, 2, 3, 4, 5])
            let w = try backend.tensor(shape: [1, 1, 1, 2], values: [1, 10])
            // Kernel 2, stride 1: one zero; upper puts it at the end, lower at the start.
            let up = try backend.conv2d(x, weight: w, bias: nil, descriptor: .init(padding: .sameUpper))
            let down = try backend.conv2d(x, weight: w, bias: nil, descriptor: .init(padding: .sameLower))
            #expect(try up.values() == [21, 32, 43, 54, 5], "\(backend.name)")
            #expect(try down.values() == [10, 21, 32, 43, 54], "\(backend.name)")
        }
    }

    @Test("a standalone activation matches the fused one; NaN passes through ReLU")
    func activations() throws {
        for backend in try allBackends() {
            let x = try backend.tensor(shape: [5], values: [-2, -0.5, 0, 3, .nan])
            let relu = try backend.activation(x, .relu).values()
            #expect(Array(relu.prefix(4)) == [0, 0, 0, 3] && relu[4].isNaN, "\(backend.name): \(relu)")
            let leaky = try backend.activation(x, .leakyReLU(slope: 0.25)).values()
            #expect(Array(leaky.prefix(4)) == [-0.5, -0.125, 0, 3] && leaky[4].isNaN, "\(backend.name): \(leaky)")
            #expect(try backend.activation(x, .none).values().prefix(4) == [-2, -0.5, 0, 3])
        }
    }
}
