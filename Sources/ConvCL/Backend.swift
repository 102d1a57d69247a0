/// A place where ConvCL's operations run: an OpenCL device (`OpenCLBackend`) or plain Swift on
/// the CPU (`ReferenceBackend`). Both take the same descriptors and validate them the same way,
/// so one program, or one test, runs unchanged on either.
public protocol Backend: AnyObject, Sendable {
    /// A short description: the device name, or "CPU reference".
    var name: String { get }

    /// Makes a tensor of this backend from row-major values.
    /// - Throws: `ConvCLError.invalidArgument` when `values.count` does not fill `shape`.
    func tensor(shape: [Int], values: [Float]) throws -> Tensor

    /// 2-D convolution (cross-correlation by default) of `input` [N, C, H, W] with `weight`
    /// [K, C/groups, R, S], plus `bias` [K] if given; the result is [N, K, OH, OW].
    func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor?, descriptor: Conv2DDescriptor) throws -> Tensor
}
