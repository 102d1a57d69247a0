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
        for backend in try backends() {
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
        for backend in try backends() {
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

    @Test("tensors of another backend are refused", .needsOpenCL)
    func mixedBackends() throws {
        let device = try openCLBackend()
        let other = try OpenCLBackend(device: .index(0), cache: .disabled)
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
        for backend in try backends() {
            #expect(throws: ConvCLError.invalidArgument(
                operation: "tensor", argument: "values", reason: "5 values given for shape [2, 3], which holds 6")
            ) { try backend.tensor(shape: [2, 3], values: [1, 2, 3, 4, 5]) }
            #expect(throws: ConvCLError.self) { try backend.tensor(shape: [-1, 3], values: [1, 2, 3]) }
        }
    }

    /// The reference, and the OpenCL backend when there is a device (in CI there must be).
    func backends() throws -> [any Backend] {
        var list: [any Backend] = [ReferenceBackend()]
        if !TestEnvironment.openCLDevices.isEmpty || TestEnvironment.isCI { list.append(try openCLBackend()) }
        return list
    }
}
