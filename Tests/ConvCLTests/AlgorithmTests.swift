import Foundation
import Testing

@testable import ConvCL

@Suite("Convolution algorithms and workspace")
struct AlgorithmTests {
    let input = [2, 16, 20, 18], weight = [24, 16, 3, 3]

    @Test("the plan names the algorithm and why; depthwise stays direct", .needsOpenCL)
    func plans() throws {
        let backend = try openCLBackend()
        let gemm = try backend.plan(input: input, weight: weight, bias: nil, descriptor: Conv2DDescriptor(padding: .sameUpper))
        #expect(gemm.algorithm == .im2colGEMM)
        #expect(gemm.workspaceBytes == 4 * 144 * (GEMMTile.roundUp(2 * 20 * 18, backend.gemmTile.n) + GEMMTile.roundUp(24, backend.gemmTile.m)))
        let depthwise = try backend.plan(input: input, weight: [16, 1, 3, 3], bias: nil, descriptor: Conv2DDescriptor(groups: 16))
        #expect(depthwise.algorithm == .direct && depthwise.workspaceBytes == 0)
        #expect(depthwise.reason.contains("1 filter(s) per group"), "\(depthwise.reason)")
        let long = try backend.plan(input: [4, 1, 4096], weight: [64, 1, 512], bias: nil, descriptor: Conv1DDescriptor(stride: 4))
        #expect(long.algorithm == .im2colGEMM)
    }

    @Test("an algorithm over the workspace limit is not chosen; the one that fits runs and is right", .needsOpenCL)
    func workspaceLimit() throws {
        let limited = try OpenCLBackend(device: .automatic, convolution: .init(workspaceLimit: 64 << 10))
        let plan = try limited.plan(input: input, weight: weight, bias: nil, descriptor: Conv2DDescriptor())
        #expect(plan.algorithm == .direct)
        #expect(plan.reason.contains("over the limit of 65536 bytes"), "\(plan.reason)")

        var random = TestRandom()
        let x = random.floats(input.reduce(1, *)), w = random.floats(weight.reduce(1, *))
        let reference = ReferenceBackend()
        let expected = try reference.conv2d(
            try reference.tensor(shape: input, values: x), weight: try reference.tensor(shape: weight, values: w),
            bias: nil, descriptor: .init())
        let actual = try limited.conv2d(
            try limited.tensor(shape: input, values: x), weight: try limited.tensor(shape: weight, values: w),
            bias: nil, descriptor: .init())
        try expectClose(actual, expected, "workspace-limited; seed \(random.seed)")

        // Forcing an algorithm that does not fit is an error before anything runs.
        let forced = try OpenCLBackend(device: .automatic, convolution: .init(workspaceLimit: 64 << 10, algorithm: .im2colGEMM))
        #expect {
            try forced.conv2d(
                try forced.tensor(shape: input, values: x), weight: try forced.tensor(shape: weight, values: w),
                bias: nil, descriptor: .init())
        } throws: { error in
            guard case ConvCLError.invalidArgument("conv2d", "algorithm", let reason) = error else { return false }
            return reason.contains("im2col-gemm needs") && reason.contains("limit of 65536 bytes")
        }
    }
}
