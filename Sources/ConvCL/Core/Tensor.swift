/// The element type of a tensor: float32 for the network's values, int64 and bool where ONNX
/// graphs need them (indices, shapes, masks).
public enum DataType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case float32, int64, bool

    /// Bytes per element on a device (a bool is one byte, 0 or 1).
    public var byteSize: Int {
        switch self {
        case .float32: 4
        case .int64: 8
        case .bool: 1
        }
    }

    /// The OpenCL C type of an element.
    var openCLType: String {
        switch self {
        case .float32: "float"
        case .int64: "long"
        case .bool: "uchar"
        }
    }

    public var description: String { rawValue }
}

/// Values in host memory, in row-major order, of one of the data types.
public enum TensorData: Sendable, Equatable {
    case float32([Float])
    case int64([Int64])
    case bool([Bool])

    public var dataType: DataType {
        switch self {
        case .float32: .float32
        case .int64: .int64
        case .bool: .bool
        }
    }

    /// The number of values.
    public var count: Int {
        switch self {
        case .float32(let values): values.count
        case .int64(let values): values.count
        case .bool(let values): values.count
        }
    }

    /// The values as Doubles (bool as 0 or 1; int64 exactly up to 2^53), for the reference.
    public var doubles: [Double] {
        switch self {
        case .float32(let values): values.map(Double.init)
        case .int64(let values): values.map(Double.init)
        case .bool(let values): values.map { $0 ? 1 : 0 }
        }
    }
}

/// An immutable tensor in row-major (C) order: float32 by default, int64 or bool where ONNX graphs
/// need them. Convolution and pooling use NCHW (2-D) or NCL (1-D) float32.
///
/// A tensor lives where its backend made it: the OpenCL backend's tensors are device buffers, read
/// to the host only by `values()` (or `data()`). Passing a tensor to another backend is an error.
public struct Tensor: Sendable, CustomStringConvertible {
    /// The size of each dimension.
    public let shape: [Int]
    /// The element type.
    public let dataType: DataType
    let storage: Storage

    enum Storage: Sendable {
        /// Values in host memory (the CPU reference backend).
        case host(TensorData)
        /// A device buffer of an OpenCL backend.
        case device(DeviceStorage)
    }

    init(shape: [Int], dataType: DataType, storage: Storage) {
        self.shape = shape
        self.dataType = dataType
        self.storage = storage
    }

    /// A host tensor of `data` (its data type is the data's).
    init(shape: [Int], host data: TensorData) {
        self.init(shape: shape, dataType: data.dataType, storage: .host(data))
    }

    /// The number of elements: the product of the shape.
    public var count: Int { shape.reduce(1, *) }

    /// The values in row-major order, whatever the data type. For a device tensor this copies
    /// from the device, after the operations that produce it have finished.
    public func data() throws -> TensorData {
        switch storage {
        case .host(let data): return data
        case .device(let device):
            if let values = device.hostCopy { return values }
            switch dataType {
            case .float32: return .float32(try device.backend.read(count: count, from: device.buffer))
            case .int64: return .int64(try device.backend.read(count: count, from: device.buffer))
            case .bool:
                let bytes: [UInt8] = try device.backend.read(count: count, from: device.buffer)
                return .bool(bytes.map { $0 != 0 })
            }
        }
    }

    /// The float32 values in row-major order (see `data()` for the other types).
    /// - Throws: `ConvCLError.invalidArgument` when the tensor is not float32.
    public func values() throws -> [Float] {
        guard case .float32(let values) = try checked(.float32).data() else { fatalError("unreachable: checked type") }
        return values
    }

    /// The int64 values in row-major order.
    /// - Throws: `ConvCLError.invalidArgument` when the tensor is not int64.
    public func int64Values() throws -> [Int64] {
        guard case .int64(let values) = try checked(.int64).data() else { fatalError("unreachable: checked type") }
        return values
    }

    /// The bool values in row-major order.
    /// - Throws: `ConvCLError.invalidArgument` when the tensor is not bool.
    public func boolValues() throws -> [Bool] {
        guard case .bool(let values) = try checked(.bool).data() else { fatalError("unreachable: checked type") }
        return values
    }

    /// This tensor, when its data type is `type`.
    func checked(_ type: DataType, operation: String = "values", argument: String = "tensor") throws -> Tensor {
        guard dataType == type else {
            throw ConvCLError.invalidArgument(
                operation: operation, argument: argument, reason: "expected a \(type) tensor, got \(self)")
        }
        return self
    }

    /// The same values with another shape of the same element count; no copy is made.
    /// - Throws: `ConvCLError.invalidArgument` when the counts differ.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        try validateTensorData(shape: newShape, valueCount: count, operation: "reshape")
        return Tensor(shape: newShape, dataType: dataType, storage: storage)
    }

    /// Whether forms derived from this tensor (a convolution's packed filters) are kept with it:
    /// it was uploaded, or derived from one that was, and no kernel writes it.
    var keepsDerivedForms: Bool {
        guard case .device(let storage) = storage else { return false }
        return storage.derived != nil
    }

    public var description: String {
        let type = dataType == .float32 ? "" : ", \(dataType)"
        switch storage {
        case .host: return "Tensor(\(shape)\(type), host)"
        case .device(let device): return "Tensor(\(shape)\(type), \(device.backend.device.name))"
        }
    }
}

/// The device side of a tensor: its buffer and the backend that made it.
final class DeviceStorage: Sendable {
    let buffer: CLBuffer
    let backend: OpenCLBackend
    /// The values, where the host keeps them too (a model's constants): reading them then waits
    /// for nothing. A read of the buffer waits for every kernel enqueued before it, so a shape or
    /// axes input read back from the device would stall the queue at every Reshape.
    let hostCopy: TensorData?
    /// For a tensor no kernel writes after it is made (one uploaded from the host, or a form
    /// derived from one): the forms of it that operations prepare (a convolution's packed filters),
    /// by what they are, made once and released with it; nil for a kernel's result.
    let derived: Locked<[String: Tensor]>?

    init(buffer: CLBuffer, backend: OpenCLBackend, hostCopy: TensorData? = nil, keepsDerived: Bool = false) {
        self.buffer = buffer
        self.backend = backend
        self.hostCopy = hostCopy
        derived = keepsDerived ? Locked([:]) : nil
    }

    /// The buffer goes back to the backend's pool for the next tensor of its size.
    deinit { backend.recycle(buffer) }
}

/// The element count of `shape`, or nil when the product overflows `Int`.
func elementCount(_ shape: [Int]) -> Int? {
    var count = 1
    for dimension in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
        if overflow { return nil }
        count = product
    }
    return count
}

/// Checks that a tensor of `shape` can be made: no negative dimension, and at most `Int32.max`
/// elements (the kernels index with 32 bits), counted without overflow; every primitive's outputs
/// pass it before anything is allocated, so that a model's shapes cannot ask for terabytes.
/// - Returns: the element count.
@discardableResult
func checkedElementCount(_ shape: [Int], operation: String, argument: String = "shape") throws -> Int {
    if let negative = shape.first(where: { $0 < 0 }) {
        throw ConvCLError.invalidArgument(operation: operation, argument: argument, reason: "\(shape) has a negative dimension \(negative)")
    }
    guard let count = elementCount(shape), count <= Int(Int32.max) else {
        throw ConvCLError.invalidArgument(
            operation: operation, argument: argument,
            reason: "\(shape) holds more than \(Int32.max) elements (the kernels index with 32 bits)")
    }
    return count
}

/// Checks that `values` fills `shape`; every backend's tensor constructor uses it.
func validateTensorData(shape: [Int], valueCount: Int, operation: String = "tensor") throws {
    if let negative = shape.first(where: { $0 < 0 }) {
        throw ConvCLError.invalidArgument(
            operation: operation, argument: "shape", reason: "\(shape) has a negative dimension \(negative)")
    }
    guard let count = elementCount(shape) else {
        throw ConvCLError.invalidArgument(operation: operation, argument: "shape", reason: "\(shape) has too many elements")
    }
    if count != valueCount {
        throw ConvCLError.invalidArgument(
            operation: operation, argument: "values",
            reason: "\(valueCount) values given for shape \(shape), which holds \(count)")
    }
}
