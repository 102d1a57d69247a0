import Foundation
import Testing

@testable import ConvCL

/// A convolution case for the gradient checks, with its forward written out here in Double
/// (PyTorch's definition, independent of ConvCL's code), so that central differences of
/// Σ gradOutput · forward give the true gradients.
private struct ConvCase: CustomStringConvertible {
    var input: [Int], weight: [Int]
    var stride: [Int], pads: [Int], dilation: [Int], groups: Int
    var flipped = false
    var slope: Float? = nil  // nil: no activation; 0: ReLU; else a leaky ReLU

    var descriptor: Conv2DDescriptor {
        Conv2DDescriptor(
            stride: stride, padding: .explicit(pads), dilation: dilation, groups: groups,
            mode: flipped ? .convolution : .crossCorrelation,
            activation: slope.map { $0 == 0 ? .relu : .leakyReLU(slope: $0) } ?? .none)
    }
    var outputShape: [Int] { try! descriptor.geometry(input: input, weight: weight, bias: [weight[0]]).outputShape }
    var description: String {
        "input \(input) weight \(weight) stride \(stride) pads \(pads) dilation \(dilation) groups \(groups) flipped \(flipped) slope \(String(describing: slope))"
    }

    func forward(_ x: [Double], _ w: [Double], _ b: [Double]) -> [Double] {
        let (n, c, h, wd) = (input[0], input[1], input[2], input[3])
        let (k, cg, r, s) = (weight[0], weight[1], weight[2], weight[3])
        let o = outputShape
        var y = [Double](repeating: 0, count: o.reduce(1, *))
        for b0 in 0..<n {
            for f in 0..<k {
                for oh in 0..<o[2] {
                    for ow in 0..<o[3] {
                        var sum = b[f]
                        for ci in 0..<cg {
                            let channel = f / (k / groups) * cg + ci
                            for i in 0..<r {
                                for j in 0..<s {
                                    let ih = oh * stride[0] - pads[0] + i * dilation[0], iw = ow * stride[1] - pads[1] + j * dilation[1]
                                    guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
                                    let (wi, wj) = flipped ? (r - 1 - i, s - 1 - j) : (i, j)
                                    sum += x[((b0 * c + channel) * h + ih) * wd + iw] * w[((f * cg + ci) * r + wi) * s + wj]
                                }
                            }
                        }
                        if let slope, sum <= 0 { sum = Double(slope) * sum }
                        y[((b0 * k + f) * o[2] + oh) * o[3] + ow] = sum
                    }
                }
            }
        }
        return y
    }
}

/// Central differences of `loss` at `point`, one coordinate at a time (Double, step 1e-6).
private func numericalGradient(_ point: [Double], _ loss: ([Double]) -> Double) -> [Double] {
    (0..<point.count).map { index in
        var plus = point, minus = point
        plus[index] += 1e-6
        minus[index] -= 1e-6
        return (loss(plus) - loss(minus)) / 2e-6
    }
}

/// The largest |a − e| / max(|e|, 1).
private func worstError(_ actual: [Float], _ expected: [Double]) -> Double {
    guard actual.count == expected.count else { return .infinity }
    return zip(actual, expected).map { abs(Double($0) - $1) / max(abs($1), 1) }.max() ?? 0
}

@Suite("Gradients")
struct GradientTests {
    /// Asymmetric on purpose: unequal strides, dilations and pads per axis, non-square inputs,
    /// groups with stride > 1, depthwise, true convolution, fused activations.
    private static func convCases(_ random: inout TestRandom) -> [ConvCase] {
        func size(_ range: ClosedRange<Int>) -> Int { random.int(range) }
        return [
            ConvCase(input: [2, 3, 7, 6], weight: [4, 3, 3, 2], stride: [2, 1], pads: [1, 0, 2, 1], dilation: [1, 2], groups: 1),
            ConvCase(input: [1, 4, 8, 5], weight: [6, 2, 2, 3], stride: [2, 3], pads: [0, 2, 1, 0], dilation: [2, 1], groups: 2),
            ConvCase(input: [2, 3, 5, 9], weight: [3, 1, 3, 3], stride: [1, 2], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 3, slope: 0),
            ConvCase(
                input: [1, 2, size(4...7), size(4...7)], weight: [3, 2, 2, 3], stride: [1, 1], pads: [0, 1, 1, 2], dilation: [1, 1],
                groups: 1, flipped: true, slope: 0.1),
            ConvCase(input: [2, 2, 1, 11], weight: [2, 2, 1, 5], stride: [1, 3], pads: [0, 2, 0, 3], dilation: [1, 2], groups: 1),
        ]
    }

    @Test("conv2d's reference gradients equal central differences in Double (asymmetric strides, pads, dilations, groups, flips, activations)")
    func convolutionAgainstDifferences() throws {
        var random = TestRandom()
        let reference = ReferenceBackend()
        for item in Self.convCases(&random) {
            let x = random.floats(item.input.reduce(1, *)), w = random.floats(item.weight.reduce(1, *))
            let b = random.floats(item.weight[0]), dy = random.floats(item.outputShape.reduce(1, *))
            let (xd, wd, bd, dyd) = (x.map(Double.init), w.map(Double.init), b.map(Double.init), dy.map(Double.init))
            func loss(_ y: [Double]) -> Double { zip(y, dyd).reduce(0) { $0 + $1.0 * $1.1 } }
            let output = try reference.conv2d(
                try reference.tensor(shape: item.input, values: x), weight: try reference.tensor(shape: item.weight, values: w),
                bias: try reference.tensor(shape: [item.weight[0]], values: b), descriptor: item.descriptor)
            let gradients = try reference.conv2dBackward(
                gradOutput: try reference.tensor(shape: item.outputShape, values: dy), input: try reference.tensor(shape: item.input, values: x),
                weight: try reference.tensor(shape: item.weight, values: w), output: output, descriptor: item.descriptor)
            let expected = [
                numericalGradient(xd) { loss(item.forward($0, wd, bd)) }, numericalGradient(wd) { loss(item.forward(xd, $0, bd)) },
                numericalGradient(bd) { loss(item.forward(xd, wd, $0)) },
            ]
            let actual = [gradients.input, gradients.weight, gradients.bias]
            for (name, (tensor, numbers)) in zip(["input", "weight", "bias"], zip(actual, expected)) {
                let error = worstError(try tensor!.values(), numbers)
                #expect(error < 1e-5, "\(name) gradient error \(error); \(item); seed \(random.seed)")
            }
        }
    }

    @Test("conv2d and conv1d gradients on OpenCL match the reference, are bit-identical run after run, and only those asked for are made")
    func convolutionOnDevice() throws {
        var random = TestRandom()
        let reference = ReferenceBackend()
        let device = try openCLBackend()
        var cases = Self.convCases(&random)
        // Larger ones, past the kernels' 64-wide groups.
        cases.append(ConvCase(input: [2, 8, 19, 23], weight: [12, 4, 3, 3], stride: [2, 2], pads: [1, 1, 0, 1], dilation: [1, 1], groups: 2, slope: 0))
        cases.append(ConvCase(input: [1, 6, 17, 13], weight: [6, 1, 5, 3], stride: [1, 2], pads: [2, 1, 2, 1], dilation: [2, 1], groups: 6))
        // 16 filters a group or more: the weight gradient's GEMM, its reduction in chunks.
        cases.append(ConvCase(input: [3, 6, 21, 27], weight: [32, 3, 3, 2], stride: [1, 2], pads: [1, 0, 2, 1], dilation: [2, 1], groups: 2))
        cases.append(ConvCase(input: [2, 9, 23, 9], weight: [17, 9, 4, 3], stride: [2, 1], pads: [0, 2, 1, 0], dilation: [1, 2], groups: 1, flipped: true, slope: 0))
        // Few channels a group at width stride 1: summed along rows, 11 taps in two blocks of 8,
        // the rows in parts (depthwise, flipped); one input channel and 18 filters.
        cases.append(ConvCase(input: [2, 5, 9, 40], weight: [5, 1, 2, 11], stride: [2, 1], pads: [1, 5, 0, 4], dilation: [1, 2], groups: 5, flipped: true))
        cases.append(ConvCase(input: [3, 1, 20, 37], weight: [18, 1, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 1, slope: 0.2))
        // 3×3, stride 1, 16 channels and filters or more: the weight gradient through Winograd's
        // transforms, over partial tiles (13 × 22 and 9 × 37 outputs are no multiples of 4).
        cases.append(ConvCase(input: [2, 17, 13, 22], weight: [19, 17, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 1))
        cases.append(ConvCase(input: [1, 16, 9, 37], weight: [16, 16, 3, 3], stride: [1, 1], pads: [2, 0, 0, 2], dilation: [1, 1], groups: 1, flipped: true, slope: 0))
        for item in cases {
            let values = [item.input, item.weight, item.outputShape].map { random.floats($0.reduce(1, *)) }
            func gradients(_ backend: any Backend, _ computing: GradientSelection = .all) throws -> ConvolutionGradients {
                let (x, w) = (try backend.tensor(shape: item.input, values: values[0]), try backend.tensor(shape: item.weight, values: values[1]))
                return try backend.conv2dBackward(
                    gradOutput: try backend.tensor(shape: item.outputShape, values: values[2]), input: x, weight: w,
                    output: try backend.conv2d(x, weight: w, bias: nil, descriptor: item.descriptor), descriptor: item.descriptor,
                    computing: computing)
            }
            let (expected, first, second) = (try gradients(reference), try gradients(device), try gradients(device))
            for (name, path) in [("input", \ConvolutionGradients.input), ("weight", \.weight), ("bias", \.bias)] {
                try expectClose(first[keyPath: path]!, expected[keyPath: path]!, tolerance: 1e-5, "\(name); \(item); seed \(random.seed)")
                #expect(try first[keyPath: path]!.values() == second[keyPath: path]!.values(), "\(name) differs between runs; \(item)")
            }
            let weightOnly = try gradients(device, .weight)
            #expect(weightOnly.input == nil && weightOnly.bias == nil && weightOnly.weight != nil)
        }
        // 1-D: a long kernel over raw audio, stride and asymmetric pads.
        let descriptor = Conv1DDescriptor(stride: 3, padding: .explicit([4, 1]), dilation: 2, groups: 1, activation: .relu)
        let (input, weight) = ([2, 3, 157], [5, 3, 31])
        let outputLength = (157 + 5 - 2 * 30 - 1) / 3 + 1
        let values = [input, weight, [2, 5, outputLength]].map { random.floats($0.reduce(1, *)) }
        func gradients1D(_ backend: any Backend) throws -> ConvolutionGradients {
            let (x, w) = (try backend.tensor(shape: input, values: values[0]), try backend.tensor(shape: weight, values: values[1]))
            return try backend.conv1dBackward(
                gradOutput: try backend.tensor(shape: [2, 5, outputLength], values: values[2]), input: x, weight: w,
                output: try backend.conv1d(x, weight: w, bias: nil, descriptor: descriptor), descriptor: descriptor)
        }
        let (expected, actual) = (try gradients1D(reference), try gradients1D(device))
        #expect(actual.input?.shape == input && actual.weight?.shape == weight && actual.bias?.shape == [5])
        try expectClose(actual.input!, expected.input!, "conv1d input; seed \(random.seed)")
        try expectClose(actual.weight!, expected.weight!, "conv1d weight; seed \(random.seed)")
        try expectClose(actual.bias!, expected.bias!, "conv1d bias; seed \(random.seed)")
    }

    @Test("pooling's reference gradients equal central differences in Double: max through the argmax, average with its divisor (pads, ceil mode, count_include_pad, dilation, 1-D)")
    func poolingAgainstDifferences() throws {
        var random = TestRandom()
        let reference = ReferenceBackend()
        let cases: [(PoolingMode, [Int], PoolDescriptor)] = [
            (.max, [2, 2, 7, 8], PoolDescriptor(kernel: [3, 2], stride: [2, 1], padding: .explicit([1, 0, 1, 1]))),
            (.max, [1, 3, 9, 6], PoolDescriptor(kernel: [2, 3], stride: [2, 2], padding: .explicit([0, 1, 1, 0]), dilation: [2, 1], ceilMode: true)),
            (.average, [2, 2, 7, 8], PoolDescriptor(kernel: [3, 2], stride: [2, 1], padding: .explicit([1, 0, 2, 1]), ceilMode: true)),
            (.average, [1, 3, 9, 6], PoolDescriptor(kernel: [3, 3], stride: [2, 2], padding: .explicit([1, 2, 1, 0]), ceilMode: true, countIncludePad: true)),
            (.average, [2, 1, 13], PoolDescriptor(kernel: [4], stride: [3], padding: .explicit([2, 1]), dilation: [2], countIncludePad: true)),
            (.max, [2, 1, 13], PoolDescriptor(kernel: [4], stride: [3], padding: .explicit([2, 1]), ceilMode: true)),
        ]
        for (mode, shape, descriptor) in cases {
            let g = try descriptor.geometry(input: shape, operation: "test")
            let x = random.floats(shape.reduce(1, *)).map(Double.init), dy = random.floats(g.outputShape.reduce(1, *))
            // The forward in Double, as PyTorch defines it.
            func forward(_ x: [Double]) -> [Double] {
                var y: [Double] = []
                for p in 0..<g.planes {
                    for oh in 0..<g.outputHeight {
                        for ow in 0..<g.outputWidth {
                            var taps: [Double] = []
                            var padded = 0
                            for r in 0..<g.kernelHeight {
                                for s in 0..<g.kernelWidth {
                                    let ih = oh * g.strideHeight - g.padTop + r * g.dilationHeight
                                    let iw = ow * g.strideWidth - g.padLeft + s * g.dilationWidth
                                    if ih >= -g.padTop, ih < g.inputHeight + g.padBottom, iw >= -g.padLeft, iw < g.inputWidth + g.padRight { padded += 1 }
                                    if ih >= 0, ih < g.inputHeight, iw >= 0, iw < g.inputWidth {
                                        taps.append(x[(p * g.inputHeight + ih) * g.inputWidth + iw])
                                    }
                                }
                            }
                            y.append(mode == .max ? taps.max()! : taps.reduce(0, +) / Double(g.countIncludePad ? padded : taps.count))
                        }
                    }
                }
                return y
            }
            let expected = numericalGradient(x) { zip(forward($0), dy).reduce(0) { $0 + $1.0 * Double($1.1) } }
            let input = try reference.tensor(shape: shape, values: x.map { Float($0) })
            let gradOutput = try reference.tensor(shape: g.outputShape, values: dy)
            let actual: Tensor
            if mode == .max {
                let indices = try reference.maxPoolWithIndices(input, descriptor: descriptor).indices
                actual = try reference.maxPoolBackward(gradOutput: gradOutput, indices: indices, inputShape: shape, descriptor: descriptor)
            } else {
                actual = try reference.averagePoolBackward(gradOutput: gradOutput, inputShape: shape, descriptor: descriptor)
            }
            let error = worstError(try actual.values(), expected)
            #expect(error < 1e-5, "\(mode) \(shape) \(descriptor): error \(error); seed \(random.seed)")
        }
    }

    @Test("pooling gradients on OpenCL match the reference; overlapping windows add up; bad operands are refused")
    func poolingOnDevice() throws {
        var random = TestRandom()
        let reference = ReferenceBackend()
        let device = try openCLBackend()
        let descriptor = PoolDescriptor(kernel: [3, 3], stride: [1, 2], padding: .explicit([1, 1, 2, 0]), ceilMode: true)
        let shape = [2, 3, 23, 19]
        let g = try descriptor.geometry(input: shape, operation: "test")
        let x = random.floats(shape.reduce(1, *)), dy = random.floats(g.outputShape.reduce(1, *))
        for mode in [PoolingMode.max, .average] {
            func gradient(_ backend: any Backend) throws -> Tensor {
                let input = try backend.tensor(shape: shape, values: x)
                let gradOutput = try backend.tensor(shape: g.outputShape, values: dy)
                if mode == .average { return try backend.averagePoolBackward(gradOutput: gradOutput, inputShape: shape, descriptor: descriptor) }
                let indices = try backend.maxPoolWithIndices(input, descriptor: descriptor).indices
                return try backend.maxPoolBackward(gradOutput: gradOutput, indices: indices, inputShape: shape, descriptor: descriptor)
            }
            let expected = try gradient(reference)
            try expectClose(try gradient(device), expected, "\(mode); seed \(random.seed)")
            // Stride 1 vertically: windows overlap, and the gradient's total is the output's.
            let total = try expected.values().reduce(0.0) { $0 + Double($1) }
            if mode == .max { #expect(abs(total - dy.reduce(0.0) { $0 + Double($1) }) < 1e-3, "seed \(random.seed)") }
        }
        #expect(throws: ConvCLError.self) {
            _ = try device.averagePoolBackward(gradOutput: try device.tensor(shape: [2, 3, 5, 5], values: random.floats(150)), inputShape: shape, descriptor: descriptor)
        }
        #expect(throws: ConvCLError.self) {
            let gradOutput = try device.tensor(shape: g.outputShape, values: dy)
            _ = try device.maxPoolBackward(gradOutput: gradOutput, indices: gradOutput, inputShape: shape, descriptor: descriptor)
        }
    }

    @Test("conv2dBackward refuses a gradient of the wrong shape, an activation without its output, and a negative leaky slope")
    func convolutionRefusals() throws {
        var random = TestRandom()
        for backend in try allBackends() {
            let x = try backend.tensor(shape: [1, 2, 5, 5], values: random.floats(50))
            let w = try backend.tensor(shape: [3, 2, 3, 3], values: random.floats(54))
            let dy = try backend.tensor(shape: [1, 3, 3, 3], values: random.floats(27))
            let wrong = try backend.tensor(shape: [1, 3, 3, 4], values: random.floats(36))
            #expect(throws: ConvCLError.self) { try backend.conv2dBackward(gradOutput: wrong, input: x, weight: w, descriptor: .init()) }
            #expect(throws: ConvCLError.self) {
                try backend.conv2dBackward(gradOutput: dy, input: x, weight: w, descriptor: .init(activation: .relu))
            }
            #expect(throws: ConvCLError.self) {
                try backend.conv2dBackward(gradOutput: dy, input: x, weight: w, output: dy, descriptor: .init(activation: .leakyReLU(slope: -0.5)))
            }
        }
    }
}

/// The elementwise table's gradients, row by row, against central differences of the row's own
/// Double reference, with broadcast operands (whose gradients sum over the broadcast axes).
@Suite("Elementwise gradients")
struct ElementwiseGradientTests {
    /// Operands for `operation`: values away from its kinks and poles (positive for Log, Sqrt,
    /// Pow's base; away from 0 where the gradient jumps), bool conditions for Where.
    static func operands(_ operation: ElementwiseOperation, _ shapes: [[Int]], _ random: inout TestRandom) -> [TensorData] {
        shapes.enumerated().map { index, shape in
            let count = shape.reduce(1, *)
            if operation.name == "Where" && index == 0 { return .bool((0..<count).map { _ in Bool.random(using: &random) }) }
            let positive = ["Log", "Sqrt", "Pow", "Reciprocal"].contains(operation.name) && index == 0
                || operation.name == "DivSqrt" && index == 1
            return .float32((0..<count).map { _ in
                let magnitude = Float.random(in: 0.3...2, using: &random)
                return positive || Bool.random(using: &random) ? magnitude : -magnitude
            })
        }
    }

    /// Row-major strides of `shape` broadcast to `output` (0 along broadcast axes).
    static func offsets(_ shape: [Int], _ output: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: output.count - shape.count) + shape
        var strides = [Int](repeating: 0, count: output.count), step = 1
        for axis in (0..<output.count).reversed() {
            strides[axis] = padded[axis] == 1 ? 0 : step
            step *= padded[axis]
        }
        return (0..<output.reduce(1, *)).map { flat in
            var rest = flat, offset = 0
            for axis in (0..<output.count).reversed() {
                offset += rest % output[axis] * strides[axis]
                rest /= output[axis]
            }
            return offset
        }
    }

    @Test("every differentiable row of the table: the reference's gradients equal central differences in Double; OpenCL's equal the reference's")
    func everyRow() throws {
        var random = TestRandom()
        let backends = try allBackends()
        var checked: [String] = []
        for operation in ElementwiseOperation.all where ElementwiseGradients.rule(operation) != nil {
            if case .cast(let target) = operation.row.types, target != .float32 { continue }
            let output = [3, 1, 5].map { $0 == 1 ? 4 : $0 }
            let shapes: [[Int]] = (0..<operation.arity).map { [[3, 4, 5], [4, 1], [5], []][($0 + random.int(0...3)) % 4] }
            let fullShapes = shapes.enumerated().map { $0 == 0 ? output : $1 }  // one operand of the output's shape
            let data = Self.operands(operation, fullShapes, &random)
            let dy = random.floats(output.reduce(1, *)).map(Double.init)
            let maps = fullShapes.map { Self.offsets($0, output) }
            func loss(_ values: [[Double]]) -> Double {
                (0..<dy.count).reduce(0.0) { sum, index in
                    sum + dy[index] * operation.row.reference(maps.indices.map { values[$0][maps[$0][index]] }, operation.parameters.map(Double.init))
                }
            }
            let values = data.map(\.doubles)
            var results: [[Tensor]] = []
            for backend in backends {
                let tape = Tape(backend: backend)
                // Fmod's divisor has no gradient (as in PyTorch): a constant.
                let variables = try zip(fullShapes, data).enumerated().map { index, operand in
                    let tensor = try backend.tensor(shape: operand.0, data: operand.1)
                    let differentiable = tensor.dataType == .float32 && !(operation.name == "Fmod" && index == 1)
                    return differentiable ? tape.parameter(tensor) : tape.constant(tensor)
                }
                let y = try tape.elementwise(operation, operands: variables)
                let weighted = try tape.elementwise(.mul, y, tape.constant(try backend.tensor(shape: output, values: dy.map(Float.init))))
                let total = try tape.sum(weighted)
                let float = variables.filter(\.requiresGradient)
                results.append(try tape.gradients(of: total, withRespectTo: float))
            }
            let differentiable = data.indices.filter { data[$0].dataType == .float32 && !(operation.name == "Fmod" && $0 == 1) }
            for (position, operand) in differentiable.enumerated() {
                let expected = (0..<values[operand].count).map { element -> Double in
                    var plus = values, minus = values
                    let step = 1e-6 * max(1, abs(values[operand][element]))
                    plus[operand][element] += step
                    minus[operand][element] -= step
                    return (loss(plus) - loss(minus)) / (2 * step)
                }
                let actual = try results[0][position].values()
                let worst = zip(actual, expected).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
                #expect(worst < 1e-4, "\(operation) operand \(operand) \(fullShapes): error \(worst); seed \(random.seed)")
                for other in results.dropFirst() {
                    try expectClose(other[position], results[0][position], tolerance: 1e-5, "\(operation) operand \(operand) on OpenCL; seed \(random.seed)")
                }
            }
            checked.append(operation.name)
        }
        // Every float row has a rule except those with no gradient by nature.
        let floatRows = ElementwiseTable.rows.filter { if case .float = $0.types { return true }; if case .numeric = $0.types { return true }; return false }
        let missing = floatRows.map(\.name).filter { ElementwiseGradients.rules[$0] == nil }
        #expect(missing == ["LeakyReluGrad"], "rows without a gradient rule: \(missing)")
        #expect(checked.count >= 30, "\(checked)")
    }
}
