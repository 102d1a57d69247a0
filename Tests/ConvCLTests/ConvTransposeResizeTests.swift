import Foundation
import Testing

@testable import ConvCL

/// Fixed cases with the answers ONNX's operator documentation gives (its backend node tests), on
/// both backends; the registry's random cases check the rest against the reference.
@Suite("ConvTranspose and Resize give ONNX's documented answers")
struct ConvTransposeResizeTests {
    /// The 3×3 input 0…8 and a [1, 2, 3, 3] weight of ones (ONNX's ConvTranspose examples).
    func ramp(_ backend: any Backend) throws -> (Tensor, Tensor) {
        (try backend.tensor(shape: [1, 1, 3, 3], values: (0..<9).map(Float.init)),
         try backend.tensor(shape: [1, 2, 3, 3], values: [Float](repeating: 1, count: 18)))
    }

    @Test("ConvTranspose: stride 1, and output_shape with strides [3, 2] (a size past the full one)")
    func convTranspose() throws {
        for backend in try allBackends() {
            let (x, w) = try ramp(backend)
            let plane: [Float] = [0, 1, 3, 3, 2, 3, 8, 15, 12, 7, 9, 21, 36, 27, 15, 9, 20, 33, 24, 13, 6, 13, 21, 15, 8]
            let y = try backend.convTranspose(x, weight: w)
            #expect(y.shape == [1, 2, 5, 5])
            #expect(try y.values() == plane + plane, "\(backend.name)")
            // convtranspose_output_shape: the full size is 9 × 7, so a row and a column of zeros follow.
            let shaped = try backend.convTranspose(x, weight: w, descriptor: .init(stride: [3, 2], outputShape: [10, 8]))
            let rows: [[Float]] = [[0, 0, 1, 1, 3, 2, 2, 0], [3, 3, 7, 4, 9, 5, 5, 0], [6, 6, 13, 7, 15, 8, 8, 0]]
            let expected = (rows.flatMap { row in [row, row, row].flatMap { $0 } } + [Float](repeating: 0, count: 8))
            #expect(shaped.shape == [1, 2, 10, 8])
            #expect(try shaped.values() == expected + expected, "\(backend.name)")
            // The same through pads [0, 0, 1, 1] and output_padding [1, 1] (convtranspose_pads is its twin).
            let padded = try backend.convTranspose(
                x, weight: w, descriptor: .init(stride: [3, 2], padding: .explicit([0, 0, 0, 0]), outputPadding: [1, 1]))
            #expect(try padded.values() == expected + expected, "\(backend.name)")
            // Three past the full size: the pads are [−1, −2] on each axis (ONNX's reference: begin
            // total − total // 2), so a zero row and column lead and two of each follow.
            let wider = try backend.convTranspose(x, weight: w, descriptor: .init(stride: [3, 2], outputShape: [12, 10]))
            let zeroRow = [Float](repeating: 0, count: 10)
            let framed = zeroRow + rows.flatMap { row in [[Float]](repeating: [0] + row.dropLast() + [0, 0], count: 3).flatMap { $0 } } + zeroRow + zeroRow
            #expect(wider.shape == [1, 2, 12, 10])
            #expect(try wider.values() == framed + framed, "\(backend.name)")
        }
    }

    @Test("ConvTranspose 1-D with groups, dilation and a bias: PyTorch's conv_transpose1d")
    func convTranspose1D() throws {
        for backend in try allBackends() {
            // Two groups of one channel, dilation 2: y_c[o] = bias_c + Σ_k x_c[o − 2k]·w_c[k], for
            // o in 0..<5 (torch.nn.functional.conv_transpose1d(x, w, bias, groups=2, dilation=2)).
            let x = try backend.tensor(shape: [1, 2, 3], values: [1, 2, 3, 4, 5, 6])
            let w = try backend.tensor(shape: [2, 1, 2], values: [1, 10, 100, 1000])
            let bias = try backend.tensor(shape: [2], values: [0.5, -1])
            let y = try backend.convTranspose(x, weight: w, bias: bias, descriptor: .init(dilation: [2], groups: 2))
            #expect(y.shape == [1, 2, 5])
            #expect(try y.values() == [1.5, 2.5, 13.5, 20.5, 30.5, 399, 499, 4599, 4999, 5999], "\(backend.name)")
        }
    }

    @Test("Resize: nearest and linear, up and down, with ONNX's coordinate modes")
    func resize() throws {
        for backend in try allBackends() {
            let square = try backend.tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
            // resize_upsample_scales_nearest: scales [1, 1, 2, 3].
            let nearest = try backend.resize(square, descriptor: .init(scales: [1, 1, 2, 3]))
            #expect(nearest.shape == [1, 1, 4, 6])
            #expect(try nearest.values() == [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4], "\(backend.name)")
            // resize_upsample_scales_linear (half_pixel) and resize_upsample_scales_linear_align_corners.
            let linear = try backend.resize(square, descriptor: .init(mode: .linear, scales: [1, 1, 2, 2])).values()
            let half: [Float] = [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]
            #expect(zip(linear, half).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(backend.name): \(linear)")
            let corners = try backend.resize(square, descriptor: .init(mode: .linear, coordinates: .alignCorners, scales: [1, 1, 2, 2])).values()
            let aligned: [Float] = [1, 4 / 3.0, 5 / 3.0, 2, 5 / 3.0, 2, 7 / 3.0, 8 / 3.0, 7 / 3.0, 8 / 3.0, 3, 10 / 3.0, 3, 10 / 3.0, 11 / 3.0, 4]
            #expect(zip(corners, aligned).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(backend.name): \(corners)")
            // resize_downsample_scales_nearest and _linear: [[1, 2, 3, 4], [5, 6, 7, 8]] at 0.6.
            let wide = try backend.tensor(shape: [1, 1, 2, 4], values: (1...8).map(Float.init))
            #expect(try backend.resize(wide, descriptor: .init(scales: [1, 1, 0.6, 0.6])).values() == [1, 3], "\(backend.name)")
            let down = try backend.resize(wide, descriptor: .init(mode: .linear, scales: [1, 1, 0.6, 0.6])).values()
            #expect(zip(down, [2.6666665, 4.3333331] as [Float]).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(backend.name): \(down)")
            // resize_downsample_scales_linear_align_corners: the resized length is 4 · 0.6 = 2.4, not
            // the output's 2 (ONNX's reference), so the second output reads x = 3 / 1.4.
            let cornersDown = try backend.resize(wide, descriptor: .init(mode: .linear, coordinates: .alignCorners, scales: [1, 1, 0.6, 0.6])).values()
            #expect(zip(cornersDown, [1, 3.142857] as [Float]).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(backend.name): \(cornersDown)")
            // Sizes with scales (keep_aspect_ratio_policy): sizes set the output, scales the coordinates.
            let kept = try backend.resize(wide, descriptor: .init(mode: .linear, scales: [1, 1, 0.5, 0.5], sizes: [1, 1, 1, 2])).values()
            #expect(kept == [3.5, 5.5], "\(backend.name): \(kept)")
            // resize_upsample_sizes_nearest_ceil_half_pixel on a 4×4 ramp to 8×8: rows 1 2 2 3 3 4 4 4 of index.
            let ramp = try backend.tensor(shape: [1, 1, 4, 4], values: (1...16).map(Float.init))
            let ceil = try backend.resize(ramp, descriptor: .init(mode: .nearest(.ceil), sizes: [1, 1, 8, 8])).values()
            let columns = [0, 1, 1, 2, 2, 3, 3, 3]
            #expect(ceil == columns.flatMap { r in columns.map { Float(r * 4 + $0 + 1) } }, "\(backend.name): \(ceil)")
        }
    }
}
