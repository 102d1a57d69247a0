/// An immutable float32 tensor in row-major (C) order; convolution and pooling use NCHW
/// (2-D) or NCL (1-D).
///
/// A tensor lives where its backend made it: the OpenCL backend's tensors are device buffers, read
/// to the host only by `values()`. Passing a tensor to another backend is an error.
public struct Tensor: Sendable, CustomStringConvertible {
    /// The size of each dimension.
    public let shape: [Int]
    let storage: Storage

    enum Storage: Sendable {
        /// Values in host memory (the CPU reference backend).
        case host([Float])
        /// A device buffer of an OpenCL backend.
        case device(DeviceStorage)
    }

    init(shape: [Int], storage: Storage) {
        self.shape = shape
        self.storage = storage
    }

    /// The number of elements: the product of the shape.
    public var count: Int { shape.reduce(1, *) }

    /// The values in row-major order. For a device tensor this copies from the device, after the
    /// operations that produce it have finished.
    public func values() throws -> [Float] {
        switch storage {
        case .host(let values): values
        case .device(let device): try device.backend.read(count: count, from: device.buffer)
        }
    }

    /// The same values with another shape of the same element count; no copy is made.
    /// - Throws: `ConvCLError.invalidArgument` when the counts differ.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        try validateTensorData(shape: newShape, valueCount: count, operation: "reshape")
        return Tensor(shape: newShape, storage: storage)
    }

    public var description: String {
        switch storage {
        case .host: "Tensor(\(shape), host)"
        case .device(let device): "Tensor(\(shape), \(device.backend.device.name))"
        }
    }
}

/// An immutable int64 tensor: the argmax indices of max pooling.
public struct IndexTensor: Sendable, CustomStringConvertible {
    public let shape: [Int]
    let storage: Storage

    enum Storage: Sendable {
        case host([Int64])
        case device(DeviceStorage)
    }

    /// The number of elements: the product of the shape.
    public var count: Int { shape.reduce(1, *) }

    /// The indices in row-major order, copied from the device if they live there.
    public func values() throws -> [Int64] {
        switch storage {
        case .host(let values): values
        case .device(let device): try device.backend.read(count: count, from: device.buffer)
        }
    }

    public var description: String { "IndexTensor(\(shape))" }
}

/// The device side of a tensor: its buffer and the backend that made it.
final class DeviceStorage: Sendable {
    let buffer: CLBuffer
    let backend: OpenCLBackend

    init(buffer: CLBuffer, backend: OpenCLBackend) {
        self.buffer = buffer
        self.backend = backend
    }

    /// The buffer goes back to the backend's pool for the next tensor of its size.
    deinit { backend.recycle(buffer) }
}

/// Checks that `values` fills `shape`; every backend's tensor constructor uses it.
func validateTensorData(shape: [Int], valueCount: Int, operation: String = "tensor") throws {
    if let negative = shape.first(where: { $0 < 0 }) {
        throw ConvCLError.invalidArgument(
            operation: operation, argument: "shape", reason: "\(shape) has a negative dimension \(negative)")
    }
    let (count, overflow) = shape.reduce((1, false)) { partial, dimension in
        let product = partial.0.multipliedReportingOverflow(by: dimension)
        return (product.partialValue, partial.1 || product.overflow)
    }
    if overflow {
        throw ConvCLError.invalidArgument(operation: operation, argument: "shape", reason: "\(shape) has too many elements")
    }
    if count != valueCount {
        throw ConvCLError.invalidArgument(
            operation: operation, argument: "values",
            reason: "\(valueCount) values given for shape \(shape), which holds \(count)")
    }
}
