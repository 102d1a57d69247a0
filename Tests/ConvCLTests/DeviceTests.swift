import Foundation
import Testing

@testable import ConvCL

@Suite("Devices and backend selection")
struct DeviceTests {
    @Test("discovery lists devices with sane properties", .needsOpenCL)
    func discovery() throws {
        let devices = try Devices.list()
        #expect(!devices.isEmpty, "no OpenCL device found (is PoCL installed?)")
        for (position, device) in devices.enumerated() {
            #expect(device.index == position)
            #expect(!device.name.isEmpty && !device.platformName.isEmpty && !device.driverVersion.isEmpty)
            #expect(device.computeUnits > 0)
            #expect(device.globalMemoryBytes > 0 && device.maxAllocationBytes > 0)
            #expect(device.maxAllocationBytes <= device.globalMemoryBytes)
            #expect(device.maxWorkGroupSize > 0 && device.localMemoryBytes > 0)
            #expect(device.openCLVersion.major >= 1)
            #expect(device.openCLCVersion.hasPrefix("OpenCL C"))
            #expect(device.supportsFP16 == device.extensions.contains("cl_khr_fp16"))
            #expect(device.details.contains(device.name))
        }
    }

    @Test("CONVCL_DEVICE forms parse")
    func parsing() {
        #expect(DeviceSelector("") == .automatic)
        #expect(DeviceSelector("auto") == .automatic)
        #expect(DeviceSelector("2") == .index(2))
        #expect(DeviceSelector(" CPU ") == .cpu)
        #expect(DeviceSelector("gpu") == .gpu)
        #expect(DeviceSelector("reference") == .reference)
        #expect(DeviceSelector("EPYC") == .name("EPYC"))
        #expect(DeviceSelector("-1") == .index(-1))
    }

    @Test("each CONVCL_DEVICE form selects the device it names", .needsOpenCL)
    func selectionByEnvironment() throws {
        let devices = try Devices.list()
        let first = try #require(devices.first)
        func select(_ value: String) throws -> BackendSelection {
            try selectBackend(nil, cache: .disabled, environment: ["CONVCL_DEVICE": value])
        }
        let byIndex = try #require(try select("0").backend as? OpenCLBackend)
        #expect(byIndex.device == first)

        let automatic = try #require(try select("").backend as? OpenCLBackend)
        #expect(automatic.device == (devices.first { $0.kind == .gpu } ?? first))

        let nameSuffix = String(first.name.suffix(4)).lowercased()
        let byName = try #require(try select(nameSuffix).backend as? OpenCLBackend)
        #expect(byName.device.name.lowercased().contains(nameSuffix))

        for (form, kind) in [("cpu", DeviceInfo.Kind.cpu), ("gpu", .gpu)] {
            if let expected = devices.first(where: { $0.kind == kind }) {
                let backend = try #require(try select(form).backend as? OpenCLBackend)
                #expect(backend.device == expected)
            } else {
                #expect(throws: ConvCLError.self, "\(form) with no such device must be an error") { try select(form) }
            }
        }

        let reference = try select("reference")
        #expect(reference.backend is ReferenceBackend && !reference.isFallback)
        #expect(reference.reason.contains("CONVCL_DEVICE=reference"))
    }

    @Test("an index or name that matches nothing is an error, not a fallback", .needsOpenCL)
    func unmatchedRequests() throws {
        let count = try Devices.list().count
        for request in ["\(count)", "-1", "no-such-device-name"] {
            do {
                _ = try selectBackend(nil, cache: .disabled, environment: ["CONVCL_DEVICE": request])
                Issue.record("CONVCL_DEVICE=\(request) selected a backend")
            } catch let error as ConvCLError {
                guard case .deviceNotFound(let echoed, let reason) = error else {
                    Issue.record("unexpected error \(error)")
                    continue
                }
                #expect(echoed == request)
                #expect(reason.contains("the devices are"), "the error lists the devices: \(reason)")
                if request != "no-such-device-name" { #expect(reason.contains("out of range 0..<\(count)")) }
            }
        }
    }

    @Test("with no OpenCL platform, the default falls back to the CPU reference and says why")
    func fallbackWithoutPlatform() throws {
        let emptyVendors = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: emptyVendors) }
        let environment = ["OCL_ICD_VENDORS": emptyVendors.path, "CONVCL_DEVICE": ""]
        let devices = try runCLConv(["devices"], environment: environment)
        #expect(devices.status == 0, "stderr: \(devices.stderr)")
        #expect(devices.stdout.contains("No OpenCL devices."))
        #expect(devices.stdout.contains("default backend: CPU reference"))
        #expect(devices.stdout.contains("no usable OpenCL device"))
        #expect(devices.stderr.contains("using the CPU reference backend"), "the fallback is logged: \(devices.stderr)")

        let demo = try runCLConv(["demo"], environment: environment)
        #expect(demo.status == 0, "the main job still runs on the reference: \(demo.stderr)")

        let explicit = try runCLConv(["devices"], environment: ["OCL_ICD_VENDORS": emptyVendors.path, "CONVCL_DEVICE": "0"])
        #expect(explicit.status != 0, "an explicit index with no device must fail")
        #expect(explicit.stderr.contains("index 0 is out of range"), "stderr: \(explicit.stderr)")
    }
}
