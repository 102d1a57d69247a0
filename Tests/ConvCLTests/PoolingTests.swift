import Foundation
import Testing

@testable import ConvCL

@Suite("Pooling")
struct PoolingTests {
    @Test("max pooling 2×2/2 with PyTorch's indices; padding never wins")
    func maxPool2D() throws {
        for backend in try allBackends() {
            let x = try backend.tensor(
                shape: [1, 1, 4, 4],
                values: [1, 5, 2, 0,
                         3, 4, 8, 1,
                         -1, -2, -7, -3,
                         -4, -9, -5, -6])
            let (values, indices) = try backend.maxPoolWithIndices(x, descriptor: .init(kernel: [2, 2]))
            #expect(values.shape == [1, 1, 2, 2] && indices.shape == [1, 1, 2, 2])
            #expect(try values.values() == [5, 8, -1, -3], "\(backend.name)")
            #expect(try indices.int64Values() == [1, 6, 8, 11], "\(backend.name)")
            // An all-negative map with padding 1: every 3×3 window holds zeros of padding, which must not win.
            let negative = try backend.tensor(shape: [1, 1, 2, 2], values: [-3, -1, -4, -2])
            let padded = try backend.maxPoolWithIndices(
                negative, descriptor: .init(kernel: [3, 3], stride: [1, 1], padding: .explicit([1, 1, 1, 1])))
            #expect(try padded.values.values() == [-1, -1, -1, -1], "\(backend.name)")
            #expect(try padded.indices.int64Values() == [1, 1, 1, 1], "\(backend.name)")
        }
    }

    @Test("ceil mode and count_include_pad match PyTorch's answers in 1-D")
    func ceilModeAndDivisors() throws {
        for backend in try allBackends() {
            let x = try backend.tensor(shape: [1, 1, 5], values: [1, 2, 3, 4, 5])
            // torch.nn.functional.max_pool1d(x, 2, 2, ceil_mode=True) → [2, 4, 5]; avg → [1.5, 3.5, 5].
            let ceil = PoolDescriptor(kernel: [2], ceilMode: true)
            #expect(try backend.maxPool(x, descriptor: ceil).values() == [2, 4, 5], "\(backend.name)")
            #expect(try backend.averagePool(x, descriptor: ceil).values() == [1.5, 3.5, 5], "\(backend.name)")
            // Kernel 3, stride 2, pad 1, ceil: windows [-1, 2), [1, 4), [3, 6) where 5 is padding.
            var padded = PoolDescriptor(kernel: [3], stride: [2], padding: .explicit([1, 1]), ceilMode: true)
            #expect(try backend.averagePool(x, descriptor: padded).values() == [1.5, 3, 4.5], "\(backend.name)")
            padded.countIncludePad = true
            #expect(try backend.averagePool(x, descriptor: padded).values() == [1, 3, 3], "\(backend.name)")
            // Kernel 2, stride 2, pad 1, ceil on 5: a fourth window would start in the right padding → dropped.
            let dropped = PoolDescriptor(kernel: [2], padding: .explicit([1, 1]), ceilMode: true)
            let y = try backend.maxPoolWithIndices(x, descriptor: dropped)
            #expect(y.values.shape == [1, 1, 3])
            #expect(try y.values.values() == [1, 3, 5] && y.indices.int64Values() == [0, 2, 4], "\(backend.name)")
        }
    }

    @Test("ONNX's pads up to kernel − 1; a dilated window that holds no input")
    func padsUpToKernel() throws {
        for backend in try allBackends() {
            let x = try backend.tensor(shape: [1, 1, 3], values: [1, 2, 3])
            // Kernel 3, stride 1, pads 2 and 2 (onnxruntime's answers): windows from -2 to 2.
            let wide = PoolDescriptor(kernel: [3], stride: [1], padding: .explicit([2, 2]))
            #expect(try backend.maxPool(x, descriptor: wide).values() == [1, 2, 3, 3, 3], "\(backend.name)")
            #expect(try backend.averagePool(x, descriptor: wide).values() == [1, 1.5, 2, 2.5, 3], "\(backend.name)")
            // Kernel 2, dilation 3, pads 1 on 2 values: the one window's taps -1 and 2 both miss.
            let empty = PoolDescriptor(kernel: [2], padding: .explicit([1, 1]), dilation: [3])
            let pair = try backend.tensor(shape: [1, 1, 2], values: [4, 5])
            let (values, indices) = try backend.maxPoolWithIndices(pair, descriptor: empty)
            #expect(try values.values() == [-.infinity] && indices.int64Values() == [-1], "\(backend.name)")
            #expect(try backend.averagePool(pair, descriptor: empty).values()[0].isNaN, "\(backend.name)")
        }
    }

    @Test("NaN wins a max window; ties keep the first index")
    func nanAndTies() throws {
        for backend in try allBackends() {
            let x = try backend.tensor(shape: [1, 1, 6], values: [1, .nan, 3, 7, 7, -.infinity])
            let (values, indices) = try backend.maxPoolWithIndices(x, descriptor: .init(kernel: [3]))
            let v = try values.values()
            #expect(v[0].isNaN && v[1] == 7, "\(backend.name): \(v)")
            #expect(try indices.int64Values() == [1, 3], "\(backend.name)")
            let negatives = try backend.tensor(shape: [1, 1, 2], values: [-.infinity, -.infinity])
            let all = try backend.maxPoolWithIndices(negatives, descriptor: .init(kernel: [2]))
            #expect(try all.values.values() == [-.infinity] && all.indices.int64Values() == [0], "\(backend.name)")
        }
    }

    @Test("dilated 2-D average pooling; global average and global max pooling")
    func dilatedAndGlobal() throws {
        for backend in try allBackends() {
            let x = try backend.tensor(shape: [1, 2, 3, 3], values: (0..<18).map(Float.init))
            // Dilation 2 with kernel 2 takes the four corners of each 3×3 map.
            let corners = try backend.averagePool(x, descriptor: .init(kernel: [2, 2], stride: [1, 1], dilation: [2, 2]))
            #expect(try corners.values() == [4, 13], "\(backend.name)")
            let mean = try backend.globalAveragePool(x)
            #expect(mean.shape == [1, 2, 1, 1])
            #expect(try mean.values() == [4, 13], "\(backend.name)")
            let max = try backend.globalMaxPool(try x.reshaped([1, 2, 9]))
            #expect(max.shape == [1, 2, 1])
            #expect(try max.values() == [8, 17], "\(backend.name)")
        }
    }
}
