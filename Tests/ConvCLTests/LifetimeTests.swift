import Foundation
import Testing

@testable import ConvCL

@Suite("OpenCL object lifetimes")
struct LifetimeTests {
    @Test("every wrapper object is released when its last reference goes", .needsOpenCL)
    func deterministicRelease() throws {
        weak var context: CLContext?
        weak var queue: CLCommandQueue?
        weak var buffer: CLBuffer?
        weak var program: CLProgram?
        weak var kernel: CLKernel?
        weak var event: CLEvent?
        weak var backendReference: OpenCLBackend?
        try {
            let backend = try OpenCLBackend(device: .index(0), cache: .disabled, kernelTier: .specialized)
            let x = try backend.tensor(shape: [1, 1, 4, 4], values: (0..<16).map(Float.init))
            let y = try backend.conv2d(
                x, weight: try backend.tensor(shape: [1, 1, 2, 2], values: [1, 1, 1, 1]), bias: nil, descriptor: .init())
            #expect(try y.values() == [10, 14, 18, 26, 30, 34, 42, 46, 50])
            let ownProgram = try CLProgram(
                source: "__kernel void twice(__global float* x) { x[get_global_id(0)] *= 2.0f; }",
                name: "twice", options: "", context: backend.context)
            let ownKernel = try CLKernel(program: ownProgram, name: "twice")
            guard case .device(let storage) = x.storage else { throw ConvCLError.invalidArgument(
                operation: "test", argument: "x", reason: "not a device tensor") }
            try ownKernel.setArguments([.buffer(storage.buffer)])
            let ownEvent = try backend.queue.enqueue(ownKernel, globalSize: [16])
            #expect(try ownEvent.deviceSeconds() >= 0)
            #expect(try x.values() == (0..<16).map { Float(2 * $0) })
            (context, queue, buffer, program, kernel, event, backendReference) =
                (backend.context, backend.queue, storage.buffer, ownProgram, ownKernel, ownEvent, backend)
        }()
        #expect(backendReference == nil, "the backend is released")
        #expect(context == nil && queue == nil, "its context and queue are released")
        #expect(buffer == nil, "tensor buffers are released with their tensors")
        #expect(program == nil && kernel == nil && event == nil, "programs, kernels and events are released")
    }

    @Test("a buffer larger than the device allows is a clear error naming the size", .needsOpenCL)
    func oversizedAllocation() throws {
        let backend = try openCLBackend()
        let floats = backend.device.maxAllocationBytes / 4 + 1
        do {
            _ = try backend.allocate(Float.self, count: floats, operation: "test")
            Issue.record("allocated \(floats) floats on a device with max allocation \(backend.device.maxAllocationBytes)")
        } catch let error as OpenCLError {
            #expect(error.code == .invalidBufferSize)
            #expect(error.description.contains("\(floats * 4) bytes requested"), "\(error)")
            #expect(error.description.contains("\(backend.device.maxAllocationBytes)"), "\(error)")
        }

        // Through the public API: a 1×1 input padded so that the output outgrows the device. Where
        // the device allows 2^31 floats or more in one buffer (8 GiB: PoCL on a 24 GiB machine), the
        // output meets the kernels' 32-bit element limit first, which is refused by name too.
        let side = Int(Double(backend.device.maxAllocationBytes / 4).squareRoot()) + 2
        let x = try backend.tensor(shape: [1, 1, 1, 1], values: [1])
        let w = try backend.tensor(shape: [2, 1, 1, 1], values: [1, 2])
        let descriptor = Conv2DDescriptor(padding: .explicit([side / 2, side / 2, side / 2, side / 2]))
        let outputElements = 2 * (side / 2 * 2 + 1) * (side / 2 * 2 + 1)
        let expected = outputElements > Int(Int32.max)
            ? "[1, 2, \(side / 2 * 2 + 1), \(side / 2 * 2 + 1)] holds more than \(Int32.max) elements"
            : "\(outputElements * 4) bytes requested"
        #expect {
            try backend.conv2d(x, weight: w, bias: nil, descriptor: descriptor)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }
}
