/// How ONNX Resize maps an output coordinate back onto the input axis
/// (`coordinate_transformation_mode`). With `scale` the axis's scale (given, or output ÷ input
/// size when sizes are given), x an output index, n the input size and m the output size:
public enum ResizeCoordinates: String, Sendable, CaseIterable {
    /// (x + 0.5) / scale − 0.5: pixel centres aligned (ONNX's default; PyTorch's
    /// `align_corners=False`).
    case halfPixel = "half_pixel"
    /// As `halfPixel`, except that a one-element output takes input coordinate 0 (PyTorch's
    /// `align_corners=False` exported by older exporters).
    case pytorchHalfPixel = "pytorch_half_pixel"
    /// x · (n − 1) / (m − 1), or 0 when m = 1: the corner pixels aligned (`align_corners=True`).
    case alignCorners = "align_corners"
    /// x / scale.
    case asymmetric
    /// `halfPixel` with the result centred when the scale is not exactly m / n.
    case halfPixelSymmetric = "half_pixel_symmetric"
}

/// How nearest-neighbour Resize rounds the input coordinate (`nearest_mode`).
public enum ResizeRounding: String, Sendable, CaseIterable {
    /// To the nearest index, halves down (ONNX's default).
    case roundPreferFloor = "round_prefer_floor"
    /// To the nearest index, halves up.
    case roundPreferCeil = "round_prefer_ceil"
    case floor
    case ceil
}

/// The interpolation of ONNX Resize.
public enum ResizeMode: Sendable, Hashable {
    /// The input element nearest the mapped coordinate (clamped into the input).
    case nearest(ResizeRounding)
    /// Linear along each resized axis (bilinear in 2-D, and so on), the coordinate clamped into the
    /// input (edge values beyond it), as onnxruntime and PyTorch do.
    case linear
}

/// ONNX Resize (opset 13–19) in its nearest and linear modes: each output size is ⌊input · scale⌋,
/// or given. Axes whose scale is 1 are copied.
public struct ResizeDescriptor: Sendable, Hashable {
    public var mode: ResizeMode
    public var coordinates: ResizeCoordinates
    /// A scale per axis (> 0): the output sizes are ⌊input · scale⌋ unless `sizes` are given, and
    /// the coordinate formulas use these scales.
    public var scales: [Double]?
    /// An output size per axis (> 0). Alone, each axis's scale is size / input size; with
    /// `scales`, they set the sizes and the scales the coordinates (ONNX's
    /// keep_aspect_ratio_policy: one scale for several axes, sizes rounded from it).
    public var sizes: [Int]?

    public init(mode: ResizeMode = .nearest(.roundPreferFloor), coordinates: ResizeCoordinates = .halfPixel, scales: [Double]? = nil, sizes: [Int]? = nil) {
        self.mode = mode
        self.coordinates = coordinates
        self.scales = scales
        self.sizes = sizes
    }
}

/// Where output index x of one resized axis reads: the two input indices and the weight of the
/// second (nearest: the same index twice and weight 0).
struct ResizeTap: Equatable {
    var lower: Int
    var upper: Int
    var weight: Double
}

extension ResizeDescriptor {
    /// The output shape and each axis's scale.
    func geometry(_ shape: [Int], operation: String) throws -> (output: [Int], scales: [Double]) {
        func fail(_ argument: String, _ reason: String) -> ConvCLError {
            .invalidArgument(operation: operation, argument: argument, reason: reason)
        }
        switch (scales, sizes) {
        case (let scales?, nil):
            guard scales.count == shape.count, scales.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw fail("scales", "expected \(shape.count) finite values > 0 for shape \(shape), got \(scales)")
            }
            let output = zip(shape, scales).map { Int((Double($0) * $1).rounded(.down)) }
            guard output.allSatisfy({ $0 > 0 }) || shape.contains(0) else {
                throw fail("scales", "\(scales) leave an empty output \(output) for shape \(shape)")
            }
            return (output, scales)
        case (let given, let sizes?):
            guard sizes.count == shape.count, sizes.allSatisfy({ $0 > 0 }) else {
                throw fail("sizes", "expected \(shape.count) values > 0 for shape \(shape), got \(sizes)")
            }
            for (axis, (n, m)) in zip(shape, sizes).enumerated() where n == 0 && m != 0 {
                throw fail("sizes", "axis \(axis) is empty in \(shape) and cannot grow to \(m)")
            }
            if let given {
                guard given.count == shape.count, given.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                    throw fail("scales", "expected \(shape.count) finite values > 0 for shape \(shape), got \(given)")
                }
                return (sizes, given)
            }
            return (sizes, zip(shape, sizes).map { $0 == 0 ? 1 : Double($1) / Double($0) })
        case (nil, nil):
            throw fail("scales", "give scales, sizes, or both")
        }
    }

    /// The input coordinate that output index `x` maps to (ONNX's formulas, in Double). The
    /// resized length in them is n · scale, as ONNX's reference has it: with scales that do not
    /// give a whole size (4 · 0.6) it is not the output size m (onnx/onnx#2462).
    func coordinate(_ x: Int, input n: Int, output m: Int, scale: Double) -> Double {
        let x = Double(x), product = Double(n) * scale
        let resized = abs(product - Double(m)) <= 1e-6 * Double(m) ? Double(m) : product
        switch coordinates {
        case .halfPixel: return (x + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return resized > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners: return resized == 1 ? 0 : x * Double(n - 1) / (resized - 1)
        case .asymmetric: return x / scale
        case .halfPixelSymmetric:
            let adjustment = Double(m) / (scale * Double(n))
            return Double(n) / 2 * (1 - adjustment) + (x + 0.5) / scale - 0.5
        }
    }

    /// The taps of every output index of an axis of `n` inputs resized to `m`.
    func taps(input n: Int, output m: Int, scale: Double) -> [ResizeTap] {
        (0..<m).map { x in
            let c = coordinate(x, input: n, output: m, scale: scale)
            switch mode {
            case .nearest(let rounding):
                let lower = c.rounded(.down)
                let index: Double =
                    switch rounding {
                    case .floor: lower
                    case .ceil: c.rounded(.up)
                    case .roundPreferFloor: c - lower == 0.5 ? lower : c.rounded()
                    case .roundPreferCeil: c - lower == 0.5 ? lower + 1 : c.rounded()
                    }
                let i = Int(min(max(index, 0), Double(n - 1)))
                return ResizeTap(lower: i, upper: i, weight: 0)
            case .linear:
                let clamped = min(max(c, 0), Double(n - 1))
                let lower = Int(clamped.rounded(.down))
                return ResizeTap(lower: lower, upper: min(lower + 1, n - 1), weight: clamped - Double(lower))
            }
        }
    }
}

/// ONNX Resize on float32, one axis at a time: nearest picks, linear blends two neighbours, each
/// from a table of taps the host computes per axis (so the device and the reference share ONNX's
/// coordinate formulas, and the kernel only gathers). Multilinear interpolation is the product of
/// the axes' linear ones, so axis by axis gives the same values up to float32 rounding.
struct Resize: Primitive {
    let descriptor: ResizeDescriptor
    var name: String { "Resize" }

    var description: String {
        let d = descriptor
        let mode = switch d.mode {
        case .linear: "linear"
        case .nearest(let rounding): "nearest \(rounding.rawValue)"
        }
        let target = d.scales.map { "scales \($0)" } ?? d.sizes.map { "sizes \($0)" } ?? ""
        return "\(name)(\(mode), \(d.coordinates.rawValue), \(target))"
    }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.count == 1, inputs[0].dataType == .float32 else {
            throw ConvCLError.invalidArgument(operation: name, argument: "inputs", reason: "takes one float32 tensor, got \(inputs)")
        }
        return [TensorType(try descriptor.geometry(inputs[0].shape, operation: name).output)]
    }

    /// The axes that change, in order, each with its sizes and taps.
    func passes(_ shape: [Int]) throws -> [(axis: Int, n: Int, m: Int, taps: [ResizeTap])] {
        let (output, scales) = try descriptor.geometry(shape, operation: name)
        return (0..<shape.count).compactMap { axis in
            let (n, m) = (shape[axis], output[axis])
            guard n > 0, m > 0, scales[axis] != 1 || n != m else { return nil }
            return (axis, n, m, descriptor.taps(input: n, output: m, scale: scales[axis]))
        }
    }

    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        guard outputs[0].count > 0 else { return [.float32([])] }
        var shape = types[0].shape
        var x = inputs[0].doubles
        for pass in try passes(shape) {
            let outer = shape[..<pass.axis].reduce(1, *), inner = shape[(pass.axis + 1)...].reduce(1, *)
            var y = [Double](repeating: 0, count: outer * pass.m * inner)
            for o in 0..<outer {
                for (j, tap) in pass.taps.enumerated() {
                    for k in 0..<inner {
                        let a = x[(o * pass.n + tap.lower) * inner + k], b = x[(o * pass.n + tap.upper) * inner + k]
                        y[(o * pass.m + j) * inner + k] = a + (b - a) * tap.weight
                    }
                }
            }
            (x, shape[pass.axis]) = (y, pass.m)
        }
        return [.float32(x.map { Float($0) })]
    }

    static let program = ProgramSpec("resize")

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        var current = inputs[0]
        guard outputs[0].count > 0 else { return [try backend.output(shape: outputs[0].shape, operation: name).0] }
        let all = try passes(current.shape)
        // No axis changes: the input itself (tensors are immutable; views share storage too).
        guard !all.isEmpty else { return [current] }
        for pass in all {
            var shape = current.shape
            let inner = shape[(pass.axis + 1)...].reduce(1, *)
            shape[pass.axis] = pass.m
            let (result, y) = try backend.output(shape: shape, operation: name)
            let count = try int32Count(shape, name)
            let indices = try backend.tensor(shape: [2 * pass.m], int64Values: pass.taps.flatMap { [Int64($0.lower), Int64($0.upper)] })
            let weights = try backend.tensor(shape: [pass.m], values: pass.taps.map { Float($0.weight) })
            try backend.launch(
                Self.program, kernel: "resize_axis",
                arguments: [
                    .buffer(y), .buffer(try backend.buffer(of: current, name, "input")), .buffer(try backend.anyBuffer(of: indices, name, "taps")),
                    .buffer(try backend.buffer(of: weights, name, "weights")), .int32(Int32(count)), .int32(try int32(pass.n, name)),
                    .int32(try int32(pass.m, name)), .int32(try int32(inner, name)),
                ],
                globalSize: [GEMMTile.roundUp(count, 64)], localSize: [64])
            current = result
        }
        return [current]
    }

    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] { [Self.program] }
}

extension Backend {
    /// ONNX Resize, nearest or linear, over every axis of a float32 tensor (NCHW images resize
    /// their last two; give scale 1 or the same size for the others).
    public func resize(_ input: Tensor, descriptor: ResizeDescriptor) throws -> Tensor {
        try runSingle(Resize(descriptor: descriptor), [input])
    }
}

extension Resize {
    /// Random cases for the checks: each mode, rounding and coordinate mode, up and down, by scales
    /// and by sizes, on one or two resized axes.
    static let registryEntry = OperatorRegistry.Entry(name: "Resize") { random in
        func draw(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
        let modes: [ResizeMode] = [.linear] + ResizeRounding.allCases.map { .nearest($0) }
        return (0..<6).map { index in
            let shape = [draw(1...2), draw(1...3), draw(1...9), draw(1...9)]
            var descriptor = ResizeDescriptor(
                mode: modes[index % modes.count], coordinates: ResizeCoordinates.allCases[draw(0...ResizeCoordinates.allCases.count - 1)])
            if index % 2 == 0 {
                let choices = [0.5, 0.6, 1, 1.5, 2, 3]
                descriptor.scales = [1, 1] + (0..<2).map { axis in
                    let allowed = choices.filter { Double(shape[2 + axis]) * $0 >= 1 }  // at least one element
                    return allowed[draw(0...allowed.count - 1)]
                }
            } else {
                descriptor.sizes = [shape[0], shape[1], draw(1...13), draw(1...13)]
            }
            return OperatorRegistry.finiteSample(Resize(descriptor: descriptor), [shape], &random)
        }
    }
}
